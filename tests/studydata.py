"""Build small study inputs (folders of CSV files) for tests: a valid base study and edits of it."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from jakreg.model.sheets import SHEETS_BY_NAME

TODAY = dt.date(2025, 6, 1)

BASE: dict[str, list[dict[str, Any]]] = {
    "centres": [{"centre": "BCN", "name": "Test centre Barcelona", "country": "ES"}],
    "patients": [
        {
            "patient_id": "BCN-01",
            "centre": "BCN",
            "local_id": "H-7",
            "sex": "female",
            "birth_year_month": "2012-05",
            "last_follow_up": "2023-01-10",
            "vital_status": "alive",
        }
    ],
    "variants": [
        {
            "patient_id": "BCN-01",
            "transcript": "NM_007315.4",
            "hgvs_c": "c.821G>A",
            "hgvs_p": "p.Arg274Gln",
        }
    ],
    "manifestations": [
        {
            "patient_id": "BCN-01",
            "hpo_id": "HP:0002728",
            "hpo_label": "Chronic mucocutaneous candidiasis",
            "status_at_start": "active",
        }
    ],
    "courses": [
        {
            "patient_id": "BCN-01",
            "course_no": 1,
            "drug": "ruxolitinib",
            "start_date": "2021-03-01",
            "azole_comedication": "no",
        }
    ],
    "doses": [
        {
            "patient_id": "BCN-01",
            "course_no": 1,
            "date": "2021-03-01",
            "mg_per_dose": 5,
            "doses_per_day": 2,
            "weight_kg": 30,
            "height_cm": 135,
        }
    ],
    "assessments": [
        {"patient_id": "BCN-01", "date": "2021-02-15", "total": 14.5},
        {"patient_id": "BCN-01", "date": "2021-09-01", "total": 6.25},
    ],
    "labs": [
        {
            "patient_id": "BCN-01",
            "date": "2021-02-20",
            "analyte": "alt",
            "value": 30,
            "unit": "U/L",
            "uln": 40,
        },
        {
            "patient_id": "BCN-01",
            "date": "2021-04-01",
            "analyte": "alt",
            "value": 130,
            "unit": "U/L",
            "uln": 40,
        },
    ],
    "responses": [{"patient_id": "BCN-01", "course_no": 1, "date": "2021-09-01", "response": "PR"}],
}


def write_study(folder: Path, sheets: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Write sheets as CSV files (header = the sheet's columns, in order)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (sheets if sheets is not None else BASE).items():
        columns = SHEETS_BY_NAME[name].columns if name in SHEETS_BY_NAME else list(rows[0])
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def edited(sheet: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    """The base study with one row's cells changed (None clears a cell)."""
    copy = {k: [dict(r) for r in v] for k, v in BASE.items()}
    row = copy[sheet][index]
    for k, v in changes.items():
        if v is None:
            row.pop(k, None)
        else:
            row[k] = v
    return copy


def with_rows(sheet: str, *rows: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    copy = {k: [dict(r) for r in v] for k, v in BASE.items()}
    copy.setdefault(sheet, []).extend(rows)
    return copy
