"""Write the federated extract: one table (CSV or Parquet) and manifest.json in a folder."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.prepare import PatientView
from jakreg.analysis.results import StudyResults
from jakreg.errors import InputFileError
from jakreg.federated.extract import COLUMN_NAMES, COLUMNS, extract_rows, manifest

TABLE = "jakreg-federated"


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMN_NAMES, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    types = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}
    schema = pa.schema([(n, types[t]) for n, t, _ in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path)


def analyse_centres(
    url: str | None, centres: Collection[str] | None = None
) -> tuple[StudyResults, list[PatientView]]:
    """The study results and patient views of the cohort patients of `centres` (None: all)."""
    from jakreg.analysis.load import load_snapshot
    from jakreg.analysis.prepare import view_patients
    from jakreg.analysis.results import analyse_snapshot
    from jakreg.analysis.run import gc_paused
    from jakreg.store.db import open_session

    chosen = sorted(set(centres)) if centres else None
    opts = AnalysisOptions(
        centre=chosen[0] if chosen and len(chosen) == 1 else None,
        literature=False,
        hpo_groups=False,
    )
    with gc_paused():
        with open_session(url) as session:
            snapshot = load_snapshot(session, centres=chosen, source=opts.source,
                                     with_literature=False)  # fmt: skip
        results = analyse_snapshot(snapshot, opts)
        views, _ = view_patients(snapshot.patients, results.data.cutoff)
    return results, list(views)


def write_federated(
    out: Path,
    url: str | None = None,
    *,
    centres: Collection[str] | None = None,
    table_format: str = "csv",
    salt: bytes | None = None,
) -> list[Path]:
    """Analyse the database (cohort patients; only those of `centres` if given) and write the
    extract: one node's extract may hold several centres."""
    if table_format not in ("csv", "parquet"):
        raise InputFileError(f"federated table format must be csv or parquet, not {table_format!r}")
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{out} exists and is not a folder: the extract is a folder")
    results, views = analyse_centres(url, centres)
    rows = extract_rows(results, views, salt=salt)
    out.mkdir(parents=True, exist_ok=True)
    table = out / f"{TABLE}.{table_format}"
    (_write_csv if table_format == "csv" else _write_parquet)(rows, table)
    files = {table.name: hashlib.sha256(table.read_bytes()).hexdigest()}
    man = manifest(results, files, n_patients=len(views), table_format=table_format)
    man_path = out / "manifest.json"
    man_path.write_text(json.dumps(man, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [table, man_path]
