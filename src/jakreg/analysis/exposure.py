"""Exposure (patient-years on drug) and exposure-adjusted incidence of adverse events and lab events."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.data import AdverseEventData, LabData
from jakreg.analysis.prepare import CourseView, PatientView
from jakreg.analysis.safety import treatment_emergent
from jakreg.rules.base import RuleInfo, RuleStatus
from jakreg.rules.treatment_emergent import TreatmentEmergentWindow, default_window
from jakreg.stats.poisson import POISSON_CI_METHOD, PoissonRate, poisson_rate

DAYS_PER_YEAR = 365.25
PER_PATIENT_YEARS = 100.0
OVERALL = "all drugs"

EXPOSURE_RULE = RuleInfo(
    name="Exposure and on-drug events",
    version="1",
    source=(
        "jakreg convention (docs/analyses.md, 'Exposure'): each course from start to its time-on-drug "
        "end (stop, else last follow-up or cut-off), days / 365.25 = patient-years; an adverse "
        "event counts when treatment-emergent (analysis.safety.treatment_emergent, the report's "
        "window); a graded lab when dated after the start and up to the course end"
    ),
    status=RuleStatus.CONFIGURABLE,
)

CYTOPENIA_TERMS = (
    "Anemia",
    "Lymphocyte count decreased",
    "Neutrophil count decreased",
    "Platelet count decreased",
    "White blood cell decreased",
)
AMINOTRANSFERASE_TERMS = (
    "Alanine aminotransferase increased",
    "Aspartate aminotransferase increased",
)
LAB_GRADES = (2, 3)
LAB_MIN_GRADE = min(LAB_GRADES)
_ZOSTER = re.compile(r"zoster|shingles", re.IGNORECASE)
# Thrombosis and embolism by term, not thrombocytopenia.
_THROMBOSIS = re.compile(r"thrombos|thrombot|embol", re.IGNORECASE)


@dataclass(frozen=True)
class ExposureRow:
    group: str  # a drug, a centre, or "all drugs"
    n_patients: int
    n_courses: int
    n_ongoing: int
    days: int

    @property
    def patient_years(self) -> float:
        return self.days / DAYS_PER_YEAR

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "n_patients": self.n_patients,
            "n_courses": self.n_courses,
            "n_ongoing": self.n_ongoing,
            "days": self.days,
            "patient_years": self.patient_years,
        }


@dataclass(frozen=True)
class ExposureSection:
    overall: ExposureRow
    by_drug: tuple[ExposureRow, ...]
    by_centre: tuple[ExposureRow, ...]
    cutoff: dt.date

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": "patient-years",
            "days_per_year": DAYS_PER_YEAR,
            "cutoff": self.cutoff.isoformat(),
            "rule": EXPOSURE_RULE.label(),
            "overall": self.overall.to_dict(),
            "by_drug": [r.to_dict() for r in self.by_drug],
            "by_centre": [r.to_dict() for r in self.by_centre],
        }


def _row(group: str, courses: Sequence[tuple[str, CourseView]]) -> ExposureRow:
    return ExposureRow(
        group=group,
        n_patients=len({pid for pid, _ in courses}),
        n_courses=len(courses),
        n_ongoing=sum(1 for _, c in courses if c.ongoing),
        days=sum(c.time_on_drug.days for _, c in courses),
    )


def exposure_section(views: Sequence[PatientView], cutoff: dt.date) -> ExposureSection:
    """Patient-years on drug overall, by drug and by centre (courses as seen at the cut-off)."""
    every = [(v.patient_id, c) for v in views for c in v.courses]
    by_drug: dict[str, list[tuple[str, CourseView]]] = defaultdict(list)
    by_centre: dict[str, list[tuple[str, CourseView]]] = defaultdict(list)
    for v in views:
        for c in v.courses:
            by_drug[c.drug].append((v.patient_id, c))
            by_centre[v.data.centre].append((v.patient_id, c))
    return ExposureSection(
        overall=_row(OVERALL, every),
        by_drug=tuple(_row(d, cs) for d, cs in sorted(by_drug.items())),
        by_centre=tuple(_row(k, cs) for k, cs in sorted(by_centre.items())),
        cutoff=cutoff,
    )


def course_of(view: PatientView, on: dt.date, *, start_included: bool = True) -> CourseView | None:
    """The course the patient was on at `on` (the latest started when courses overlap)."""
    found = None
    for c in view.courses:
        after_start = c.start <= on if start_included else c.start < on
        if after_start and on <= c.time_on_drug.end:
            found = c
    return found


def safety_events(
    view: PatientView, cutoff: dt.date, window: TreatmentEmergentWindow | None = None
) -> list[tuple[CourseView, AdverseEventData]]:
    """The patient's treatment-emergent adverse events, each with the course it counts for.

    The ONE selection used by every exposure-adjusted rate: `analysis.safety.treatment_emergent`
    (the report's own definition: onset from start − days_before_start to the seen stop +
    days_after_stop, never after the cut-off). An event naming its course counts for that course;
    otherwise for the latest-started course whose window contains the onset.
    """
    w = window if window is not None else default_window()
    out: list[tuple[CourseView, AdverseEventData]] = []
    by_no = {c.course_no: c for c in view.courses}
    for e in view.data.adverse_events:
        if not treatment_emergent(e, view.data.courses, cutoff, w):
            continue
        named = by_no.get(e.course_no) if e.course_no is not None else None
        if named is None:
            inside = [c for c in view.courses if w.contains(e.onset, c.start, c.stop, cutoff)]
            named = inside[-1] if inside else None
        if named is not None:
            out.append((named, e))
    return out


def lab_events(
    view: PatientView,
    cutoff: dt.date,
    terms: frozenset[str] | None = None,
    min_grade: int = 0,
) -> list[tuple[CourseView, LabData]]:
    """Graded labs dated after a course start and up to its end (the start-day value is baseline),
    optionally only of `terms` and at least `min_grade`."""
    out = []
    for lab in view.data.labs:
        if lab.ctcae_term is None or lab.ctcae_grade is None or lab.on > cutoff:
            continue
        if lab.ctcae_grade < min_grade or (terms is not None and lab.ctcae_term not in terms):
            continue
        c = course_of(view, lab.on, start_included=False)
        if c is not None:
            out.append((c, lab))
    return out


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: str  # adverse_event | lab
    definition: str
    ae: Callable[[AdverseEventData], bool] | None = None
    lab: Callable[[LabData], bool] | None = None


def _lab(terms: Sequence[str], grade: int) -> Callable[[LabData], bool]:
    wanted = frozenset(terms)
    return lambda x: x.ctcae_term in wanted and (x.ctcae_grade or 0) >= grade


def outcomes(infection_terms: Sequence[str] = ()) -> tuple[Outcome, ...]:
    ae = "adverse_event"
    fixed = (
        Outcome("all adverse events", ae, "every recorded adverse event", ae=lambda e: True),
        Outcome(
            "grade ≥ 3", ae, "CTCAE grade 3 or higher as recorded",
            ae=lambda e: e.grade is not None and e.grade >= 3,
        ),
        Outcome("serious", ae, "serious = yes", ae=lambda e: e.serious == "yes"),
        Outcome("infection (any)", ae, "category = infection",
                ae=lambda e: e.category == "infection"),
        Outcome("herpes zoster", ae, "term contains 'zoster' or 'shingles'",
                ae=lambda e: bool(_ZOSTER.search(e.term))),
        Outcome("thrombosis or embolism", ae,
                "term contains 'thrombos', 'thrombot' or 'embol' (not thrombocytopenia)",
                ae=lambda e: bool(_THROMBOSIS.search(e.term))),
    )  # fmt: skip
    by_term = tuple(
        Outcome(
            f"infection: {t}",
            ae,
            f"category = infection, term = {t}",
            ae=lambda e, t=t: e.category == "infection" and e.term == t,  # type: ignore[misc]
        )
        for t in infection_terms
    )
    labs = tuple(
        Outcome(f"{label} grade ≥ {g} (lab)", "lab", f"CTCAE grade ≥ {g} of {', '.join(terms)}",
                lab=_lab(terms, g))
        for label, terms in (("cytopenia", CYTOPENIA_TERMS), ("ALT/AST increased",
                                                               AMINOTRANSFERASE_TERMS))
        for g in LAB_GRADES
    )  # fmt: skip
    return fixed + by_term + labs


@dataclass(frozen=True)
class IncidenceRow:
    outcome: str
    kind: str
    definition: str
    drug: str
    n_patients_exposed: int
    patients_with_event: int
    first_event: PoissonRate  # patients with ≥ 1 / time at risk up to the first event
    recurrent: PoissonRate | None  # every event / all exposure (None for lab events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "kind": self.kind,
            "definition": self.definition,
            "drug": self.drug,
            "n_patients_exposed": self.n_patients_exposed,
            "patients_with_event": self.patients_with_event,
            "first_event": self.first_event.to_dict(),
            "recurrent": self.recurrent.to_dict() if self.recurrent is not None else None,
        }


@dataclass(frozen=True)
class IncidenceSection:
    rows: tuple[IncidenceRow, ...]
    confidence_level: float
    per: float = PER_PATIENT_YEARS

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_patient_years": self.per,
            "confidence_level": self.confidence_level,
            "method": POISSON_CI_METHOD,
            "selection": EXPOSURE_RULE.label(),
            "first_event_rule": (
                "patients with at least one event / on-drug time up to each patient's first "
                "event (all on-drug time for patients without one)"
            ),
            "recurrent_rule": "every event / all on-drug time; not given for lab events",
            "rows": [r.to_dict() for r in self.rows],
        }


def _days_until(courses: Sequence[CourseView], first: dt.date | None) -> int:
    total = 0
    for c in courses:
        end = c.time_on_drug.end if first is None else min(c.time_on_drug.end, first)
        if end >= c.start:
            total += (end - c.start).days
    return total


def incidence_section(
    views: Sequence[PatientView],
    cutoff: dt.date,
    *,
    confidence_level: float = 0.95,
    window: TreatmentEmergentWindow | None = None,
) -> IncidenceSection:
    """Exposure-adjusted rates (per 100 patient-years) overall and by drug, first-event and recurrent."""
    # Every lab outcome is one of these terms at grade 2 or more; the rest need no course look-up.
    wanted = frozenset(CYTOPENIA_TERMS + AMINOTRANSFERASE_TERMS)
    per_patient = [
        (v, safety_events(v, cutoff, window), lab_events(v, cutoff, wanted, LAB_MIN_GRADE))
        for v in views
    ]
    infection_terms = sorted(
        {e.term for _, evs, _ in per_patient for _, e in evs if e.category == "infection"}
    )
    outs = outcomes(infection_terms)
    drugs = sorted({c.drug for v in views for c in v.courses})
    scopes = [OVERALL, *drugs] if len(drugs) > 1 else [OVERALL]
    # (scope, outcome) → [exposed patients, patients with event, events, days to first, days all]
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for v, evs, labs in per_patient:
        for scope in scopes:
            courses = [c for c in v.courses if scope == OVERALL or c.drug == scope]
            if not courses:
                continue
            all_days = _days_until(courses, None)
            ids = {id(c) for c in courses}
            scope_evs = [e for c, e in evs if id(c) in ids]
            scope_labs = [x for c, x in labs if id(c) in ids]
            if not scope_evs and not scope_labs:
                for o in outs:
                    a = acc[(scope, o.name)]
                    a[0] += 1
                    a[3] += all_days
                    a[4] += all_days
                continue
            for o in outs:
                if o.ae is not None:
                    dates = [e.onset for e in scope_evs if o.ae(e)]
                elif o.lab is not None:
                    dates = [x.on for x in scope_labs if o.lab(x)]
                else:
                    dates = []
                a = acc[(scope, o.name)]
                a[0] += 1
                if dates:
                    a[1] += 1
                    a[2] += len(dates)
                    a[3] += _days_until(courses, min(dates))
                else:
                    a[3] += all_days
                a[4] += all_days
    rows = []
    for scope in scopes:
        for o in outs:
            exposed, with_event, n_events, first_days, days = acc[(scope, o.name)]
            if o.kind != "lab" and o.name.startswith("infection: ") and n_events == 0:
                continue  # a per-term row only where that infection occurred with this drug
            first = poisson_rate(
                with_event,
                first_days / DAYS_PER_YEAR,
                per=PER_PATIENT_YEARS,
                confidence_level=confidence_level,
            )
            recurrent = (
                poisson_rate(
                    n_events,
                    days / DAYS_PER_YEAR,
                    per=PER_PATIENT_YEARS,
                    confidence_level=confidence_level,
                )
                if o.kind == "adverse_event"
                else None
            )
            rows.append(
                IncidenceRow(o.name, o.kind, o.definition, scope, exposed, with_event, first,
                             recurrent)
            )  # fmt: skip
    return IncidenceSection(tuple(rows), confidence_level)
