"""Tables of the open-question analyses (exposure, rates, ...), built from the results alone."""

from __future__ import annotations

from jakreg.analysis.after_stop import OUTCOMES
from jakreg.analysis.biomarkers import NO_THRESHOLD
from jakreg.analysis.dosing import CHANGE_REASONS_NOTE
from jakreg.analysis.exposure import ExposureRow
from jakreg.analysis.results import StudyResults
from jakreg.analysis.time_to_response import RESPONDED
from jakreg.report.tables import Cell, Table


def _exposure_rows(kind: str, rows: tuple[ExposureRow, ...]) -> list[tuple[Cell, ...]]:
    return [
        (kind, x.group, x.n_patients, x.n_courses, x.n_ongoing, round(x.patient_years, 2))
        for x in rows
    ]


def question_tables(r: StudyResults) -> list[Table]:
    """Every table of the open-question sections, in report order (empty without them)."""
    q = r.questions
    if q is None:
        return []
    e, inc = q.exposure, q.incidence
    exposure = Table(
        "exposure",
        "Exposure: patient-years on drug",
        ("by", "group", "n_patients", "n_courses", "n_ongoing", "patient_years"),
        tuple(
            _exposure_rows("overall", (e.overall,))
            + _exposure_rows("drug", e.by_drug)
            + _exposure_rows("centre", e.by_centre)
        ),
        count_columns=("n_patients", "n_courses", "n_ongoing"),
    )
    pct = f"{inc.confidence_level:.0%}"
    rates = Table(
        "exposure_adjusted_incidence",
        f"Events per {inc.per:g} patient-years with exact {pct} Poisson CI",
        (
            "drug", "outcome", "patients_exposed", "patients_with_event",
            "first_event_rate", "first_ci_lower", "first_ci_upper",
            "events", "recurrent_rate", "recurrent_ci_lower", "recurrent_ci_upper",
        ),
        tuple(
            (
                x.drug, x.outcome, x.n_patients_exposed, x.patients_with_event,
                x.first_event.rate, x.first_event.lower, x.first_event.upper,
                x.recurrent.events if x.recurrent else None,
                x.recurrent.rate if x.recurrent else None,
                x.recurrent.lower if x.recurrent else None,
                x.recurrent.upper if x.recurrent else None,
            )
            for x in inc.rows
        ),
        count_columns=("patients_exposed", "patients_with_event", "events"),
        note=(
            "First-event rate: patients with at least one event per on-drug time up to their first "
            "event. Recurrent rate: every event per all on-drug time (adverse events only; lab "
            "values are graded measurements, not episodes). Exact Garwood intervals (chi-square); "
            "a zero count has lower limit 0."
        ),
    )  # fmt: skip
    ttr = q.time_to_response
    km = ttr.kaplan_meier
    level = f"{km.confidence_level:.0%}"
    rows: list[tuple[Cell, ...]] = [
        ("patients", "", len(ttr.patients), None, None, None),
        ("first CR or PR recorded", "", ttr.n_responded, None, None, None),
        ("stopped before a response", "", ttr.n_stopped, None, None, None),
        (
            "Kaplan–Meier median (months)",
            "reached" if km.median_reached else "not reached",
            None,
            km.median,
            km.median_ci_lower,
            km.median_ci_upper,
        ),
    ]
    responded = next((c for c in ttr.cumulative_incidence.causes if c.cause == RESPONDED), None)
    if responded is not None:
        for v in responded.at_times:
            rows.append(
                (f"cumulative incidence of response at {v.time:g} months",
                 "beyond follow-up" if v.estimate is None else "", v.at_risk,
                 v.estimate, v.ci_lower, v.ci_upper)
            )  # fmt: skip
    time_to_response = Table(
        "time_to_response",
        f"Time to first response (first course), {level} CI",
        ("quantity", "status", "n", "estimate", "ci_lower", "ci_upper"),
        tuple(rows),
        count_columns=("n",),
        note=(
            "Median upper limit empty: not reached. Cumulative incidence: Aalen–Johansen with "
            "stopping as competing event; n = patients at risk."
        ),
    )
    m = q.longitudinal.model
    mixed = Table(
        "idda_mixed_model",
        f"{q.longitudinal.score}: mixed model estimates ({m.confidence_level:.0%} CI)",
        ("term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value"),
        tuple(
            [(f.name, f.estimate, f.std_error, f.ci_lower, f.ci_upper, f.p_value) for f in m.fixed]
            + (
                [
                    (
                        "patient (random intercept) variance",
                        m.random_intercept_variance,
                        None,
                        None,
                        None,
                        None,
                    ),
                    ("residual variance", m.residual_variance, None, None, None, None),
                ]
                if m.computable
                else []
            )
        ),
        note=(
            f"n = {m.n_scores} scores of {m.n_patients} patients; "
            + ("converged" if m.converged else "did not converge")
            if m.computable
            else f"Not fitted: {m.reason}."
        ),
    )
    sens = Table(
        "idda_sensitivity",
        f"Sensitivity of the paired {r.idda.score} result (under − before)",
        ("analysis", "n_pairs", "median_before", "median_under", "hodges_lehmann",
         "hl_ci_lower", "hl_ci_upper", "wilcoxon_p", "method"),
        tuple(
            (d["label"], d["n_pairs"], d["paired_median_before"], d["paired_median_under"],
             d["hodges_lehmann"], d["hl_ci_lower"], d["hl_ci_upper"], d["wilcoxon_p"],
             d["wilcoxon_method"] or f"not computable ({d['reason']})")
            for d in (row.to_dict() for row in q.sensitivity.rows)
        ),
        count_columns=("n_pairs",),
        note="Medians of the paired scores; Hodges–Lehmann estimate with its exact CI; Wilcoxon "
        "signed-rank test as in the primary analysis. The first row is the primary analysis.",
    )  # fmt: skip
    after = Table(
        "after_stopping",
        "What followed each stop, by stop reason (courses)",
        ("stop_reason", *OUTCOMES, "total"),
        tuple(
            (reason, *(counts.get(o, 0) for o in OUTCOMES), sum(counts.values()))
            for reason, counts in q.after_stopping.by_reason().items()
        ),
        count_columns=(*OUTCOMES, "total"),
        note="The first of: a later course (restart or switch) or HSCT after the stop; else the "
        "vital status or last follow-up. Every stop is in results.json (after_stopping.stops).",
    )
    ds = q.dosing
    at_response = Table(
        "dose_at_response",
        "Dose at the latest response of the first course (mg/kg/day)",
        ("drug", "n_responders", "median_responders", "n_non_responders", "median_non_responders",
         "u_statistic", "p_value", "method"),
        tuple(
            (a.drug, a.test.n[0], a.test.medians[0], a.test.n[1], a.test.medians[1],
             a.test.u_statistic, a.test.p_value, a.test.method or f"not computable ({a.test.reason})")
            for a in ds.at_response
        ),
        count_columns=("n_responders", "n_non_responders"),
    )  # fmt: skip
    changes = Table(
        "dose_changes",
        "Dose changes by drug (successive dose records of a course)",
        ("drug", "n_courses", "courses_with_change", "increases", "decreases",
         "unchanged_or_not_comparable"),
        tuple((c.drug, c.n_courses, c.courses_with_change, c.increases, c.decreases, c.unchanged)
              for c in ds.changes),
        count_columns=("n_courses", "courses_with_change", "increases", "decreases",
                       "unchanged_or_not_comparable"),
        note="Reasons: " + CHANGE_REASONS_NOTE + ".",
    )  # fmt: skip
    t = ds.ruxolitinib_azole_test
    azole = Table(
        "ruxolitinib_azole",
        "Ruxolitinib doses with and without azole co-medication (mg/kg/day, courses)",
        ("azole_comedication", "n_start", "median_start", "min_start", "max_start",
         "n_latest", "median_latest"),
        tuple((a.azole, a.start_mg_per_kg_day.n, a.start_mg_per_kg_day.median,
               a.start_mg_per_kg_day.minimum, a.start_mg_per_kg_day.maximum,
               a.latest_mg_per_kg_day.n, a.latest_mg_per_kg_day.median)
              for a in ds.ruxolitinib_azole),
        count_columns=("n_start", "n_latest"),
        note=("Start dose with vs without azole: Mann–Whitney U "
              + (f"p = {t.p_value:.3g} ({t.method})." if t.p_value is not None
                 else f"not computable ({t.reason}).")
              + " Azoles inhibit CYP3A4 and raise ruxolitinib exposure; this is a description, "
              "not a dosing recommendation."),
    )  # fmt: skip
    bio = Table(
        "biomarker_changes",
        "Biomarkers: paired change (under − before) and correlation with the score change",
        ("marker", "unit", "n_patients", "n_pairs", "median_difference", "wilcoxon_p",
         "wilcoxon_method", "hl_estimate", "hl_ci_lower", "hl_ci_upper", "spearman_n",
         "spearman_rho", "spearman_p", "spearman_method"),
        tuple(
            (m.marker, m.unit, len({p.patient for p in m.points}), len(m.pairs),
             m.paired.median_difference, m.paired.wilcoxon.p_value,
             m.paired.wilcoxon.method or f"not computable ({m.paired.wilcoxon.reason})",
             m.paired.hodges_lehmann.estimate, m.paired.hodges_lehmann.ci_lower,
             m.paired.hodges_lehmann.ci_upper, m.with_idda_change.n, m.with_idda_change.rho,
             m.with_idda_change.p_value,
             m.with_idda_change.method or f"not computable ({m.with_idda_change.reason})")
            for m in q.biomarkers.markers
        ),
        count_columns=("n_patients", "n_pairs", "spearman_n"),
        note=NO_THRESHOLD,
    )  # fmt: skip
    return [exposure, rates, time_to_response, mixed, sens, after, at_response, changes, azole,
            bio]  # fmt: skip
