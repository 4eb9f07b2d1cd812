"""Measure validated import speed: writes a study of about N rows as CSV (and xlsx), imports it into a fresh
SQLite database with `jakreg import`, prints rows/s. Usage: python benchmarks/import_speed.py [ROWS]"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jakreg.model.sheets import SHEETS_BY_NAME

LABS_PER_PATIENT = 40  # monthly ALT and neutrophils over 20 months


def write_study(folder: Path, rows: int) -> int:
    """A deterministic synthetic study of about ``rows`` rows; returns the exact count."""
    folder.mkdir(parents=True, exist_ok=True)
    per_patient = 2 + LABS_PER_PATIENT  # patient + course + labs
    n_patients = max(1, rows // per_patient)
    sheets: dict[str, list[list[object]]] = {"centres": [["BEN", "Benchmark centre", "XX", ""]]}
    sheets["patients"] = []
    sheets["courses"] = []
    sheets["labs"] = []
    start = dt.date(2019, 1, 15)
    for i in range(n_patients):
        pid = f"B{i:06d}"
        sheets["patients"].append([pid, "BEN", "", "female", "2010-01", "", "", "", "", "", ""])
        sheets["courses"].append(
            [pid, 1, "ruxolitinib", start.isoformat(), "", "", "", "", "", "", ""]
        )
        for m in range(LABS_PER_PATIENT // 2):
            day = (start + dt.timedelta(days=30 * m)).isoformat()
            sheets["labs"].append([pid, day, "alt", 20 + (i + m) % 50, "U/L", "", 40, ""])
            sheets["labs"].append(
                [pid, day, "neutrophils", 1.0 + (i + m) % 30 / 10, "10^9/L", 1.5, 8, ""]
            )
    total = 0
    for name, rows_ in sheets.items():
        with (folder / f"{name}.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(SHEETS_BY_NAME[name].columns)
            writer.writerows(rows_)
        total += len(rows_)
    return total


def timed_import(path: Path, workdir: Path) -> float:
    db = workdir / f"bench-{path.suffix or 'csv'}.db"
    jakreg = str(Path(sys.executable).with_name("jakreg"))
    subprocess.run([jakreg, "init", "--db", str(db)], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([jakreg, "import", str(path), "--db", str(db)], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n = write_study(work / "study", rows)
        seconds = timed_import(work / "study", work)
        print(
            f"CSV folder: {n:,} rows imported in {seconds:.2f} s = {n / seconds:,.0f} rows/s "
            "(validated, audited, derived; includes process start)"
        )


if __name__ == "__main__":
    main()
