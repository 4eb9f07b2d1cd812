"""Adverse events by term and grade, infections, hepatotoxicity from graded labs, and stops by reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.data import AdverseEventData, CourseData
from jakreg.analysis.options import HEPATIC_TERMS
from jakreg.analysis.prepare import PatientView
from jakreg.rules.treatment_emergent import TreatmentEmergentWindow, default_window


def treatment_emergent(
    event: AdverseEventData,
    courses: Sequence[CourseData],
    cutoff: dt.date | None,
    window: TreatmentEmergentWindow | None = None,
) -> bool:
    """Is this adverse event treatment-emergent? The one definition every safety count uses.

    True when its onset lies in the window (rules/data/treatment_emergent.yaml, or ``window``) of
    the course it is assigned to, or, with course_no blank, of any of the patient's courses: on or
    after start − days_before_start and on or before the stop seen by the cut-off +
    days_after_stop (a course running at the cut-off: the cut-off), never after the cut-off.
    ``cutoff`` None (published cases): every recorded stop is seen and there is no upper cap.
    """
    w = window if window is not None else default_window()
    cap = cutoff if cutoff is not None else dt.date.max
    for c in courses:
        if event.course_no is not None and c.course_no != event.course_no:
            continue
        stop = c.stop if c.stop is not None and c.stop <= cap else None
        if w.contains(event.onset, c.start, stop, cap):
            return True
    return False


@dataclass(frozen=True)
class TermGrade:
    term: str
    category: str
    grade: int | None
    n_events: int
    n_patients: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "category": self.category,
            "grade": self.grade,
            "n_events": self.n_events,
            "n_patients": self.n_patients,
        }


@dataclass(frozen=True)
class Infection:
    patient: str
    term: str
    onset: dt.date
    grade: int | None
    attribution: str
    likely: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "term": self.term,
            "onset": self.onset.isoformat(),
            "grade": self.grade,
            "attribution": self.attribution,
            "likely_adverse_event": self.likely,
        }


@dataclass(frozen=True)
class LabGrade:
    """Patients by their highest CTCAE grade of one term on therapy."""

    term: str
    n_graded_patients: int
    by_max_grade: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "n_graded_patients": self.n_graded_patients,
            "patients_by_max_grade": {str(g): n for g, n in self.by_max_grade},
        }


@dataclass(frozen=True)
class SafetySection:
    n_patients: int
    n_events: int
    by_term_grade: tuple[TermGrade, ...]
    infections: tuple[Infection, ...]
    infection_attributions: tuple[str, ...]
    lab_grades: tuple[LabGrade, ...]
    hepatotoxicity_min_grade: int
    hepatotoxicity_patients: tuple[tuple[str, int, str], ...]  # patient, max grade, term

    @property
    def patients_with_infection(self) -> int:
        return len({i.patient for i in self.infections if i.likely})

    @property
    def patients_with_any_infection(self) -> int:
        return len({i.patient for i in self.infections})

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_patients": self.n_patients,
            "n_events": self.n_events,
            "by_term_grade": [t.to_dict() for t in self.by_term_grade],
            "patients_with_infection": self.patients_with_infection,
            "patients_with_any_infection": self.patients_with_any_infection,
            "infection_attributions": list(self.infection_attributions),
            "infections": [i.to_dict() for i in self.infections],
            "lab_grades": [g.to_dict() for g in self.lab_grades],
            "hepatotoxicity": {
                "min_grade": self.hepatotoxicity_min_grade,
                "terms": list(HEPATIC_TERMS),
                "n_patients": len(self.hepatotoxicity_patients),
                "patients": [
                    {"patient": p, "max_grade": g, "term": t}
                    for p, g, t in self.hepatotoxicity_patients
                ],
            },
        }


def safety_section(
    views: Sequence[PatientView],
    cutoff: dt.date,
    *,
    infection_attributions: frozenset[str],
    hepatotoxicity_min_grade: int,
    attribution_order: Sequence[str],
    window: TreatmentEmergentWindow | None = None,
) -> SafetySection:
    """Treatment-emergent adverse events only (``treatment_emergent``); graded labs after the first
    start and up to the cut-off."""
    events = [
        (v, e)
        for v in views
        for e in v.data.adverse_events
        if treatment_emergent(e, v.data.courses, cutoff, window)
    ]
    groups: dict[tuple[str, str, int | None], list[str]] = defaultdict(list)
    for v, e in events:
        groups[(e.term, e.category, e.grade)].append(v.patient_id)
    by_term = tuple(
        TermGrade(term, cat, grade, len(pids), len(set(pids)))
        for (term, cat, grade), pids in sorted(
            groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2] or 0)
        )
    )
    infections = tuple(
        Infection(v.patient_id, e.term, e.onset, e.grade, e.attribution,
                  e.attribution in infection_attributions)
        for v, e in events
        if e.category == "infection"
    )  # fmt: skip
    max_grade: dict[str, dict[str, int]] = defaultdict(dict)
    for v in views:  # a hundred labs per patient: the loop body is kept lean
        start, pid = v.first.start, v.patient_id
        for lab in v.data.labs:
            term, grade = lab.ctcae_term, lab.ctcae_grade
            if term is None or grade is None or not (start < lab.on <= cutoff):
                continue
            per = max_grade[term]
            if grade > per.get(pid, -1):
                per[pid] = grade
    lab_grades = tuple(
        LabGrade(term, len(per), tuple(sorted(Counter(per.values()).items())))
        for term, per in sorted(max_grade.items())
    )
    hepatic: dict[str, tuple[int, str]] = {}
    for term in HEPATIC_TERMS:
        for pid, g in max_grade.get(term, {}).items():
            if g >= hepatotoxicity_min_grade and g > hepatic.get(pid, (-1, ""))[0]:
                hepatic[pid] = (g, term)
    return SafetySection(
        n_patients=len(views),
        n_events=len(events),
        by_term_grade=by_term,
        infections=infections,
        infection_attributions=tuple(a for a in attribution_order if a in infection_attributions),
        lab_grades=lab_grades,
        hepatotoxicity_min_grade=hepatotoxicity_min_grade,
        hepatotoxicity_patients=tuple((p, g, t) for p, (g, t) in sorted(hepatic.items())),
    )
