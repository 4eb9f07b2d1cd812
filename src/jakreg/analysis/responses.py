"""Responses to the JAK inhibitor: recorded and derived, global and per manifestation, and disagreements."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.data import ResponseData
from jakreg.analysis.prepare import CourseView, PatientView
from jakreg.rules.response import (
    DerivationRule,
    DerivedResponse,
    ManifestationResponse,
    Outcome,
    Response,
    derive_response,
    disagreements,
)
from jakreg.stats.proportions import ProportionCI, clopper_pearson

OUTCOME_OF = {
    "CR": Outcome.RESOLVED,
    "PR": Outcome.IMPROVED,
    "NR": Outcome.UNCHANGED,
    "NE": Outcome.NOT_EVALUABLE,
}
CODES = ("CR", "PR", "NR", "NE")


@dataclass(frozen=True)
class CourseResponse:
    patient: str
    course_no: int
    recorded: str | None  # latest global response of the course (None: not recorded)
    recorded_on: dt.date | None
    derived: DerivedResponse | None  # from the latest per-manifestation responses
    derived_on: dt.date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "course_no": self.course_no,
            "recorded": self.recorded,
            "recorded_on": self.recorded_on.isoformat() if self.recorded_on else None,
            "derived": self.derived.response.value if self.derived else None,
            "derived_reason": self.derived.reason if self.derived else None,
            "derived_on": self.derived_on.isoformat() if self.derived_on else None,
        }


@dataclass(frozen=True)
class ResponseSection:
    """Patient-level counts use each patient's first course (recorded response)."""

    n_patients: int
    complete: int
    partial: int
    none: int
    not_evaluable: int
    not_recorded: int
    derived_counts: tuple[tuple[str, int], ...]
    courses: tuple[CourseResponse, ...]
    by_manifestation: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...]
    disagreements: tuple[tuple[str, int, str, str], ...]  # patient, course, recorded, derived
    rule: DerivationRule
    confidence_level: float = 0.95

    def proportion(self, k: int) -> ProportionCI:
        """k of all analysed patients (NE and not recorded in the denominator), exact CI."""
        return clopper_pearson(k, self.n_patients, self.confidence_level)

    @property
    def evaluable(self) -> int:
        return self.complete + self.partial + self.none

    @property
    def complete_or_partial(self) -> int:
        return self.complete + self.partial

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_patients": self.n_patients,
            "evaluable": self.evaluable,
            "complete": self.complete,
            "partial": self.partial,
            "none": self.none,
            "complete_or_partial": self.complete_or_partial,
            "denominator": "all analysed patients (NE and not recorded included)",
            "complete_or_partial_ci": self.proportion(self.complete_or_partial).to_dict(),
            "complete_ci": self.proportion(self.complete).to_dict(),
            "not_evaluable": self.not_evaluable,
            "not_recorded": self.not_recorded,
            "derived": dict(self.derived_counts),
            "derivation_rule": self.rule.info.label(),
            "courses": [c.to_dict() for c in self.courses],
            "by_manifestation": [
                {"hpo_id": hpo, "label": label, "counts": dict(counts)}
                for hpo, label, counts in self.by_manifestation
            ],
            "disagreements": [
                {"patient": p, "course_no": n, "recorded": r, "derived": d}
                for p, n, r, d in self.disagreements
            ],
        }


def _seen(v: PatientView, c: CourseView, cutoff: dt.date) -> list[ResponseData]:
    return [r for r in v.data.responses if r.course_no == c.course_no and r.on <= cutoff]


def course_response(
    v: PatientView, c: CourseView, cutoff: dt.date, rule: DerivationRule
) -> tuple[CourseResponse, list[ResponseData]]:
    rows = _seen(v, c, cutoff)
    glob = [r for r in rows if r.manifestation is None]
    per = [r for r in rows if r.manifestation is not None]
    recorded = glob[-1] if glob else None
    derived = None
    derived_on = None
    latest_per: list[ResponseData] = []
    if per:
        derived_on = max(r.on for r in per)
        latest_per = [r for r in per if r.on == derived_on]
        status = {m.hpo_id: m.status_at_start for m in v.data.manifestations}
        derived = derive_response(
            [
                ManifestationResponse(
                    manifestation=str(r.manifestation),
                    outcome=OUTCOME_OF[r.response],
                    active_at_start=status.get(str(r.manifestation), "active") == "active",
                )
                for r in latest_per
            ],
            rule,
        )
    return (
        CourseResponse(
            patient=v.patient_id,
            course_no=c.course_no,
            recorded=recorded.response if recorded else None,
            recorded_on=recorded.on if recorded else None,
            derived=derived,
            derived_on=derived_on,
        ),
        latest_per,
    )


def response_section(
    views: Sequence[PatientView],
    cutoff: dt.date,
    rule: DerivationRule,
    confidence_level: float = 0.95,
) -> ResponseSection:
    courses: list[CourseResponse] = []
    per_term: dict[str, Counter[str]] = {}
    labels: dict[str, str] = {}
    first: list[str | None] = []
    for v in views:
        for c in v.courses:
            cr, latest = course_response(v, c, cutoff, rule)
            courses.append(cr)
            if c is v.first:
                first.append(cr.recorded)
            for r in latest:
                key = str(r.manifestation)
                per_term.setdefault(key, Counter())[r.response] += 1
        labels.update({m.hpo_id: m.hpo_label or m.hpo_id for m in v.data.manifestations})
    tally = Counter(first)
    recorded = {(c.patient, c.course_no): c.recorded for c in courses if c.recorded}
    derived = {(c.patient, c.course_no): c.derived for c in courses if c.derived}
    found = disagreements(recorded, derived)
    firsts = {(v.patient_id, v.first.course_no) for v in views}
    first_derived = Counter(
        c.derived.response.value
        for c in courses
        if c.derived and (c.patient, c.course_no) in firsts
    )
    return ResponseSection(
        n_patients=len(views),
        complete=tally.get("CR", 0),
        partial=tally.get("PR", 0),
        none=tally.get("NR", 0),
        not_evaluable=tally.get("NE", 0),
        not_recorded=tally.get(None, 0),
        derived_counts=tuple((code, first_derived.get(code, 0)) for code in CODES),
        courses=tuple(courses),
        by_manifestation=tuple(
            (hpo, labels.get(hpo, hpo), tuple((code, counts.get(code, 0)) for code in CODES))
            for hpo, counts in sorted(per_term.items(), key=lambda kv: -sum(kv[1].values()))
        ),
        disagreements=tuple(
            (str(d.key[0]), int(d.key[1]), d.recorded.value, d.derived.value)  # type: ignore[index]
            for d in found
        ),
        rule=rule,
        confidence_level=confidence_level,
    )


__all__ = ["Response", "ResponseSection", "response_section"]
