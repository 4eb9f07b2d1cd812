"""The report's tables as data (built from the results; no rendering), and small-cell suppression."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from jakreg.analysis.literature_side import LiteratureComparison, Side
from jakreg.analysis.results import StudyResults
from jakreg.model.cells import csv_text, neutralise_cell
from jakreg.stats import ContinuousSummary
from jakreg.stats.proportions import ProportionCI

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # file name stem: tables/<name>.csv
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    count_columns: tuple[str, ...] = ()  # suppressed when small
    per_patient: bool = False  # one row per patient: left out when sharing with suppression
    # computed from a row's counts (percent, CI): blanked where one of the row's counts is hidden
    derived_columns: tuple[str, ...] = ()
    note: str | None = None

    def to_csv(self) -> str:
        rows = [["" if c is None else _csv_cell(c) for c in row] for row in self.rows]
        return csv_text([self.columns, *rows])


def _csv_cell(c: str | int | float) -> str | int | float:
    # text a centre typed (a citation, a manifestation) must not become a formula in a spreadsheet
    return round(c, 6) if isinstance(c, float) else neutralise_cell(c)


def suppress_count(value: Cell, below: int | None) -> Cell:
    """A count from 1 to below − 1 becomes '<below'; 0 is shown (it discloses no one)."""
    if below is None or not isinstance(value, int) or isinstance(value, bool):
        return value
    return f"<{below}" if 0 < value < below else value


def suppress(table: Table, below: int | None) -> Table:
    if below is None or not table.count_columns:
        return table
    idx = [table.columns.index(c) for c in table.count_columns]
    derived = [table.columns.index(c) for c in table.derived_columns]

    def one(row: tuple[Cell, ...]) -> tuple[Cell, ...]:
        cells = [suppress_count(c, below) if i in idx else c for i, c in enumerate(row)]
        if any(cells[i] != row[i] for i in idx):
            for i in derived:
                cells[i] = None
        return tuple(cells)

    return replace(table, rows=tuple(one(row) for row in table.rows))


def num(x: float | None, digits: int = 4) -> str:
    """A number for a reader: up to `digits` significant digits; '–' when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.{digits}g}"


def summary_text(s: ContinuousSummary, digits: int = 4) -> str:
    if not s.computable:
        return f"not computable ({s.reason}); missing {s.n_missing}"
    return (
        f"{num(s.median, digits)} ({num(s.minimum, digits)}–{num(s.maximum, digits)}); "
        f"IQR {num(s.q1, digits)}–{num(s.q3, digits)}"
    )


def _continuous_rows(label: str, s: ContinuousSummary) -> tuple[Cell, ...]:
    return (label, s.n, s.n_missing, s.median, s.minimum, s.maximum, s.q1, s.q3)


CONT_COLUMNS = ("variable", "n", "n_missing", "median", "min", "max", "q1", "q3")


