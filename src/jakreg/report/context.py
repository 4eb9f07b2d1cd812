"""The report as data: sections, sentences, tables and figure slots, built from the results alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from jakreg.analysis.results import SYNTHETIC_NOTE, StudyResults
from jakreg.report.tables import Table, build_tables, num, summary_text, suppress_count
from jakreg.stats import ContinuousSummary
from jakreg.stats._common import p_phrase
from jakreg.stats.proportions import ProportionCI

PER_PATIENT_FIGURES = frozenset(
    {"swimmer", "idda_paired", "idda_spaghetti", "dose_kg", "dose_m2", "biomarkers"}
)


@dataclass(frozen=True)
class FigureSlot:
    name: str
    title: str
    caption: str


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[FigureSlot, ...] = ()
    items: tuple[str, ...] = ()  # a bullet list


@dataclass(frozen=True)
class ReportContext:
    title: str
    generated_at: str
    banner: str | None
    suppression_note: str | None
    headline: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    tables: tuple[Table, ...] = field(default=())  # every table written to tables/*.csv

    @property
    def headings(self) -> list[str]:
        return [s.heading for s in self.sections]

    @property
    def figures(self) -> list[FigureSlot]:
        return [f for s in self.sections for f in s.figures]


FIGURES = {
    "idda_paired": FigureSlot(
        "idda_paired",
        "IDDA before and under JAK inhibitor",
        "One line per patient with a complete pair, from the 'before' to the 'under' score "
        "(blue: fell, red: rose). Patients without a pair are listed below with the reason.",
    ),
    "swimmer": FigureSlot(
        "swimmer",
        "Treatment timeline per patient",
        "One lane per patient: course bar coloured by drug, black ticks at dose changes, circles "
        "above the bar for recorded global responses, triangles below for adverse events, a star "
        "for HSCT, an arrow when the course is ongoing; dashed line: data cut-off.",
    ),
    "km": FigureSlot(
        "km",
        "Time on drug (Kaplan–Meier)",
        "Proportion still on the first JAK-inhibitor course, with its confidence band; ticks mark "
        "censoring (still on drug); numbers below the axis are patients at risk.",
    ),
    "cif": FigureSlot(
        "cif",
        "Stops by reason (cumulative incidence)",
        "Aalen–Johansen cumulative incidence of each stop reason, the other reasons as competing "
        "events.",
    ),
    "response_bars": FigureSlot(
        "response_bars",
        "Responses: cohort and published cases",
        "Share of patients by recorded global response; grey = not reported (unknown, not 'no').",
    ),
}


def _n(value: int, below: int | None) -> str:
    return str(suppress_count(value, below))


def _of(n: int, d: int, below: int | None) -> str:
    return f"{_n(n, below)}/{_n(d, below)}"


RESPONSE_HEADLINE = (
    "partial or complete response (of all analysed patients, NE and not recorded included)"
)


def _ci_text(ci: ProportionCI, below: int | None) -> str:
    """' (95% CI 12.2–73.8%)' after a count; nothing when counts are suppressed (the interval
    would give the count away) or there is no denominator."""
    if below is not None or not ci.computable:
        return ""
    return " = " + ci.percent_text()


def headline(r: StudyResults, below: int | None) -> tuple[tuple[str, str], ...]:
    c, i = r.cohort, r.idda
    drugs = ", ".join(f"{d} {_n(n, below)}" for d, n in c.drugs) or "–"
    w = i.comparison.wilcoxon
    p = (
        f"{p_phrase(w.p_value)} ({w.method}, {w.alternative})"
        if w.computable
        else (f"not computable ({w.reason})")
    )
    stops = ", ".join(f"{k} {_n(v, below)}" for k, v in r.discontinuation.reasons.items())
    rows = [
        ("patients / centres", f"{_n(c.n_patients, below)} / {_n(c.n_centres, below)}"),
        ("age at start (years), median (range)", _median_range(c.age_at_start_years)),
        ("drug", drugs),
        ("follow-up on JAK inhibitor (months), median (range)", _median_range(c.follow_up_months)),
        (
            RESPONSE_HEADLINE,
            _of(r.response.complete_or_partial, r.response.n_patients, below)
            + _ci_text(r.response.proportion(r.response.complete_or_partial), below),
        ),
        (f"{i.score} before JAK inhibitor, median (range)", _median_range(i.before)),
        (f"{i.score} under JAK inhibitor, median (range)", _median_range(i.under)),
        (f"{i.score} pairs used; p (before vs under)", f"{_n(i.n_pairs, below)} pairs; {p}"),
        (
            "infection as likely adverse event",
            _of(r.adverse_events.patients_with_infection, r.adverse_events.n_patients, below),
        ),
        (
            "JAK inhibitor stopped",
            _of(r.discontinuation.n, r.discontinuation.n_patients, below)
            + (f": {stops}" if stops else ""),
        ),
    ]
    if r.literature is not None and r.literature.n_patients == 0:
        rows.append(("published cases", "none loaded"))
    elif r.literature is not None:
        lc = r.literature.literature_responses
        known = sum(n for k, n in lc if k in ("CR", "PR", "NR"))
        cp = sum(n for k, n in lc if k in ("CR", "PR"))
        rows.append(
            (
                "published cases: partial or complete response (of CR, PR or NR)",
                f"{_of(cp, known, below)} (published cases: {_n(r.literature.n_patients, below)})",
            )
        )
    return tuple(rows)


def _median_range(s: ContinuousSummary) -> str:
    if not s.computable:
        return f"not computable ({s.reason})"
    return f"{num(s.median)} ({num(s.minimum)}–{num(s.maximum)}), n = {s.n}"


def _by_name(tables: Sequence[Table]) -> dict[str, Table]:
    return {t.name: t for t in tables}


def _slot(name: str, r: StudyResults) -> FigureSlot:
    from jakreg.report.figures import MAX_PAIR_LINES, MAX_SWIMMER_LANES
    from jakreg.report.sections_questions import FIGURES as QUESTION_FIGURES

    slot = FIGURES.get(name) or QUESTION_FIGURES[name]
    if name == "swimmer" and len(r.timeline) > MAX_SWIMMER_LANES:
        note = (
            f" Showing the first {MAX_SWIMMER_LANES} of {len(r.timeline)} patients; every "
            "timeline is in results.json."
        )
        return dataclasses.replace(slot, caption=slot.caption + note)
    if name == "idda_paired" and r.idda.n_pairs > MAX_PAIR_LINES:
        note = (
            f" With {r.idda.n_pairs} pairs, lines are drawn for {MAX_PAIR_LINES} of them (evenly "
            "spaced in pseudonym order) over box plots of every pair's scores (median, quartiles, "
            "whiskers to 1.5 IQR); the black line joins the medians. Every pair is in "
            "tables/idda_pairs.csv and results.json."
        )
        return dataclasses.replace(slot, caption=slot.caption + note)
    return slot


def build_context(
    r: StudyResults,
    *,
    suppress_below: int | None = None,
    generated_at: dt.datetime | None = None,
    extra_sections: Sequence[Section] = (),
) -> ReportContext:
    """Everything the templates show; tables already suppressed when `suppress_below` is set."""
    from jakreg.report.tables import tables_for_sharing

    shared = tables_for_sharing(build_tables(r), suppress_below)
    t = _by_name(shared)

    def tabs(*names: str) -> tuple[Table, ...]:
        return tuple(t[n] for n in names if n in t)

    def figs(*names: str) -> tuple[FigureSlot, ...]:
        hidden = PER_PATIENT_FIGURES if suppress_below is not None else frozenset()
        return tuple(_slot(n, r) for n in names if n not in hidden)

    i, ae, below = r.idda, r.adverse_events, suppress_below
    sections = (
        Section("cohort", "Cohort",
                (f"{_n(r.cohort.n_patients, below)} patients at "
                 f"{_n(r.cohort.n_centres, below)} centres; "
                 f"{_n(len(r.data.excluded), below)} selected patients left out (no JAK-inhibitor course by "
                 "the cut-off).",),
                tabs("cohort_continuous", "cohort_categories", "manifestation_groups",
                     "manifestations", "prior_therapies")),
        Section("treatment", "Treatment",
                (f"{_n(r.treatment.n_courses, below)} courses. Doses are summarised per drug because mg/kg "
                 "are not comparable across drugs.",),
                tabs("doses_by_drug", "courses"), figs("swimmer")),
        Section("idda", f"{i.score} before and under JAK inhibitor", _idda_text(r, below),
                tabs("idda_pairs", "idda_excluded"), figs("idda_paired")),
        Section("responses", "Responses", _response_text(r, below),
                tabs("responses", "responses_derived", "responses_by_manifestation",
                     "response_disagreements"), figs("response_bars")),
        Section("safety", "Adverse events",
                (f"Infection considered a likely adverse event (attribution "
                 f"{', '.join(ae.infection_attributions)}): "
                 f"{_of(ae.patients_with_infection, ae.n_patients, below)} patients; "
                 f"any infection: {_n(ae.patients_with_any_infection, below)}.",
                 f"Hepatotoxicity (CTCAE grade ≥ {ae.hepatotoxicity_min_grade} of ALT, AST, "
                 f"bilirubin or ALP increased on therapy, from graded laboratory values): "
                 f"{_of(len(ae.hepatotoxicity_patients), ae.n_patients, below)} "
                 "patients."),
                tabs("adverse_events", "infections", "lab_grades")),
        Section("discontinuation", "Discontinuation and drug survival", _survival_text(r),
                tabs("stops", "drug_survival"), figs("km", "cif")),
        Section("literature", "Comparison with published cases", _literature_text(r),
                tabs("comparison")),
        *extra_sections,  # e.g. study conduct (jakreg.report.quality_part)
        Section("methods", "Methods", _methods_text(r, suppress_below),
                items=tuple(_rule_items(r))),
    )  # fmt: skip
    from jakreg.report.sections_questions import insert_after, question_sections

    all_sections = insert_after(sections, "safety", question_sections(r, tabs, figs, below))
    return ReportContext(
        title="JAK-inhibitor therapy in STAT1 gain of function: study report",
        generated_at=(generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        banner=SYNTHETIC_NOTE if r.data.synthetic_example else None,
        suppression_note=(
            f"Counts from 1 to {suppress_below - 1} are shown as '<{suppress_below}'; per-patient "
            "tables and figures are left out."
            if suppress_below is not None
            else None
        ),
        headline=headline(r, suppress_below),
        sections=all_sections,
        tables=(*shared, *(t for s in extra_sections for t in s.tables)),
    )


def _idda_text(r: StudyResults, below: int | None) -> tuple[str, ...]:
    i = r.idda
    c = i.comparison
    w, hl, rb, st = c.wilcoxon, c.hodges_lehmann, c.rank_biserial, c.sign_test
    lines = [
        f"Pairs are formed by patient (first course) with the window rule "
        f"'{i.window_rule.name}': {_of(c.counts.n_complete, i.n_patients, below)} patients have "
        f"a complete pair; {_n(len(i.excluded), below)} have none (listed with the reason).",
        f"Before: {summary_text(i.before)} (n = {i.before.n}); under: {summary_text(i.under)} "
        f"(n = {i.under.n}). Totals are as reported ({i.total_rule.label()}).",
    ]
    if w.computable:
        lines.append(
            f"Wilcoxon signed-rank test: {w.method}, {w.alternative}, zero_method = "
            f"{w.zero_method} ({c.counts.n_zero} zero differences), continuity correction "
            f"{'on' if w.correction else 'off'}; statistic {num(w.statistic)}, "
            f"{p_phrase(w.p_value)}, n = {w.n_ranked}."
        )
    else:
        lines.append(f"Wilcoxon signed-rank test: not computable ({w.reason}).")
    lines.append(hl.summary() + f" (difference = {c.direction}).")
    lines.append(rb.summary() + ". " + st.summary() + ".")
    return tuple(lines)


def _response_text(r: StudyResults, below: int | None) -> tuple[str, ...]:
    s = r.response
    lines = [
        f"Recorded global response of each patient's first course (the latest on or before the "
        f"cut-off): CR {_n(s.complete, below)}, PR {_n(s.partial, below)}, NR {_n(s.none, below)}, "
        f"NE {_n(s.not_evaluable, below)}, not recorded {_n(s.not_recorded, below)}; complete or "
        f"partial {_of(s.complete_or_partial, s.n_patients, below)}.",
        f"Derived from per-manifestation responses with '{s.rule.info.name}' "
        f"({s.rule.info.status.value}); {_n(len(s.disagreements), below)} disagreements with the "
        "recorded "
        "response.",
        f"Denominators: the summary and this section give complete or partial responses of all "
        f"{_n(s.n_patients, below)} analysed patients (NE and not recorded in the denominator); "
        f"the comparison with published cases counts only patients with CR, PR or NR on both "
        f"sides ({_n(s.evaluable, below)} here), so its percentage differs.",
    ]
    return tuple(lines)


# Patients named one by one in a paragraph at most; the rest are counted (all are in results.json).
MAX_NAMED_PATIENTS = 20


def _survival_text(r: StudyResults) -> tuple[str, ...]:
    km = r.drug_survival.kaplan_meier
    left_out = r.drug_survival.left_out
    lines = list(km.summary()[:1])
    lines += [f"Left out: {p} ({why})." for p, why in left_out[:MAX_NAMED_PATIENTS]]
    if len(left_out) > MAX_NAMED_PATIENTS:
        lines.append(
            f"… and {len(left_out) - MAX_NAMED_PATIENTS} more patients left out "
            "(all in results.json, drug_survival.left_out)."
        )
    warned = r.drug_survival.follow_up_warnings
    if warned:
        lines.append(
            f"Warning: {len(warned)} patients' first course is counted as still on drug up to the "
            "cut-off without a last follow-up that shows it; check their last_follow_up:"
        )
        lines += [f"Warning: {p}: {why}." for p, why in warned[:MAX_NAMED_PATIENTS]]
        if len(warned) > MAX_NAMED_PATIENTS:
            lines.append(
                f"… and {len(warned) - MAX_NAMED_PATIENTS} more (all in results.json, "
                "drug_survival.follow_up_warnings)."
            )
    return tuple(lines)


def _literature_text(r: StudyResults) -> tuple[str, ...]:
    lit = r.literature
    if lit is None:
        return ("The comparison with published cases was not requested (--no-literature).",)
    lines = [
        f"Published cases: {lit.n_patients} patients ({lit.n_records} records; source: "
        f"{lit.source}).",
        *lit.duplicate_notes,
        lit.caution,
    ]
    if lit.low_confidence:
        lines.append("Low-confidence sources: " + ", ".join(lit.low_confidence) + ".")
    if lit.n_patients == 0:
        lines.append("No published cases are loaded, so no comparison could be computed.")
    return tuple(lines)


def _methods_text(r: StudyResults, below: int | None) -> tuple[str, ...]:
    m, d = r.methods, r.data
    sel = f"centre {d.centre}" if d.centre else "all centres"
    src = f"source = {d.source}" if d.source else "every source"
    lines = [
        f"Patients: {sel}, {src}; data cut-off {m.cutoff} ({m.cutoff_source}). Rows dated after "
        "the cut-off are ignored.",
        f"Data snapshot SHA-256 (canonical dump of the selected rows): {m.data_sha256}.",
        "Software: " + ", ".join(f"{k} {v}" for k, v in m.software) + ".",
    ]
    if d.hpo_release:
        lines.append(f"HPO release used for grouping: {d.hpo_release}.")
    if below is not None:
        lines.append(f"Small-cell suppression: counts below {below} replaced.")
    for test in m.tests:
        lines.append(f"{test.purpose}: {test.test} — {test.options}.")
    return tuple(lines)


def _rule_items(r: StudyResults) -> list[str]:
    out = []
    for rule in r.methods.rules:
        flag = " — PROVISIONAL" if rule.status.value == "provisional" else ""
        out.append(
            f"{rule.name}, version {rule.version} ({rule.status.value}{flag}): {rule.source}"
        )
    return out
