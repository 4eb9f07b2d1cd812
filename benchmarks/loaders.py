"""The comparison loaders of benchmarks/side_by_side.py, each run as its own process:

    python benchmarks/loaders.py pandas STUDY SQLITE_DB     # pandas read_csv + DataFrame.to_sql, same schema
    python benchmarks/loaders.py duckdb STUDY DUCKDB_FILE   # DuckDB read_csv into its own database file
    python benchmarks/loaders.py copy STUDY POSTGRES_URL    # psycopg 3 COPY into the same schema
    python benchmarks/loaders.py report-duckdb DUCKDB_FILE  # the report's headline counts in DuckDB SQL

Each prints one JSON line: the rows (or numbers) and the seconds of its own timer (without start-up).
Like benchmarks/baseline.py, the SQLite and PostgreSQL loaders write the very rows of the CSV files into
the schema of `jakreg init` (centre and patient ids turned into their primary keys, version 1), in one
transaction, with no validation, audit or derivation.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baseline import blank_defaults, learn_keys
from jakreg.model.sheets import SHEETS
from jakreg.store.tables import TABLE_FOR_SHEET


def _target_columns(spec: Any) -> list[str]:
    columns = list(spec.columns)
    if spec.name == "patients":
        columns[columns.index("centre")] = "centre_pk"
    elif "patient_id" in columns:
        columns[columns.index("patient_id")] = "patient_pk"
    return columns


def _key_column(spec: Any) -> str | None:
    if spec.name == "centres":
        return None
    return "centre" if spec.name == "patients" else "patient_id"


def load_pandas(study: Path, db: Path) -> int:
    import pandas as pd

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys=ON")
    centre_pk: dict[str, int] = {}
    patient_pk: dict[str, int] = {}
    total = 0
    for spec in SHEETS:
        path = study / f"{spec.name}.csv"
        if not path.exists():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        key = _key_column(spec)
        if key is not None:
            lookup = centre_pk if spec.name == "patients" else patient_pk
            frame[key] = frame[key].map(lookup)
        for i, value in blank_defaults(spec).items():
            frame[spec.columns[i]] = frame[spec.columns[i]].fillna(value)
        frame.columns = _target_columns(spec)
        frame["version"] = 1
        table = TABLE_FOR_SHEET[spec.name].__tablename__
        frame.to_sql(table, conn, if_exists="append", index=False, chunksize=10_000)
        total += len(frame)
        learn_keys(spec.name, conn.execute, centre_pk, patient_pk)
    conn.commit()
    conn.close()
    return total


def load_duckdb(study: Path, target: Path) -> int:
    import duckdb

    conn = duckdb.connect(str(target))
    total = 0
    conn.execute("BEGIN")
    for spec in SHEETS:
        path = study / f"{spec.name}.csv"
        if not path.exists():
            continue
        conn.execute(
            f'CREATE TABLE "{spec.name}" AS SELECT * FROM read_csv(?, header = true)', [str(path)]
        )
        row = conn.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone()
        total += int(row[0]) if row else 0
    conn.execute("COMMIT")
    conn.close()
    return total


def _csv_rows(path: Path) -> Iterator[list[str | None]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for cells in reader:
            yield [c if c != "" else None for c in cells]


def load_copy(study: Path, url: str) -> int:
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    centre_pk: dict[str, int] = {}
    patient_pk: dict[str, int] = {}
    total = 0
    with conn.transaction(), conn.cursor() as cur:
        for spec in SHEETS:
            path = study / f"{spec.name}.csv"
            if not path.exists():
                continue
            table = TABLE_FOR_SHEET[spec.name].__tablename__
            names = ", ".join(f'"{c}"' for c in [*_target_columns(spec), "version"])
            key_name = _key_column(spec)
            key = spec.columns.index(key_name) if key_name else None
            lookup = centre_pk if spec.name == "patients" else patient_pk
            defaults = {i: str(v) for i, v in blank_defaults(spec).items()}
            with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in _csv_rows(path):
                    for i, value in defaults.items():
                        if row[i] is None:
                            row[i] = value
                    if key is not None:
                        row[key] = str(lookup[str(row[key])])
                    row.append("1")
                    copy.write_row(row)
                    total += 1
            learn_keys(spec.name, lambda sql: cur.execute(sql).fetchall(), centre_pk, patient_pk)
    conn.close()
    return total


# The headline numbers of `jakreg report` that a few lines of SQL give: patients, centres, courses per
# drug, patients by the drug of their first course. (The IDDA before/after medians go through the window rule, jakreg.rules.windows, per patient:
# not reproduced here, so the comparison is of counts only.)
HEADLINE_SQL = {
    "patients": "SELECT count(*) FROM patients",
    "centres": "SELECT count(DISTINCT centre) FROM patients",
    "courses_per_drug": "SELECT drug, count(*) FROM courses GROUP BY drug ORDER BY drug",
    "patients_by_first_drug": "SELECT drug, count(*) FROM courses WHERE course_no = 1 "
    "GROUP BY drug ORDER BY drug",
}


def report_duckdb(target: Path) -> dict[str, Any]:
    import duckdb

    conn = duckdb.connect(str(target), read_only=True)
    out: dict[str, Any] = {}
    for name, sql in HEADLINE_SQL.items():
        rows = conn.execute(sql).fetchall()
        out[name] = int(rows[0][0]) if len(rows[0]) == 1 else {str(k): int(v) for k, v in rows}
    conn.close()
    return out


def main() -> None:
    what, source = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    if what == "report-duckdb":
        numbers = report_duckdb(source)
        print(json.dumps({"numbers": numbers, "seconds": time.perf_counter() - started}))
        return
    target = sys.argv[3]
    if what == "pandas":
        rows = load_pandas(source, Path(target))
    elif what == "duckdb":
        rows = load_duckdb(source, Path(target))
    elif what == "copy":
        rows = load_copy(source, target)
    else:
        raise SystemExit(f"unknown loader {what!r}: pandas, duckdb, copy or report-duckdb")
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
