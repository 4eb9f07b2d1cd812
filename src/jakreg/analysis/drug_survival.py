"""Stops by reason and drug survival: Kaplan–Meier time on drug and cumulative incidence by reason."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.stats import (
    CumulativeIncidenceResult,
    KaplanMeierResult,
    cumulative_incidence,
    kaplan_meier,
)

NOT_STATED = "not stated"


@dataclass(frozen=True)
class Stop:
    patient: str
    course_no: int
    drug: str
    reason: str
    detail: str | None
    months_on_drug: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "course_no": self.course_no,
            "drug": self.drug,
            "reason": self.reason,
            "detail": self.detail,
            "months_on_drug": self.months_on_drug,
        }


@dataclass(frozen=True)
class DiscontinuationSection:
    """Patient level: the first course stopped by the cut-off; every course stop is listed too."""

    n_patients: int
    stops: tuple[Stop, ...]  # first courses
    all_course_stops: tuple[Stop, ...]

    @property
    def n(self) -> int:
        return len(self.stops)

    @property
    def reasons(self) -> dict[str, int]:
        counts = Counter(s.reason for s in self.stops)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_patients": self.n_patients,
            "n": self.n,
            "reasons": self.reasons,
            "stops": [s.to_dict() for s in self.stops],
            "n_course_stops": len(self.all_course_stops),
            "all_course_stops": [s.to_dict() for s in self.all_course_stops],
        }


@dataclass(frozen=True)
class DrugSurvivalSection:
    kaplan_meier: KaplanMeierResult
    cumulative_incidence: CumulativeIncidenceResult
    times: tuple[float, ...]
    left_out: tuple[tuple[str, str], ...]  # patient, why
    # patient, why: first courses censored at the cut-off without a follow-up to show it
    follow_up_warnings: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "course": "first course per patient",
            "time_unit": "months",
            "times": list(self.times),
            "kaplan_meier": self.kaplan_meier.to_dict(),
            "cumulative_incidence": self.cumulative_incidence.to_dict(),
            "left_out": [{"patient": p, "reason": r} for p, r in self.left_out],
            "follow_up_warnings": [
                {"patient": p, "warning": w} for p, w in self.follow_up_warnings
            ],
        }


def discontinuation_section(views: Sequence[PatientView]) -> DiscontinuationSection:
    def stop(v: PatientView, i: int) -> Stop | None:
        c = v.courses[i]
        if c.stop is None:
            return None
        return Stop(
            v.patient_id, c.course_no, c.drug, c.stop_reason or NOT_STATED,
            c.course.stop_detail, c.time_on_drug.months,
        )  # fmt: skip

    firsts = [stop(v, 0) for v in views]
    every = [stop(v, i) for v in views for i in range(len(v.courses))]
    return DiscontinuationSection(
        n_patients=len(views),
        stops=tuple(s for s in firsts if s is not None),
        all_course_stops=tuple(s for s in every if s is not None),
    )


def default_times(longest: float, step: float = 6.0) -> tuple[float, ...]:
    if longest <= 0 or not math.isfinite(longest):
        return (0.0,)
    return tuple(step * k for k in range(int(longest // step) + 1))


def drug_survival_section(
    views: Sequence[PatientView],
    *,
    times: Sequence[float] | None,
    confidence_level: float,
) -> DrugSurvivalSection:
    durations: list[float] = []
    reasons: list[str | None] = []
    left_out: list[tuple[str, str]] = []
    for v in views:
        tod = v.first.time_on_drug
        # A course stopped on its start day enters at time 0 as an event (as in the stops
        # table); one started on the last day seen enters at 0, censored.
        durations.append(tod.months)
        reasons.append((v.first.stop_reason or NOT_STATED) if tod.event else None)
    chosen = tuple(times) if times is not None else default_times(max(durations, default=0.0))
    return DrugSurvivalSection(
        kaplan_meier=kaplan_meier(
            durations,
            [r is not None for r in reasons],
            times=chosen,
            confidence_level=confidence_level,
        ),
        cumulative_incidence=cumulative_incidence(
            durations, reasons, times=chosen, confidence_level=confidence_level
        ),
        times=chosen,
        left_out=tuple(left_out),
        follow_up_warnings=tuple(
            (v.patient_id, v.first.follow_up_warning)
            for v in views
            if v.first.follow_up_warning is not None
        ),
    )
