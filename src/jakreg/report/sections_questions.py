"""Report sections for the open-question analyses: paragraphs, tables and figure slots as data."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jakreg.analysis.results import StudyResults
from jakreg.report.context import FigureSlot, Section, _n
from jakreg.report.tables import Table, num

FIGURES: dict[str, FigureSlot] = {}


def question_sections(
    r: StudyResults,
    tabs: Callable[..., tuple[Table, ...]],
    figs: Callable[..., tuple[FigureSlot, ...]],
    below: int | None,
) -> tuple[Section, ...]:
    """The sections in report order; none when the results carry no open-question analyses."""
    q = r.questions
    if q is None:
        return ()
    e, inc = q.exposure, q.incidence
    by_drug = "; ".join(f"{x.group} {num(x.patient_years)}" for x in e.by_drug) or "–"
    exposure = Section(
        "exposure",
        "Exposure",
        (
            f"{num(e.overall.patient_years)} patient-years on drug in "
            f"{_n(e.overall.n_patients, below)} patients ({_n(e.overall.n_courses, below)} "
            f"courses, {_n(e.overall.n_ongoing, below)} ongoing at the cut-off "
            f"{e.cutoff.isoformat()}); by drug: {by_drug}.",
            "Each course counts from its start to its stop, else to the last follow-up or the "
            "cut-off (the time-on-drug rule); 365.25 days make a patient-year.",
        ),
        tabs("exposure"),
    )
    overall = {x.outcome: x for x in inc.rows if x.drug == "all drugs"}
    lines = []
    for name in ("all adverse events", "grade ≥ 3", "infection (any)", "herpes zoster"):
        row = overall.get(name)
        if row is not None and row.recurrent is not None:
            lines.append(f"{name}: {row.recurrent.summary()}")
    rates = Section(
        "exposure_adjusted_incidence",
        "Exposure-adjusted incidence",
        (
            "Adverse events with onset within a course, and graded laboratory values after a "
            "course start, per 100 patient-years on drug; both the rate of first events (patients "
            "with at least one) and, for adverse events, of all events are given, each with an "
            "exact Poisson interval (never a normal approximation).",
            *(s + "." for s in lines),
        ),
        tabs("exposure_adjusted_incidence"),
    )
    return (exposure, rates)


def insert_after(
    sections: Sequence[Section], anchor: str, extra: Sequence[Section]
) -> tuple[Section, ...]:
    """`sections` with `extra` placed after the section with id `anchor` (at the end if absent)."""
    out: list[Section] = []
    for s in sections:
        out.append(s)
        if s.id == anchor:
            out.extend(extra)
    if anchor not in {s.id for s in sections}:
        out.extend(extra)
    return tuple(out)
