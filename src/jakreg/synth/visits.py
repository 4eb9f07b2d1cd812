"""A prospective-shaped synthetic study: records that follow the default protocol's visits, with gaps.

Not real patients. Courses start over the 15 months before ``today``, so that `jakreg monitor` on that day
shows done, partial, due, upcoming and overdue visits. The same seed and day give the same study.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.protocol.schedule import expected_visits
from jakreg.protocol.schema import default_protocol

CENTRES = [("PRA", "Synthetic centre A", "ES"), ("PRB", "Synthetic centre B", "FR")]
P_VISIT = 0.85  # a visit takes place
P_ITEM = 0.9  # an item is recorded at a visit that took place
_LABS = {
    "neutrophils": (1.5, 6.0, "10^9/L", None, None),
    "lymphocytes": (1.0, 3.5, "10^9/L", None, None),
    "haemoglobin": (105, 145, "g/L", None, None),
    "platelets": (150, 400, "10^9/L", None, None),
    "alt": (10, 45, "U/L", None, 40),
    "ast": (10, 45, "U/L", None, 40),
    "cholesterol": (3.0, 5.5, "mmol/L", None, None),
    "triglycerides": (0.5, 1.8, "mmol/L", None, None),
    "creatinine": (30, 70, "µmol/L", None, None),
}
# A few values beyond the safety-signal thresholds (rules/data/safety_signals.yaml), drawn from their own
# random stream so every other value is the same for a given seed: the example shows open signals.
P_ABNORMAL = 0.03
_ABNORMAL = {"neutrophils": (0.5, 0.95), "lymphocytes": (0.2, 0.45), "haemoglobin": (68, 78),
             "platelets": (25, 45), "alt": (130, 220), "ast": (130, 220)}  # fmt: skip
_MARKERS = {"pstat1": ("MFI ratio", 2.0), "isg_score": ("score", 2.5), "cxcl10": ("pg/mL", 300.0)}


def prospective_sheets(
    *, patients: int, today: dt.date, seed: int = 1
) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    odd = random.Random(seed + 7919)  # noqa: S311 (the abnormal values' own stream)
    protocol, _ = default_protocol()
    sheets: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "centres", "patients", "variants", "courses", "doses", "body_measurements", "assessments",
        "labs", "biomarkers", "responses")}  # fmt: skip
    sheets["centres"] = [{"centre": c, "name": n, "country": k} for c, n, k in CENTRES]
    for i in range(patients):
        centre = CENTRES[i % len(CENTRES)][0]
        pid = f"{centre}-{i // len(CENTRES) + 1:03d}"
        start = today - dt.timedelta(days=rng.randint(20, 460))
        stop = None
        if rng.random() < 0.15:
            stop = start + dt.timedelta(days=rng.randint(60, max(61, (today - start).days - 1)))
            stop = min(stop, today - dt.timedelta(days=1))
        age = rng.randint(4, 30)
        sheets["patients"].append({
            "patient_id": pid, "centre": centre, "sex": rng.choice(["female", "male"]),
            "birth_year_month": f"{today.year - age}-{rng.randint(1, 12):02d}",
            "last_follow_up": today.isoformat(), "vital_status": "alive"})  # fmt: skip
        sheets["variants"].append({"patient_id": pid, "transcript": "NM_007315.4",
                                   "hgvs_c": "c.821G>A", "hgvs_p": "p.Arg274Gln"})  # fmt: skip
        course: dict[str, Any] = {"patient_id": pid, "course_no": 1, "drug": "ruxolitinib",
                                  "start_date": start.isoformat(), "azole_comedication": "no"}  # fmt: skip
        if stop is not None:
            course.update(stop_date=stop.isoformat(), stop_reason="remission")
        sheets["courses"].append(course)
        weight = round(rng.uniform(18, 70), 1)
        height = round(min(185.0, 100 + weight * 1.2), 0)
        sheets["doses"].append({"patient_id": pid, "course_no": 1, "date": start.isoformat(),
                                "mg_per_dose": 5 if weight >= 25 else 2.5, "doses_per_day": 2})  # fmt: skip
        seen: set[tuple[str, str]] = set()
        for visit in expected_visits(protocol, start=start, stop=stop, as_of=today):
            if not visit.applicable or rng.random() > P_VISIT:
                continue
            offset = rng.randint(-min(3, (visit.planned - visit.window_start).days), 3)
            day = min(visit.planned + dt.timedelta(days=offset), visit.window_end)
            if day > today:
                continue
            iso = day.isoformat()
            for item in visit.items:
                if rng.random() > P_ITEM:
                    continue
                kind = protocol.items[item].kind.value
                if kind in ("assessment", "ae_review") and ("a", iso) not in seen:
                    seen.add(("a", iso))
                    sheets["assessments"].append({"patient_id": pid, "date": iso,
                                                  "total": round(rng.uniform(2, 15), 1)})  # fmt: skip
                elif kind == "lab":
                    for code in protocol.items[item].codes:
                        lo, hi, unit, _lln, uln = _LABS[code]
                        if (code, iso) not in seen:
                            seen.add((code, iso))
                            value = round(rng.uniform(lo, hi), 1)
                            if code in _ABNORMAL and odd.random() < P_ABNORMAL:
                                value = round(odd.uniform(*_ABNORMAL[code]), 2)
                            sheets["labs"].append({"patient_id": pid, "date": iso, "analyte": code,
                                                   "value": value, "unit": unit,
                                                   "uln": uln})  # fmt: skip
                elif kind == "biomarker":
                    for code in protocol.items[item].codes:
                        unit, ref = _MARKERS[code]
                        sheets["biomarkers"].append({"patient_id": pid, "date": iso, "marker": code,
                                                     "value": round(rng.uniform(0.5, 3) * ref, 1),
                                                     "unit": unit, "ref_high": ref})  # fmt: skip
                elif kind == "body" and ("b", iso) not in seen:
                    seen.add(("b", iso))
                    sheets["body_measurements"].append({"patient_id": pid, "date": iso,
                                                        "weight_kg": weight, "height_cm": height})  # fmt: skip
                elif kind == "response" and ("r", iso) not in seen:
                    seen.add(("r", iso))
                    sheets["responses"].append({"patient_id": pid, "course_no": 1, "date": iso,
                                                "response": rng.choice(["CR", "PR", "PR", "NR"])})  # fmt: skip
    return {k: v for k, v in sheets.items() if v}


def write_prospective(folder: Path, *, patients: int, today: dt.date, seed: int = 1) -> Path:
    """Write the study as one CSV per sheet in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in prospective_sheets(patients=patients, today=today, seed=seed).items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=SHEETS_BY_NAME[name].columns)
            writer.writeheader()
            writer.writerows(rows)
    return folder
