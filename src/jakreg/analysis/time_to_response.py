"""Time from the first course's start to the first recorded complete or partial global response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.drug_survival import default_times
from jakreg.analysis.prepare import PatientView
from jakreg.rules.follow_up import months_between
from jakreg.stats import (
    CumulativeIncidenceResult,
    KaplanMeierResult,
    cumulative_incidence,
    kaplan_meier,
)

RESPONDED = "response (CR or PR)"
STOPPED = "stopped before a response"
RESPONSE_CODES = frozenset({"CR", "PR"})


@dataclass(frozen=True)
class PatientTime:
    patient: str
    drug: str
    months: float
    outcome: str  # RESPONDED, STOPPED, or "censored"
    response: str | None  # CR / PR when responded

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "drug": self.drug,
            "months": self.months,
            "outcome": self.outcome,
            "response": self.response,
        }


@dataclass(frozen=True)
class TimeToResponseSection:
    patients: tuple[PatientTime, ...]
    left_out: tuple[tuple[str, str], ...]
    kaplan_meier: KaplanMeierResult
    cumulative_incidence: CumulativeIncidenceResult
    times: tuple[float, ...]

    @property
    def n_responded(self) -> int:
        return sum(1 for p in self.patients if p.outcome == RESPONDED)

    @property
    def n_stopped(self) -> int:
        return sum(1 for p in self.patients if p.outcome == STOPPED)

    def summary(self) -> str:
        km = self.kaplan_meier
        if not km.computable:
            return f"Time to response not computable ({km.reason})."
        level = f"{km.confidence_level:.0%}"
        if km.median_reached:
            upper = "not reached" if km.median_ci_upper is None else f"{km.median_ci_upper:.3g}"
            lower = "–" if km.median_ci_lower is None else f"{km.median_ci_lower:.3g}"
            median = f"median {km.median:.3g} months ({level} CI {lower}–{upper})"
        else:
            median = "median not reached (fewer than half responded while followed)"
        return (
            f"{self.n_responded} of {len(self.patients)} patients had a first CR or PR recorded; "
            f"{self.n_stopped} stopped before one; Kaplan–Meier {median}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "course": "first course per patient",
            "event": "first recorded global response CR or PR on or before the course end",
            "competing_event": "course stopped before a response (any reason)",
            "censoring": "still on drug without a response at the last follow-up or cut-off",
            "time_unit": "months",
            "n_patients": len(self.patients),
            "n_responded": self.n_responded,
            "n_stopped_before_response": self.n_stopped,
            "median_reached": self.kaplan_meier.median_reached,
            "kaplan_meier": self.kaplan_meier.to_dict(),
            "kaplan_meier_note": (
                "stopping is censored here, so 1 − S(t) over-states the chance of response; the "
                "cumulative incidence with stopping as a competing risk does not"
            ),
            "cumulative_incidence": self.cumulative_incidence.to_dict(),
            "times": list(self.times),
            "patients": [p.to_dict() for p in self.patients],
            "left_out": [{"patient": p, "reason": r} for p, r in self.left_out],
        }


def patient_time(v: PatientView) -> PatientTime | str:
    """The patient's time to first response (or to stop / censoring), or why there is none."""
    c = v.first
    end = c.time_on_drug.end
    hits = [
        r
        for r in v.data.responses
        if r.course_no == c.course_no
        and r.manifestation is None
        and r.response in RESPONSE_CODES
        and c.start <= r.on <= end
    ]
    if hits:
        first = min(hits, key=lambda r: r.on)
        months = months_between(c.start, first.on)
        if months <= 0:
            return "response recorded on the start day (no time to respond)"
        return PatientTime(v.patient_id, c.drug, months, RESPONDED, first.response)
    if c.time_on_drug.months <= 0:
        return "no time on drug (started on the last day seen)"
    outcome = STOPPED if c.time_on_drug.event else "censored"
    return PatientTime(v.patient_id, c.drug, c.time_on_drug.months, outcome, None)


def time_to_response_section(
    views: Sequence[PatientView],
    *,
    times: Sequence[float] | None = None,
    confidence_level: float = 0.95,
) -> TimeToResponseSection:
    patients: list[PatientTime] = []
    left_out: list[tuple[str, str]] = []
    for v in views:
        t = patient_time(v)
        if isinstance(t, str):
            left_out.append((v.patient_id, t))
        else:
            patients.append(t)
    durations = [p.months for p in patients]
    chosen = tuple(times) if times is not None else default_times(max(durations, default=0.0))
    km = kaplan_meier(
        durations,
        [p.outcome == RESPONDED for p in patients],
        times=chosen,
        confidence_level=confidence_level,
    )
    cif = cumulative_incidence(
        durations,
        [p.outcome if p.outcome != "censored" else None for p in patients],
        times=chosen,
        confidence_level=confidence_level,
    )
    return TimeToResponseSection(tuple(patients), tuple(left_out), km, cif, chosen)
