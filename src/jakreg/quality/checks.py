"""The data quality checks: pure functions from a patient's records (plain dicts) to located findings."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from jakreg.quality import catalogue
from jakreg.quality.catalogue import BY_ID, Rule
from jakreg.quality.growth import lms_at

Record = Mapping[str, Any]  # a record's columns, with its primary key as "id"

DATED: dict[str, str] = {
    "doses": "date", "body_measurements": "date", "assessments": "date", "labs": "date",
    "biomarkers": "date", "adverse_events": "onset_date", "responses": "date", "hsct": "date",
    "courses": "start_date",
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One doubtful value: where it is, what it is, which rule (and version) flagged it, what to do."""

    rule: str
    rule_version: int
    centre: str
    patient_id: str
    sheet: str
    record_pk: int
    field: str
    value: Any
    message: str
    fix: str

    @property
    def id(self) -> str:
        """Stable across runs: the same rule on the same field of the same record gives the same id."""
        key = f"{self.rule}|{self.sheet}|{self.record_pk}|{self.field}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        value = self.value.isoformat() if isinstance(self.value, dt.date) else self.value
        return {"id": self.id, "rule": self.rule, "rule_version": self.rule_version,
                "centre": self.centre, "patient_id": self.patient_id, "sheet": self.sheet,
                "record_pk": self.record_pk, "field": self.field, "value": value,
                "message": self.message, "fix": self.fix}  # fmt: skip


@dataclass
class PatientRecords:
    """What the checks read of one patient."""

    pk: int
    patient_id: str
    centre: str
    sex: str
    birth_year_month: str | None
    vital_status: str
    last_follow_up: dt.date | None
    patient: Record
    sheets: dict[str, list[Record]] = field(default_factory=dict)

    def rows(self, sheet: str) -> list[Record]:
        return self.sheets.get(sheet, [])


def _finding(
    p: PatientRecords, rule: Rule, sheet: str, rec: Record, column: str, message: str
) -> Finding:
    return Finding(rule.id, rule.version, p.centre, p.patient_id, sheet, int(rec["id"]), column,
                   rec.get(column), message, rule.fix)  # fmt: skip


def age_in_months(birth_year_month: str | None, on: dt.date) -> float | None:
    """Age at a date from a birth month, taking the middle (15th) of the birth month."""
    if not birth_year_month:
        return None
    year, month = (int(x) for x in birth_year_month.split("-"))
    return (on - dt.date(year, month, 15)).days / (365.25 / 12)


def required_missing(p: PatientRecords, required: Mapping[str, Sequence[str]]) -> list[Finding]:
    rule = BY_ID["required_missing"]
    out: list[Finding] = []
    for sheet, columns in required.items():
        records = [p.patient] if sheet == "patients" else p.rows(sheet)
        for rec in records:
            for column in columns:
                if column in rec and rec[column] in (None, ""):
                    out.append(_finding(p, rule, sheet, rec, column, f"{column} is blank"))
    return out


def impossible_values(p: PatientRecords) -> list[Finding]:
    out: list[Finding] = []
    lab = BY_ID["lab_negative"]
    for rec in p.rows("labs"):
        if rec["value"] is not None and rec["value"] < 0:
            out.append(_finding(p, lab, "labs", rec, "value",
                                f"{rec['analyte']} is {rec['value']} {rec['unit']}, below zero"))  # fmt: skip
    body = BY_ID["body_impossible"]
    for sheet in ("body_measurements", "doses"):
        for rec in p.rows(sheet):
            for column in ("weight_kg", "height_cm"):
                if rec.get(column) is not None and rec[column] <= 0:
                    out.append(_finding(p, body, sheet, rec, column, f"{column} is {rec[column]}"))
    return out


def growth(p: PatientRecords) -> list[Finding]:
    """Weight and height against CDC 2000 for age (2-20 years), by CDC's modified z-score limits."""
    out: list[Finding] = []
    for sheet in ("body_measurements", "doses"):
        for rec in p.rows(sheet):
            age = age_in_months(p.birth_year_month, rec["date"])
            if age is None:
                continue
            for column, rule_id in (
                ("weight_kg", "weight_for_age"),
                ("height_cm", "height_for_age"),
            ):
                x = rec.get(column)
                lms = lms_at(column, p.sex, age)
                if x is None or x <= 0 or lms is None:
                    continue
                low, high = catalogue.BIV_LIMITS[column]
                z = lms.modified_z(x)
                if not low <= z <= high:
                    message = (f"{column} {x} at {age / 12:.1f} years ({p.sex}): modified z {z:.1f}, "
                               f"outside {low:g} to {high:g}")  # fmt: skip
                    out.append(_finding(p, BY_ID[rule_id], sheet, rec, column, message))
    return out