def build_tables(r: StudyResults) -> list[Table]:
    """Every table of the report, unsuppressed, in report order."""
    c, t, i, resp, ae = r.cohort, r.treatment, r.idda, r.response, r.adverse_events
    tables = [
        Table(
            "cohort_continuous",
            "Cohort: continuous variables",
            CONT_COLUMNS,
            (
                _continuous_rows("age at first JAK-inhibitor start (years)", c.age_at_start_years),
                _continuous_rows("follow-up on JAK inhibitor (months)", c.follow_up_months),
                _continuous_rows("time on drug, first course (months)", t.time_on_drug_months),
            ),
            count_columns=("n", "n_missing"),
        ),
        Table(
            "cohort_categories",
            "Cohort: sex, drug and STAT1 domain (percent of known)",
            ("variable", "category", "n", "percent_of_known"),
            (
                *tuple(("sex", x.category, x.count, x.percent_of_known) for x in c.sex.counts),
                ("sex", "not recorded", c.sex.n_missing, None),
                *tuple(("drug (first course)", d, n, 100.0 * n / c.n_patients) for d, n in c.drugs),
                *tuple(
                    ("STAT1 domain", x.category, x.count, x.percent_of_known)
                    for x in c.variant_domain.counts
                ),
                ("STAT1 domain", "unknown", c.variant_domain.n_missing, None),
            ),
            count_columns=("n",),
        ),
        Table(
            "manifestation_groups",
            "Manifestations by HPO organ system (patients)",
            ("hpo_id", "organ_system", "n_patients"),
            tuple((g.key, g.label, g.n_patients) for g in c.manifestation_groups),
            count_columns=("n_patients",),
            note=c.manifestation_grouping,
        ),
        Table(
            "manifestations",
            "Manifestations (active or resolved at start; patients)",
            ("hpo_id", "label", "n_patients"),
            tuple((m.key, m.label, m.n_patients) for m in c.manifestations),
            count_columns=("n_patients",),
        ),
        Table(
            "prior_therapies",
            "Prior therapies (first course; patients)",
            ("therapy", "n_patients"),
            tuple((p.label, p.n_patients) for p in c.prior_therapies),
            count_columns=("n_patients",),
        ),
        Table(
            "doses_by_drug",
            "Doses at start and latest, by drug (mg/kg/day and mg/m²/day)",
            ("drug", "n_courses", "measure", "n", "median", "min", "max"),
            tuple(
                (d.drug, d.n_courses, label, s.n, s.median, s.minimum, s.maximum)
                for d in t.doses_by_drug
                for label, s in (
                    ("start mg/kg/day", d.start_mg_per_kg_day),
                    ("latest mg/kg/day", d.latest_mg_per_kg_day),
                    ("start mg/m²/day", d.start_mg_per_m2_day),
                    ("latest mg/m²/day", d.latest_mg_per_m2_day),
                )
            ),
            count_columns=("n_courses", "n"),
        ),
        Table(
            "courses",
            "Treatment courses",
            (
                "patient",
                "course",
                "drug",
                "start",
                "stop",
                "stop_reason",
                "indication",
                "months_on_drug",
                "start_mg_per_kg_day",
                "latest_mg_per_kg_day",
                "start_mg_per_m2_day",
                "latest_mg_per_m2_day",
                "azole",
            ),
            tuple(
                (
                    x.patient,
                    x.course_no,
                    x.drug,
                    x.start.isoformat(),
                    x.stop.isoformat() if x.stop else None,
                    x.stop_reason,
                    x.indication,
                    x.months_on_drug,
                    x.start_mg_per_kg_day,
                    x.latest_mg_per_kg_day,
                    x.start_mg_per_m2_day,
                    x.latest_mg_per_m2_day,
                    x.azole_comedication,
                )
                for x in t.courses
            ),
            per_patient=True,
        ),
        Table(
            "idda_pairs",
            f"{i.score} before and under JAK inhibitor, by patient",
            ("patient", "before_date", "before", "under_date", "under", "difference", "paired"),
            tuple(
                (
                    p.patient,
                    p.before.on.isoformat() if p.before else None,
                    p.before.value if p.before else None,
                    p.under.on.isoformat() if p.under else None,
                    p.under.value if p.under else None,
                    p.under.value - p.before.value if p.before and p.under else None,
                    "yes" if p.paired else "no",
                )
                for p in i.patients
            ),
            per_patient=True,
        ),
        Table(
            "idda_excluded",
            f"{i.score}: patients without a pair, and why",
            ("patient", "reason"),
            tuple((e["patient"], e["reason"]) for e in i.excluded),
            per_patient=True,
        ),
        Table(
            "responses",
            "Recorded global response (first course; patients)",
            ("response", "n_patients", "percent", "ci_lower_percent", "ci_upper_percent"),
            tuple(
                (label, n, *_percent_ci(resp.proportion(n)))
                for label, n in (
                    ("complete (CR)", resp.complete),
                    ("partial (PR)", resp.partial),
                    ("none (NR)", resp.none),
                    ("not evaluable (NE)", resp.not_evaluable),
                    ("not recorded", resp.not_recorded),
                    ("complete or partial", resp.complete_or_partial),
                    ("evaluable", resp.evaluable),
                )
            ),
            count_columns=("n_patients",),
            derived_columns=("percent", "ci_lower_percent", "ci_upper_percent"),
            note=(
                f"Percent of all {resp.n_patients} analysed patients (NE and not recorded in the "
                f"denominator) with the exact {100 * resp.confidence_level:g}% confidence interval "
                "(Clopper–Pearson)."
            ),
        ),
        Table(
            "responses_derived",
            "Derived global response (first course; patients)",
            ("response", "n_patients"),
            tuple(resp.derived_counts),
            count_columns=("n_patients",),
            note=resp.rule.info.label(),
        ),
        Table(
            "responses_by_manifestation",
            "Response per manifestation (latest per course)",
            ("hpo_id", "label", "CR", "PR", "NR", "NE"),
            tuple((h, lab, *(n for _, n in counts)) for h, lab, counts in resp.by_manifestation),
            count_columns=("CR", "PR", "NR", "NE"),
        ),
        Table(
            "response_disagreements",
            "Recorded vs derived global response: disagreements",
            ("patient", "course", "recorded", "derived"),
            tuple(resp.disagreements),
            per_patient=True,
        ),
        Table(
            "adverse_events",
            "Adverse events by term and grade",
            ("category", "term", "grade", "n_events", "n_patients"),
            tuple(
                (x.category, x.term, x.grade, x.n_events, x.n_patients) for x in ae.by_term_grade
            ),
            count_columns=("n_events", "n_patients"),
        ),
        Table(
            "infections",
            "Infections (likely adverse event: attribution "
            + ", ".join(ae.infection_attributions)
            + ")",
            ("patient", "term", "onset", "grade", "attribution", "likely_adverse_event"),
            tuple(
                (
                    x.patient,
                    x.term,
                    x.onset.isoformat(),
                    x.grade,
                    x.attribution,
                    "yes" if x.likely else "no",
                )
                for x in ae.infections
            ),
            per_patient=True,
        ),
        Table(
            "lab_grades",
            "Highest CTCAE grade on therapy from laboratory values (patients)",
            ("term", "max_grade", "n_patients"),
            tuple((g.term, grade, n) for g in ae.lab_grades for grade, n in g.by_max_grade),
            count_columns=("n_patients",),
        ),
        Table(
            "stops",
            "JAK inhibitor stopped (first course), by reason",
            ("reason", "n_patients"),
            tuple(r.discontinuation.reasons.items()),
            count_columns=("n_patients",),
        ),
        _survival_table(r),
    ]
    if r.literature is not None:
        tables.append(_comparison_table(r.literature))
    from jakreg.report.tables_questions import question_tables

    return tables + question_tables(r)


