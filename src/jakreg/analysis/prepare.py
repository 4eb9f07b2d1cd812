"""The data as seen at the cut-off: which patients are analysed, their courses, age and follow-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from jakreg.analysis.data import CentreData, CourseData, PatientData
from jakreg.rules.base import RuleError
from jakreg.rules.follow_up import TimeOnDrug, age_years, months_between, time_on_drug


@dataclass(frozen=True)
class Cutoff:
    date: dt.date
    source: str  # how it was chosen, in words


def choose_cutoff(
    given: dt.date | None, centres: Sequence[CentreData], today: dt.date | None = None
) -> Cutoff:
    """The given cut-off, else the latest data cut-off of the selected centres, else today."""
    if given is not None:
        return Cutoff(given, "given")
    known = [(c.data_cutoff, c.centre) for c in centres if c.data_cutoff is not None]
    if known:
        latest = max(d for d, _ in known)
        at = sorted(code for d, code in known if d == latest)
        return Cutoff(latest, f"latest centre data cut-off ({', '.join(at)})")
    return Cutoff(today or dt.date.today(), "today (no selected centre has a data cut-off)")


@dataclass(frozen=True)
class CourseView:
    """A course as seen at the cut-off: a stop after the cut-off is not seen."""

    course: CourseData
    stop: dt.date | None
    stop_reason: str | None
    time_on_drug: TimeOnDrug
    # Why time on drug ran to the cut-off although the patient was not seen to then (shown as a
    # warning in the report): a blank last follow-up, or one before the course start.
    follow_up_warning: str | None = None

    @property
    def course_no(self) -> int:
        return self.course.course_no

    @property
    def drug(self) -> str:
        return self.course.drug

    @property
    def start(self) -> dt.date:
        return self.course.start

    @property
    def ongoing(self) -> bool:
        return self.stop is None


@dataclass(frozen=True)
class PatientView:
    data: PatientData
    courses: tuple[CourseView, ...]  # started on or before the cut-off, by start
    age_at_start_years: float | None
    follow_up_months: float | None
    notes: tuple[str, ...]  # why a value is missing

    @property
    def patient_id(self) -> str:
        return self.data.patient_id

    @property
    def first(self) -> CourseView:
        return self.courses[0]


@dataclass(frozen=True)
class Excluded:
    patient: str
    reason: str


def view_course(course: CourseData, last_follow_up: dt.date | None, cutoff: dt.date) -> CourseView:
    seen_stop = course.stop if course.stop is not None and course.stop <= cutoff else None
    lfu = last_follow_up if last_follow_up is not None and last_follow_up >= course.start else None
    tod = time_on_drug(course.start, stop=seen_stop, last_follow_up=lfu, cutoff=cutoff)
    return CourseView(
        course=course,
        stop=seen_stop,
        stop_reason=course.stop_reason if seen_stop is not None else None,
        time_on_drug=tod,
        follow_up_warning=follow_up_warning(course, seen_stop, last_follow_up, cutoff),
    )


def follow_up_warning(
    course: CourseData, seen_stop: dt.date | None, last_follow_up: dt.date | None, cutoff: dt.date
) -> str | None:
    """A stopped course needs no follow-up; a running one with a blank last follow-up, or one
    before its start, is censored at the cut-off: time on drug the data do not show."""
    if seen_stop is not None:
        return None
    runs = f"time on drug runs to the cut-off ({cutoff.isoformat()})"
    if last_follow_up is None:
        return f"course {course.course_no}: last follow-up is blank, so {runs}"
    if last_follow_up < course.start:
        return (
            f"course {course.course_no}: last follow-up ({last_follow_up.isoformat()}) is before "
            f"the course start ({course.start.isoformat()}), so {runs}"
        )
    return None


def view_patient(p: PatientData, cutoff: dt.date) -> PatientView | Excluded:
    started = [c for c in p.courses if c.start <= cutoff]
    if not started:
        why = (
            "no JAK-inhibitor course recorded"
            if not p.courses
            else f"no JAK-inhibitor course started by the cut-off ({cutoff.isoformat()})"
        )
        return Excluded(p.patient_id, why)
    courses = tuple(view_course(c, p.last_follow_up, cutoff) for c in started)
    first = courses[0]
    notes: list[str] = []
    age: float | None = None
    if p.birth_year_month is None:
        notes.append("age: birth year-month not recorded")
    else:
        try:
            age = age_years(p.birth_year_month, first.start).years
        except RuleError as exc:
            notes.append(f"age: {exc}")
    follow_up: float | None = None
    if p.last_follow_up is None:
        notes.append("follow-up: last follow-up not recorded")
    elif p.last_follow_up < first.start:
        notes.append("follow-up: last follow-up is before the first start")
    else:
        follow_up = months_between(first.start, min(p.last_follow_up, cutoff))
    return PatientView(p, courses, age, follow_up, tuple(notes))


def view_patients(
    patients: Sequence[PatientData], cutoff: dt.date
) -> tuple[tuple[PatientView, ...], tuple[Excluded, ...]]:
    views: list[PatientView] = []
    excluded: list[Excluded] = []
    for p in patients:
        v = view_patient(p, cutoff)
        (views if isinstance(v, PatientView) else excluded).append(v)  # type: ignore[arg-type]
    return tuple(views), tuple(excluded)