def chronology(p: PatientRecords) -> list[Finding]:
    out: list[Finding] = []
    starts = {c["course_no"]: c["start_date"] for c in p.rows("courses")}
    stop_rule = BY_ID["stop_before_start"]
    for c in p.rows("courses"):
        if c.get("stop_date") is not None and c["stop_date"] < c["start_date"]:
            out.append(_finding(p, stop_rule, "courses", c, "stop_date",
                                f"course {c['course_no']} stops {c['stop_date']}, "
                                f"starts {c['start_date']}"))  # fmt: skip
    for sheet, rule_id in (
        ("doses", "dose_before_course"),
        ("responses", "response_before_course"),
    ):
        for rec in p.rows(sheet):
            start = starts.get(rec["course_no"])
            if start is not None and rec["date"] < start:
                out.append(_finding(p, BY_ID[rule_id], sheet, rec, "date",
                                    f"dated {rec['date']}, course {rec['course_no']} "
                                    f"starts {start}"))  # fmt: skip
    if p.vital_status == "deceased" and p.last_follow_up is not None:
        death = BY_ID["record_after_death"]
        for sheet, column in DATED.items():
            for rec in p.rows(sheet):
                if rec.get(column) is not None and rec[column] > p.last_follow_up:
                    out.append(_finding(p, death, sheet, rec, column,
                                        f"dated {rec[column]}, after death on {p.last_follow_up}"))  # fmt: skip
    return out


def _weights(p: PatientRecords) -> list[tuple[dt.date, float, str, Record]]:
    found = [(r["date"], r["weight_kg"], s, r) for s in ("body_measurements", "doses")
             for r in p.rows(s) if r.get("weight_kg") is not None and r["weight_kg"] > 0]  # fmt: skip
    return sorted(found, key=lambda w: (w[0], w[2]))


def duplicates(p: PatientRecords) -> list[Finding]:
    """The same day's weight written twice with different values (dose sheet vs body measurements)."""
    rule = BY_ID["weight_disagrees"]
    measured = {r["date"]: r["weight_kg"] for r in p.rows("body_measurements")
                if r.get("weight_kg") is not None}  # fmt: skip
    out: list[Finding] = []
    for rec in p.rows("doses"):
        other = measured.get(rec["date"])
        if rec.get("weight_kg") is not None and other is not None and rec["weight_kg"] != other:
            out.append(_finding(p, rule, "doses", rec, "weight_kg",
                                f"{rec['weight_kg']} kg on the dose, {other} kg measured that day"))  # fmt: skip
    return out


def weight_change(p: PatientRecords) -> list[Finding]:
    """More than 20 % between consecutive weights on different days (relative to the earlier weight)."""
    rule = BY_ID["weight_change"]
    by_day: dict[dt.date, tuple[float, str, Record]] = {}
    for day, kg, sheet, rec in _weights(p):
        by_day.setdefault(
            day, (kg, sheet, rec)
        )  # body measurements first: they are the measurement
    days = sorted(by_day)
    out: list[Finding] = []
    for before, after in pairwise(days):
        kg0, _, _ = by_day[before]
        kg1, sheet, rec = by_day[after]
        change = (kg1 - kg0) / kg0
        if abs(change) > catalogue.WEIGHT_CHANGE_LIMIT:
            out.append(_finding(p, rule, sheet, rec, "weight_kg",
                                f"{kg0} kg on {before}, {kg1} kg on {after} ({change:+.0%})"))  # fmt: skip
    return out


def usual_units(patients: Iterable[PatientRecords]) -> dict[tuple[str, str], str]:
    """(centre, analyte) -> the unit the centre reports most often (ties: alphabetically first)."""
    return most_usual(
        Counter((p.centre, rec["analyte"], rec["unit"]) for p in patients for rec in p.rows("labs"))
    )


def most_usual(counts: Mapping[tuple[str, str, str], int]) -> dict[tuple[str, str], str]:
    """(centre, analyte) -> its most frequent unit, from (centre, analyte, unit) counts (ties:
    alphabetically first)."""
    by_pair: dict[tuple[str, str], dict[str, int]] = {}
    for (centre, analyte, unit), n in counts.items():
        by_pair.setdefault((centre, analyte), {})[unit] = n
    return {k: min(c, key=lambda u: (-c[u], u)) for k, c in by_pair.items()}


def unit_unusual(p: PatientRecords, usual: Mapping[tuple[str, str], str]) -> list[Finding]:
    rule = BY_ID["unit_unusual"]
    out: list[Finding] = []
    for rec in p.rows("labs"):
        expected = usual.get((p.centre, rec["analyte"]))
        if expected is not None and rec["unit"] != expected:
            out.append(_finding(p, rule, "labs", rec, "unit",
                                f"{rec['analyte']} in {rec['unit']}; {p.centre} usually reports "
                                f"{expected}"))  # fmt: skip
    return out


def check_patient(
    p: PatientRecords,
    usual: Mapping[tuple[str, str], str],
    required: Mapping[str, Sequence[str]] = catalogue.REQUIRED,
) -> list[Finding]:
    """Every rule on one patient."""
    return [
        *required_missing(p, required),
        *impossible_values(p),
        *growth(p),
        *chronology(p),
        *duplicates(p),
        *unit_unusual(p, usual),
        *weight_change(p),
    ]