def _survival_table(r: StudyResults) -> Table:
    km = r.drug_survival.kaplan_meier
    return Table(
        "drug_survival",
        "Still on drug (Kaplan–Meier, first course)",
        ("months", "at_risk", "on_drug", "ci_lower", "ci_upper"),
        tuple((v.time, v.at_risk, v.estimate, v.ci_lower, v.ci_upper) for v in km.at_times),
        count_columns=("at_risk",),
    )


def _percent_ci(ci: ProportionCI) -> tuple[Cell, Cell, Cell]:
    if not ci.computable:
        return None, None, None
    return tuple(100.0 * (v or 0.0) for v in (ci.proportion, ci.ci_lower, ci.ci_upper))  # type: ignore[return-value]


def _side(side: Side) -> tuple[Cell, Cell, Cell]:
    """n known, n yes (binary) and the value a reader compares: percent with its exact CI, or
    median (range)."""
    if side.n_yes is not None:
        if side.ci is not None:
            text = side.ci.percent_text() if side.ci.computable else None
            return side.n_known, side.n_yes, text
        pct = 100.0 * side.n_yes / side.n_known if side.n_known else None
        return side.n_known, side.n_yes, None if pct is None else f"{num(pct, 3)}%"
    value = (
        f"{num(side.median)} ({num(side.minimum)}–{num(side.maximum)})" if side.n_known else None
    )
    return side.n_known, None, value


def _comparison_table(comparison: LiteratureComparison) -> Table:
    rows = []
    for v in comparison.variables:
        test = "Fisher's exact test" if v.kind == "binary" else "Mann–Whitney U"
        cautions = (
            f"not computable: {v.test.reason}"
            if not v.test.computable
            else "; ".join(v.test.cautions)
        )
        rows.append((v.label, *_side(v.cohort), *_side(v.literature), test, v.p_value, cautions))
    return Table(
        "comparison",
        "Cohort vs published cases (known values only; blank = unknown, never 'no')",
        ("variable", "cohort_n_known", "cohort_n_yes", "cohort", "literature_n_known",
         "literature_n_yes", "literature", "test", "p_value", "cautions"),
        tuple(rows),
        count_columns=("cohort_n_known", "cohort_n_yes", "literature_n_known", "literature_n_yes"),
        note=comparison.caution,
    )  # fmt: skip


def tables_for_sharing(tables: Sequence[Table], suppress_below: int | None) -> list[Table]:
    """With suppression on, per-patient tables are left out and small counts replaced."""
    if suppress_below is None:
        return list(tables)
    return [suppress(t, suppress_below) for t in tables if not t.per_patient]
