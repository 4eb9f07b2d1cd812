"""The raw baseline: insert a study's rows into the same SQLite schema with plain executemany, nothing else.

No validation, no audit trail, no derived values, one transaction: the fastest a Python importer could be
with the standard library. Usage: python benchmarks/baseline.py STUDY(csv folder or .xlsx) DB_FILE
(the database made by `jakreg init`). Prints {"rows": N, "seconds": S} as JSON; S excludes start-up.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from jakreg.model.sheets import SHEETS
from jakreg.store.tables import TABLE_FOR_SHEET

BATCH = 10_000


def blank_defaults(spec: Any) -> dict[int, Any]:
    """Column index -> the table's default, for NOT NULL columns a blank cell leaves to their default
    (e.g. patients.lost_to_follow_up, 'no'): what the importer fills in, so the raw rows fit the schema."""
    columns = TABLE_FOR_SHEET[spec.name].__table__.columns
    out: dict[int, Any] = {}
    for i, name in enumerate(spec.columns):
        column = columns.get(name)
        default = getattr(column, "default", None) if column is not None else None
        if column is not None and not column.nullable and getattr(default, "is_scalar", False):
            out[i] = default.arg  # type: ignore[union-attr]
    return out


def _csv_rows(folder: Path, sheet: str) -> Iterator[list[Any]]:
    path = folder / f"{sheet}.csv"
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        order = [header.index(c) for c in header]
        for cells in reader:
            yield [cells[i] if cells[i] != "" else None for i in order]


def _xlsx_sheets(path: Path) -> dict[str, Any]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name) for name in wb.sheet_names}


def _xlsx_rows(sheets: dict[str, Any], sheet: str) -> Iterator[list[Any]]:
    if sheet not in sheets:
        return
    rows = iter(sheets[sheet].iter_rows())
    next(rows)
    for cells in rows:
        yield [None if c == "" else c.isoformat() if isinstance(c, dt.date) else c for c in cells]


def learn_keys(
    sheet: str,
    fetch: Callable[[str], Iterable[Any]],
    centre_pk: dict[str, int],
    patient_pk: dict[str, int],
) -> None:
    """After the centres or patients sheet is written: the primary keys its codes were given (the
    later sheets refer to them). ``fetch(sql)`` gives the query's rows."""
    if sheet == "centres":
        centre_pk.update({c: pk for pk, c in fetch("SELECT id, centre FROM centre")})
    elif sheet == "patients":
        patient_pk.update({p: pk for pk, p in fetch("SELECT id, patient_id FROM patient")})


def load(study: Path, db: Path) -> int:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    centre_pk: dict[str, int] = {}
    patient_pk: dict[str, int] = {}
    sheets = _xlsx_sheets(study) if study.suffix == ".xlsx" else None
    total = 0
    for spec in SHEETS:
        table = TABLE_FOR_SHEET[spec.name].__tablename__
        columns = list(spec.columns)
        if spec.name == "patients":
            columns[columns.index("centre")] = "centre_pk"
        elif "patient_id" in columns:
            columns[columns.index("patient_id")] = "patient_pk"
        names = ", ".join(f'"{c}"' for c in [*columns, "version"])
        marks = ", ".join("?" for _ in range(len(columns) + 1))
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        key = (
            spec.columns.index("centre" if spec.name == "patients" else "patient_id")
            if (spec.name != "centres")
            else None
        )
        lookup = centre_pk if spec.name == "patients" else patient_pk
        rows = _xlsx_rows(sheets, spec.name) if sheets is not None else _csv_rows(study, spec.name)
        batch: list[list[Any]] = []
        defaults = blank_defaults(spec)
        for row in rows:
            for i, value in defaults.items():
                if row[i] is None:
                    row[i] = value
            if key is not None:
                row[key] = lookup[str(row[key])]
            row.append(1)
            batch.append(row)
            if len(batch) >= BATCH:
                conn.executemany(sql, batch)
                total += len(batch)
                batch.clear()
        conn.executemany(sql, batch)
        total += len(batch)
        learn_keys(spec.name, conn.execute, centre_pk, patient_pk)
    conn.execute("COMMIT")
    conn.close()
    return total


def main() -> None:
    study, db = Path(sys.argv[1]), Path(sys.argv[2])
    started = time.perf_counter()
    rows = load(study, db)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
