"""Time to response: KM median and CI against lifelines, cumulative incidence against lifelines'
AalenJohansenFitter on the same durations; not reached, all censored, ties, one patient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times

from jakreg.analysis.time_to_response import RESPONDED, STOPPED, time_to_response_section
from jakreg.rules.follow_up import months_between
from tests.analysis.questions_build import CUTOFF, D, course, patient, response, views

START = D(2022, 1, 1)


def _cohort():  # type: ignore[no-untyped-def]
    ps = []
    # Responses at 2, 3, 3 (a tie), 5 and 9 months; two stops before a response; three censored.
    for i, m in enumerate((2, 3, 3, 5, 9)):
        ps.append(patient(f"R{i}", course(1, "ruxolitinib", START),
                          responses=[response(1, D(2022, 1 + m, 1), "PR" if i % 2 else "CR")]))  # fmt: skip
    ps.append(patient("S1", course(1, "ruxolitinib", START, D(2022, 4, 1), "adverse_event")))
    ps.append(patient("S2", course(1, "baricitinib", START, D(2022, 8, 1), "lack_of_efficacy"),
                      responses=[response(1, D(2022, 7, 1), "NR")]))  # fmt: skip
    ps.append(patient("C1", course(1, "ruxolitinib", START), last_follow_up=D(2022, 6, 1)))
    ps.append(patient("C2", course(1, "ruxolitinib", START), last_follow_up=D(2023, 1, 1)))
    ps.append(patient("C3", course(1, "ruxolitinib", START)))
    # Response on another course, or per manifestation, or after the stop: not a response here.
    ps.append(patient("X1", course(1, "ruxolitinib", START, D(2022, 3, 1), "other"),
                      responses=[response(1, D(2022, 5, 1), "CR")]))  # fmt: skip
    return views(*ps)


def test_outcomes_per_patient() -> None:
    s = time_to_response_section(_cohort())
    out = {p.patient: (p.outcome, round(p.months, 6)) for p in s.patients}
    assert out["R1"] == (RESPONDED, 3.0)
    assert out["S1"] == (STOPPED, 3.0)
    assert out["X1"] == (STOPPED, 2.0)
    assert out["C1"] == ("censored", 5.0)
    assert out["C3"] == ("censored", round(months_between(START, CUTOFF), 6))
    assert (s.n_responded, s.n_stopped) == (5, 3)


def test_kaplan_meier_median_and_ci_match_lifelines() -> None:
    s = time_to_response_section(_cohort())
    d = np.array([p.months for p in s.patients])
    e = np.array([p.outcome == RESPONDED for p in s.patients])
    kmf = KaplanMeierFitter(alpha=0.05).fit(d, e)
    km = s.kaplan_meier
    assert km.median == pytest.approx(float(kmf.median_survival_time_))
    ci = median_survival_times(kmf.confidence_interval_).to_numpy().ravel()
    lo, hi = sorted(float(x) for x in ci)
    assert km.median_ci_lower == pytest.approx(lo)
    assert (km.median_ci_upper is None) == (not np.isfinite(hi))
    if km.median_ci_upper is not None:
        assert km.median_ci_upper == pytest.approx(hi)


def test_cumulative_incidence_matches_lifelines_aalen_johansen() -> None:
    s = time_to_response_section(_cohort(), times=(4.0, 10.0))
    d = np.array([p.months for p in s.patients])
    codes = np.array([{RESPONDED: 1, STOPPED: 2, "censored": 0}[p.outcome] for p in s.patients])
    # Ties between a response and a stop (at 2 and 3 months): lifelines would jitter them at
    # random, so the reference moves each tied stop a hair later by hand; the Aalen–Johansen
    # estimate at and after a tied time does not depend on the order within the tie.
    ref_d = d.copy()
    tied_stop = (codes == 2) & np.isin(d, d[codes == 1])
    assert tied_stop.sum() == 2
    ref_d[tied_stop] += 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ajf = AalenJohansenFitter(calculate_variance=False).fit(ref_d, codes, event_of_interest=1)
    cause = next(c for c in s.cumulative_incidence.causes if c.cause == RESPONDED)
    for v in cause.at_times:
        ref = float(ajf.cumulative_density_[ajf.cumulative_density_.index <= v.time].iloc[-1, 0])
        # And the textbook formula with ties: F(t) = sum over t_j <= t of S(t_j-) d1_j / n_j.
        f, surv = 0.0, 1.0
        for t in np.unique(d[codes > 0]):
            if t > v.time:
                break
            n_at = int((d >= t).sum())
            d1 = int(((d == t) & (codes == 1)).sum())
            d_all = int(((d == t) & (codes > 0)).sum())
            f += surv * d1 / n_at
            surv *= 1 - d_all / n_at
        assert v.estimate == pytest.approx(f, abs=1e-12), v.time
        assert v.estimate == pytest.approx(ref, abs=1e-9), v.time


def test_not_reached_and_all_censored() -> None:
    vs = views(
        patient("R", course(1, "ruxolitinib", START), responses=[response(1, D(2022, 6, 1), "PR")]),
        *[patient(f"C{i}", course(1, "ruxolitinib", START)) for i in range(3)],
    )
    s = time_to_response_section(vs)
    assert not s.kaplan_meier.median_reached
    assert s.to_dict()["median_reached"] is False
    assert "median not reached" in s.summary()
    censored = time_to_response_section(views(patient("C", course(1, "ruxolitinib", START))))
    assert censored.n_responded == 0
    assert censored.kaplan_meier.n_censored == 1
    assert not censored.cumulative_incidence.computable


def test_one_patient_and_no_time_left_out() -> None:
    (v,) = views(patient("Z", course(1, "ruxolitinib", CUTOFF)))
    s = time_to_response_section((v,))
    assert s.left_out == (("Z", "no time on drug (started on the last day seen)"),)
    assert not s.kaplan_meier.computable
    one = time_to_response_section(
        views(
            patient(
                "R", course(1, "ruxolitinib", START), responses=[response(1, D(2022, 3, 1), "CR")]
            )
        )
    )
    assert one.kaplan_meier.median == pytest.approx(2.0)
