"""Every IDDA score over time (course start at 0) and a linear mixed model of before vs under."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.exposure import course_of
from jakreg.analysis.prepare import PatientView
from jakreg.rules.follow_up import months_between
from jakreg.stats.mixed import MixedModelResult, random_intercept_model

BEFORE, UNDER, OFF = "before", "under", "off drug"


@dataclass(frozen=True)
class ScorePoint:
    patient: str
    on: dt.date
    months: float  # since the first course's start; negative before it
    total: float
    period: str  # before | under | off drug

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "date": self.on.isoformat(),
            "months": self.months,
            "total": self.total,
            "period": self.period,
        }


@dataclass(frozen=True)
class LongitudinalSection:
    score: str
    points: tuple[ScorePoint, ...]
    model: MixedModelResult

    @property
    def n_patients(self) -> int:
        return len({p.patient for p in self.points})

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "time_unit": "months since the start of the first course",
            "period_rule": (
                "before: on or before the first start; under: after a course start up to its "
                "time-on-drug end; off drug: neither (left out of the model)"
            ),
            "n_patients": self.n_patients,
            "n_scores": len(self.points),
            "n_off_drug": sum(1 for p in self.points if p.period == OFF),
            "model": self.model.to_dict(),
            "points": [p.to_dict() for p in self.points],
        }


def signed_months(start: dt.date, on: dt.date) -> float:
    return months_between(start, on) if on >= start else -months_between(on, start)


def score_points(v: PatientView, score: str, cutoff: dt.date) -> list[ScorePoint]:
    start = v.first.start
    out = []
    for a in v.data.assessments:
        if a.score != score or a.total is None or a.on > cutoff:
            continue
        if a.on <= start:
            period = BEFORE
        else:
            period = UNDER if course_of(v, a.on, start_included=False) is not None else OFF
        out.append(ScorePoint(v.patient_id, a.on, signed_months(start, a.on), a.total, period))
    return out


def longitudinal_section(
    views: Sequence[PatientView], *, score: str, cutoff: dt.date, confidence_level: float
) -> LongitudinalSection:
    points = longitudinal_points(views, score=score, cutoff=cutoff)
    return LongitudinalSection(score, points, fit_model(points, confidence_level))


def longitudinal_points(
    views: Sequence[PatientView], *, score: str, cutoff: dt.date
) -> tuple[ScorePoint, ...]:
    """Every score of the patients, with its time since the first start and period."""
    return tuple(p for v in views for p in score_points(v, score, cutoff))


def fit_model(points: Sequence[ScorePoint], confidence_level: float) -> MixedModelResult:
    """The mixed model on the scores before and under therapy (scores off therapy are left out)."""
    fitted = [p for p in points if p.period != OFF]
    return random_intercept_model(
        [p.total for p in fitted],
        [p.months for p in fitted],
        [p.period == UNDER for p in fitted],
        [p.patient for p in fitted],
        confidence_level=confidence_level,
    )
