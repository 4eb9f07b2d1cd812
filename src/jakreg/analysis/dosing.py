"""Dosing over time: doses per kg and m², dose at response vs non-response, changes, azoles."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.data import DoseData
from jakreg.analysis.prepare import CourseView, PatientView
from jakreg.rules.follow_up import months_between
from jakreg.stats import ContinuousSummary, MannWhitneyResult, describe_continuous, mann_whitney

CHANGE_REASONS_NOTE = (
    "not recorded: the dose sheet has no reason column (a dose record carries date, mg per dose "
    "and doses per day only)"
)


@dataclass(frozen=True)
class DosePoint:
    patient: str
    course_no: int
    drug: str
    months: float  # since the course start
    mg_per_kg_day: float | None
    mg_per_m2_day: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "course_no": self.course_no,
            "drug": self.drug,
            "months": self.months,
            "mg_per_kg_day": self.mg_per_kg_day,
            "mg_per_m2_day": self.mg_per_m2_day,
        }


@dataclass(frozen=True)
class DoseAtResponse:
    drug: str
    unit: str
    test: MannWhitneyResult

    def to_dict(self) -> dict[str, Any]:
        return {"drug": self.drug, "unit": self.unit, "test": self.test.to_dict()}


@dataclass(frozen=True)
class DoseChanges:
    drug: str
    n_courses: int
    courses_with_change: int
    increases: int
    decreases: int
    unchanged: int  # a new record with the same mg/kg/day, or one that cannot be compared

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "n_courses": self.n_courses,
            "courses_with_change": self.courses_with_change,
            "increases": self.increases,
            "decreases": self.decreases,
            "unchanged_or_not_comparable": self.unchanged,
            "reasons": CHANGE_REASONS_NOTE,
        }


@dataclass(frozen=True)
class AzoleDoses:
    azole: str  # yes | no | unknown
    start_mg_per_kg_day: ContinuousSummary
    latest_mg_per_kg_day: ContinuousSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "azole_comedication": self.azole,
            "start_mg_per_kg_day": self.start_mg_per_kg_day.to_dict(),
            "latest_mg_per_kg_day": self.latest_mg_per_kg_day.to_dict(),
        }


@dataclass(frozen=True)
class DosingSection:
    points: tuple[DosePoint, ...]
    at_response: tuple[DoseAtResponse, ...]
    changes: tuple[DoseChanges, ...]
    ruxolitinib_azole: tuple[AzoleDoses, ...]
    ruxolitinib_azole_test: MannWhitneyResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_unit": "months since the course start",
            "dose_at_response_rule": (
                "first course; the latest recorded global response CR/PR (responders) or NR "
                "(non-responders) on or before the cut-off; the dose in effect on that date (the "
                "latest dose record on or before it); per drug, mg/kg/day"
            ),
            "at_response": [a.to_dict() for a in self.at_response],
            "changes": [c.to_dict() for c in self.changes],
            "ruxolitinib_azole": [a.to_dict() for a in self.ruxolitinib_azole],
            "ruxolitinib_azole_test": self.ruxolitinib_azole_test.to_dict(),
            "points": [p.to_dict() for p in self.points],
        }


def course_doses(v: PatientView, c: CourseView) -> list[DoseData]:
    return [d for d in v.data.doses if d.course_no == c.course_no and d.on <= c.time_on_drug.end]


def dose_on(doses: Sequence[DoseData], on: object) -> DoseData | None:
    """The dose in effect on a date: the latest record on or before it (doses sorted by date)."""
    found = None
    for d in doses:
        if d.on <= on:  # type: ignore[operator]
            found = d
    return found


def dosing_section(views: Sequence[PatientView]) -> DosingSection:
    points: list[DosePoint] = []
    responders: dict[str, list[float]] = {}
    non: dict[str, list[float]] = {}
    change: dict[str, list[int]] = {}  # drug → [courses, with change, up, down, same]
    azole: dict[str, tuple[list[float | None], list[float | None]]] = {}
    for v in views:
        for i, c in enumerate(v.courses):
            doses = course_doses(v, c)
            for d in doses:
                if d.on >= c.start:
                    points.append(DosePoint(v.patient_id, c.course_no, c.drug,
                                            months_between(c.start, d.on), d.mg_per_kg_day,
                                            d.mg_per_m2_day))  # fmt: skip
            tally = change.setdefault(c.drug, [0, 0, 0, 0, 0])
            tally[0] += 1
            if len(doses) > 1:
                tally[1] += 1
            for a, b in itertools.pairwise(doses):
                if a.mg_per_kg_day is None or b.mg_per_kg_day is None:
                    tally[4] += 1
                elif b.mg_per_kg_day > a.mg_per_kg_day:
                    tally[2] += 1
                elif b.mg_per_kg_day < a.mg_per_kg_day:
                    tally[3] += 1
                else:
                    tally[4] += 1
            if c.drug == "ruxolitinib":
                start, latest = azole.setdefault(c.course.azole_comedication, ([], []))
                start.append(doses[0].mg_per_kg_day if doses else None)
                latest.append(doses[-1].mg_per_kg_day if doses else None)
            if i != 0:
                continue
            recorded = [r for r in v.data.responses
                        if r.course_no == c.course_no and r.manifestation is None
                        and r.on <= c.time_on_drug.end]  # fmt: skip
            if not recorded:
                continue
            last = max(recorded, key=lambda r: r.on)
            current = dose_on(doses, last.on)
            if current is None or current.mg_per_kg_day is None:
                continue
            if last.response in ("CR", "PR"):
                responders.setdefault(c.drug, []).append(current.mg_per_kg_day)
            elif last.response == "NR":
                non.setdefault(c.drug, []).append(current.mg_per_kg_day)
    drugs = sorted(set(responders) | set(non))
    at_response = tuple(
        DoseAtResponse(drug, "mg/kg/day", mann_whitney(
            responders.get(drug, []), non.get(drug, []), labels=("CR or PR", "NR")))
        for drug in drugs
    )  # fmt: skip
    order = {"yes": 0, "no": 1}
    rux = tuple(
        AzoleDoses(k, describe_continuous(s), describe_continuous(lat))
        for k, (s, lat) in sorted(azole.items(), key=lambda kv: (order.get(kv[0], 2), kv[0]))
    )
    yes, no = azole.get("yes", ([], []))[0], azole.get("no", ([], []))[0]
    return DosingSection(
        points=tuple(points),
        at_response=at_response,
        changes=tuple(DoseChanges(d, *t) for d, t in sorted(change.items())),
        ruxolitinib_azole=rux,
        ruxolitinib_azole_test=mann_whitney(yes, no, labels=("with azole", "without azole")),
    )
