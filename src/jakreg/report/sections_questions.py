"""Report sections for the open-question analyses: paragraphs, tables and figure slots as data."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jakreg.analysis.biomarkers import NO_THRESHOLD
from jakreg.analysis.dosing import CHANGE_REASONS_NOTE
from jakreg.analysis.results import StudyResults
from jakreg.analysis.time_to_response import TimeToResponseSection
from jakreg.report.context import FigureSlot, Section, _n
from jakreg.report.tables import Table, num
from jakreg.stats._common import p_phrase

FIGURES: dict[str, FigureSlot] = {
    "biomarkers": FigureSlot(
        "biomarkers",
        "Biomarkers over time",
        "One panel per marker in the lab's units: a line per patient, 0 = the start of the first "
        "course (dashed); green band: the lab's reference range (the one reported most often). No "
        "response threshold is implied.",
    ),
    "dose_kg": FigureSlot(
        "dose_kg",
        "Dose over time (mg/kg/day)",
        "One line per course through its dose records, coloured by drug; 0 = the course start. "
        "Doses per kg are not comparable across drugs.",
    ),
    "dose_m2": FigureSlot(
        "dose_m2",
        "Dose over time (mg/m²/day)",
        "As above, per m² of body surface (Mosteller).",
    ),
    "idda_spaghetti": FigureSlot(
        "idda_spaghetti",
        "Every score over time",
        "One grey line per patient through all recorded totals; blue: before the first start, "
        "red: under a JAK inhibitor, grey crosses: off drug; dashed line: the course start.",
    ),
    "time_to_response": FigureSlot(
        "time_to_response",
        "Time to first response (cumulative incidence)",
        "Aalen–Johansen cumulative incidence of a first recorded CR or PR on the first course, "
        "with stopping before a response as the competing event; bands are confidence intervals, "
        "numbers below the axis are patients at risk.",
    ),
}


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
        rec = row.recurrent if row is not None else None
        if rec is not None and rec.computable:
            lines.append(
                f"{name}: {_n(rec.events, below)} events in {num(rec.exposure)} patient-years, "
                f"{num(rec.rate, 3)} per {rec.per:g} ({rec.confidence_level:.0%} CI "
                f"{num(rec.lower, 3)}–{num(rec.upper, 3)})"
            )
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
    ttr = q.time_to_response
    ttr_lines = [
        "Time from the start of each patient's first course to the first recorded global CR "
        "or PR on that course; a stop before a response is a competing event, a patient still "
        "on drug without one is censored at the last follow-up or cut-off.",
        _ttr_text(ttr, below),
        "The Kaplan–Meier median treats stopping as censoring and so over-states the chance of a "
        "response; the cumulative incidence (figure) does not.",
    ]
    if ttr.left_out:
        ttr_lines.append(f"Left out: {_n(len(ttr.left_out), below)} patients (reasons in "
                         "results.json, time_to_response.left_out).")  # fmt: skip
    time_to_response = Section(
        "time_to_response",
        "Time to response",
        tuple(ttr_lines),
        tabs("time_to_response"),
        figs("time_to_response"),
    )
    lon = q.longitudinal
    m = lon.model
    lon_lines = [
        f"{_n(len(lon.points), below)} {lon.score} totals of {_n(lon.n_patients, below)} patients "
        "over time, 0 = the start of the first course.",
        "Linear mixed model (statsmodels MixedLM, REML): total ~ time since start (months) + "
        "under (vs before), random intercept per patient; scores off drug are left out.",
        m.summary() if m.computable else f"Mixed model not fitted: {m.reason}.",
    ]
    if m.warnings:
        lon_lines.append("Fit warnings: " + "; ".join(m.warnings) + ".")
    longitudinal = Section(
        "idda_longitudinal",
        f"{lon.score} over time",
        tuple(lon_lines),
        tabs("idda_mixed_model"),
        figs("idda_spaghetti"),
    )
    pairs = [row.n_pairs for row in q.sensitivity.rows]
    sensitivity = Section(
        "idda_sensitivity",
        f"Sensitivity of the {r.idda.score} result",
        (
            f"The paired before/under analysis re-run with other window rules (before window "
            f"30–180 days; 'under' nearest to a 3-, 6- or 12-month landmark instead of the last "
            f"on therapy) and with physician-scored assessments only; "
            f"{_n(min(pairs, default=0), below)} to {_n(max(pairs, default=0), below)} pairs.",
        ),
        tabs("idda_sensitivity"),
    )
    a = q.after_stopping
    after = Section(
        "after_stopping",
        "Outcomes after stopping",
        (
            f"{_n(len(a.stops), below)} course stops by the cut-off. For each, the first of: a "
            "later JAK-inhibitor course (same drug: restart; another: switch) or HSCT; without "
            "either, the vital status or the last follow-up.",
        ),
        tabs("after_stopping"),
    )
    ds = q.dosing
    dose_lines = [
        "Every dose record of every course, from the course start; the dose at the latest "
        "recorded response of the first course is compared between responders (CR or PR) and "
        "non-responders (NR) per drug with the Mann–Whitney U test (exact for small groups "
        "without ties).",
    ]
    for x in ds.at_response:
        t = x.test
        dose_lines.append(
            f"{x.drug}: CR or PR n = {_n(t.n[0], below)}, median {num(t.medians[0])}; NR n = "
            f"{_n(t.n[1], below)}, median {num(t.medians[1])} {x.unit}; "
            + (f"{p_phrase(t.p_value)} ({t.method})." if t.computable else
               f"not computable ({t.reason}).")
        )  # fmt: skip
    dose_lines.append("Reasons for dose changes: " + CHANGE_REASONS_NOTE + ".")
    dosing = Section(
        "dosing",
        "Dosing over time",
        tuple(dose_lines),
        tabs("dose_at_response", "dose_changes", "ruxolitinib_azole"),
        figs("dose_kg", "dose_m2"),
    )
    bio = q.biomarkers
    bio_lines = [
        NO_THRESHOLD,
        f"Before/under values per marker are chosen with the same window rule as the "
        f"{bio.score} pairs; the change (under − before) is tested with the Wilcoxon signed-rank "
        f"test (exact for small samples) and correlated with the {bio.score} change "
        "(Spearman; exact permutation p for up to 8 pairs).",
    ]
    if not bio.markers:
        bio_lines.append("No biomarkers are recorded.")
    biomarkers = Section(
        "biomarkers",
        "Biomarkers",
        tuple(bio_lines),
        tabs("biomarker_changes"),
        figs("biomarkers"),
    )
    return (exposure, rates, dosing, time_to_response, longitudinal, sensitivity, biomarkers,
            after)  # fmt: skip


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


def _ttr_text(ttr: TimeToResponseSection, below: int | None) -> str:
    km = ttr.kaplan_meier
    if not km.computable:
        return "No patient has time on drug, so there is no time to response."
    level = f"{km.confidence_level:.0%}"
    if km.median_reached:
        upper = "not reached" if km.median_ci_upper is None else num(km.median_ci_upper, 3)
        median = (
            f"median {num(km.median, 3)} months ({level} CI {num(km.median_ci_lower, 3)}–{upper})"
        )
    else:
        median = "median not reached (fewer than half responded while followed)"
    return (
        f"{_n(ttr.n_responded, below)} of {_n(len(ttr.patients), below)} patients had a first CR "
        f"or PR recorded; {_n(ttr.n_stopped, below)} stopped before one; Kaplan–Meier {median}."
    )
