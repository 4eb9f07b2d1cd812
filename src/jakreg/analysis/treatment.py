"""The treatment table: courses by drug, doses at start and latest, indication, time on drug, stops."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.data import DoseData
from jakreg.analysis.prepare import CourseView, PatientView
from jakreg.stats import ContinuousSummary, describe_continuous


@dataclass(frozen=True)
class CourseRow:
    patient: str
    centre: str
    course_no: int
    drug: str
    start: dt.date
    stop: dt.date | None
    stop_reason: str | None
    stop_detail: str | None
    indication: str | None
    azole_comedication: str
    months_on_drug: float
    end_reason: str
    start_mg_per_kg_day: float | None
    start_mg_per_m2_day: float | None
    latest_mg_per_kg_day: float | None
    latest_mg_per_m2_day: float | None
    dose_changes: tuple[dt.date, ...]  # dates of every dose record after the first

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "centre": self.centre,
            "course_no": self.course_no,
            "drug": self.drug,
            "start": self.start.isoformat(),
            "stop": self.stop.isoformat() if self.stop else None,
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "indication": self.indication,
            "azole_comedication": self.azole_comedication,
            "months_on_drug": self.months_on_drug,
            "end_reason": self.end_reason,
            "start_mg_per_kg_day": self.start_mg_per_kg_day,
            "start_mg_per_m2_day": self.start_mg_per_m2_day,
            "latest_mg_per_kg_day": self.latest_mg_per_kg_day,
            "latest_mg_per_m2_day": self.latest_mg_per_m2_day,
            "dose_changes": [d.isoformat() for d in self.dose_changes],
        }


@dataclass(frozen=True)
class DrugDoses:
    drug: str
    n_courses: int
    start_mg_per_kg_day: ContinuousSummary
    latest_mg_per_kg_day: ContinuousSummary
    start_mg_per_m2_day: ContinuousSummary
    latest_mg_per_m2_day: ContinuousSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "n_courses": self.n_courses,
            "start_mg_per_kg_day": self.start_mg_per_kg_day.to_dict(),
            "latest_mg_per_kg_day": self.latest_mg_per_kg_day.to_dict(),
            "start_mg_per_m2_day": self.start_mg_per_m2_day.to_dict(),
            "latest_mg_per_m2_day": self.latest_mg_per_m2_day.to_dict(),
        }


@dataclass(frozen=True)
class TreatmentSection:
    n_courses: int
    courses_by_drug: tuple[tuple[str, int], ...]
    doses_by_drug: tuple[DrugDoses, ...]
    time_on_drug_months: ContinuousSummary  # first course per patient
    stop_reasons: tuple[tuple[str, int], ...]  # every course stopped by the cut-off
    azole_comedication: tuple[tuple[str, int], ...]
    courses: tuple[CourseRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_courses": self.n_courses,
            "courses_by_drug": dict(self.courses_by_drug),
            "doses_by_drug": [d.to_dict() for d in self.doses_by_drug],
            "time_on_drug_months": self.time_on_drug_months.to_dict(),
            "stop_reasons": dict(self.stop_reasons),
            "azole_comedication": dict(self.azole_comedication),
            "courses": [c.to_dict() for c in self.courses],
        }


def course_doses(v: PatientView, c: CourseView, cutoff: dt.date) -> list[DoseData]:
    end = min(c.stop or cutoff, cutoff)
    return [d for d in v.data.doses if d.course_no == c.course_no and d.on <= end]


def course_row(v: PatientView, c: CourseView, cutoff: dt.date) -> CourseRow:
    doses = course_doses(v, c, cutoff)
    first = doses[0] if doses else None
    last = doses[-1] if doses else None
    return CourseRow(
        patient=v.patient_id,
        centre=v.data.centre,
        course_no=c.course_no,
        drug=c.drug,
        start=c.start,
        stop=c.stop,
        stop_reason=c.stop_reason,
        stop_detail=c.course.stop_detail if c.stop else None,
        indication=c.course.indication,
        azole_comedication=c.course.azole_comedication,
        months_on_drug=c.time_on_drug.months,
        end_reason=c.time_on_drug.end_reason,
        start_mg_per_kg_day=first.mg_per_kg_day if first else None,
        start_mg_per_m2_day=first.mg_per_m2_day if first else None,
        latest_mg_per_kg_day=last.mg_per_kg_day if last else None,
        latest_mg_per_m2_day=last.mg_per_m2_day if last else None,
        dose_changes=tuple(d.on for d in doses[1:]),
    )


def _counts(values: Sequence[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


def treatment_section(views: Sequence[PatientView], cutoff: dt.date) -> TreatmentSection:
    rows = tuple(course_row(v, c, cutoff) for v in views for c in v.courses)
    drugs = [r.drug for r in rows]
    doses = tuple(
        DrugDoses(
            drug=drug,
            n_courses=sum(r.drug == drug for r in rows),
            start_mg_per_kg_day=describe_continuous(
                r.start_mg_per_kg_day for r in rows if r.drug == drug
            ),
            latest_mg_per_kg_day=describe_continuous(
                r.latest_mg_per_kg_day for r in rows if r.drug == drug
            ),
            start_mg_per_m2_day=describe_continuous(
                r.start_mg_per_m2_day for r in rows if r.drug == drug
            ),
            latest_mg_per_m2_day=describe_continuous(
                r.latest_mg_per_m2_day for r in rows if r.drug == drug
            ),
        )
        for drug, _ in _counts(drugs)
    )
    return TreatmentSection(
        n_courses=len(rows),
        courses_by_drug=_counts(drugs),
        doses_by_drug=doses,
        time_on_drug_months=describe_continuous(v.first.time_on_drug.months for v in views),
        stop_reasons=_counts([r.stop_reason or "not stated" for r in rows if r.stop is not None]),
        azole_comedication=_counts([r.azole_comedication for r in rows]),
        courses=rows,
    )
