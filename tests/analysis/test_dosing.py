"""Dosing: dose at response vs non-response against scipy's exact Mann–Whitney and a permutation
enumeration; dose changes and azole groups counted by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from jakreg.analysis.dosing import dosing_section
from tests.analysis.questions_build import D, course, dose, patient, response, views

START = D(2022, 1, 1)


def _cohort(resp_doses, non_doses):  # type: ignore[no-untyped-def]
    ps = []
    for i, kg in enumerate(resp_doses):
        ps.append(patient(f"R{i}", course(1, "ruxolitinib", START, azole="yes" if i % 2 else "no"),
                          doses=[dose(1, START, 0.3), dose(1, D(2022, 3, 1), kg)],
                          responses=[response(1, D(2022, 2, 1), "NR"),
                                     response(1, D(2022, 6, 1), "PR")]))  # fmt: skip
    for i, kg in enumerate(non_doses):
        ps.append(patient(f"N{i}", course(1, "ruxolitinib", START),
                          doses=[dose(1, START, kg), dose(1, D(2022, 9, 1), kg + 5)],
                          responses=[response(1, D(2022, 6, 1), "NR")]))  # fmt: skip
    return views(*ps)


def test_dose_at_response_matches_scipy_exact_without_ties() -> None:
    resp, non = [0.5, 0.62, 0.71, 0.8, 0.95], [0.21, 0.33, 0.45, 0.55]
    s = dosing_section(_cohort(resp, non))
    (a,) = s.at_response
    ref = mannwhitneyu(resp, non, method="exact", alternative="two-sided")
    assert a.test.method == "exact"
    assert a.test.u_statistic == pytest.approx(float(ref.statistic))
    assert a.test.p_value == pytest.approx(float(ref.pvalue))
    # The dose in effect at the response (2022-06-01) is the 2022-03-01 record, not the later one.
    assert a.test.medians == (pytest.approx(0.71), pytest.approx(0.39))


def test_dose_at_response_with_ties_against_full_permutation() -> None:
    resp, non = [0.5, 0.5, 0.7, 0.8], [0.3, 0.5, 0.4]
    s = dosing_section(_cohort(resp, non))
    (a,) = s.at_response
    pooled = np.array(resp + non)

    def u(first: np.ndarray, second: np.ndarray) -> float:
        return float(sum((x > y) + 0.5 * (x == y) for x in first for y in second))

    observed = u(np.array(resp), np.array(non))
    stats = []
    for idx in itertools.combinations(range(len(pooled)), len(resp)):
        rest = [i for i in range(len(pooled)) if i not in idx]
        stats.append(u(pooled[list(idx)], pooled[rest]))
    # scipy's two-sided permutation p-value: twice the smaller tail, at most 1.
    ge = sum(st >= observed - 1e-12 for st in stats) / len(stats)
    le = sum(st <= observed + 1e-12 for st in stats) / len(stats)
    assert a.test.has_ties
    assert a.test.p_value == pytest.approx(min(1.0, 2 * min(ge, le)))


def test_changes_and_azole_groups() -> None:
    s = dosing_section(_cohort([0.5, 0.6, 0.7], [0.2]))
    (c,) = s.changes
    assert (c.n_courses, c.courses_with_change, c.increases, c.decreases) == (4, 4, 4, 0)
    groups = {a.azole: a.start_mg_per_kg_day.n for a in s.ruxolitinib_azole}
    assert groups == {"yes": 1, "no": 3}
    assert [a.azole for a in s.ruxolitinib_azole] == ["yes", "no"]
    assert s.to_dict()["changes"][0]["reasons"].startswith("not recorded")


def test_a_group_of_one_with_ties_is_enumerated() -> None:
    """scipy's permutation test refuses a group of one; the p-value is enumerated instead: with
    x = [0.3] and y = [0.3, 0.3, 0.2], U = 0.5 + 0.5 + 1 = 2; the 4 arrangements give U = 2 (x is
    one of the three 0.3s) or 0 (x = 0.2), so P(U >= 2) = 3/4, P(U <= 2) = 1 and the two-sided
    p = min(1, 2 * 3/4) = 1."""
    from jakreg.stats import mann_whitney

    r = mann_whitney([0.3], [0.3, 0.3, 0.2])
    assert r.method == "exact-permutation"
    assert r.u_statistic == pytest.approx(2.0)
    assert r.p_value == pytest.approx(1.0)
    g = mann_whitney([0.3], [0.3, 0.3, 0.2], alternative="greater")
    assert g.p_value == pytest.approx(3 / 4)


def test_no_doses_and_one_patient() -> None:
    s = dosing_section(views(patient("A", course(1, "ruxolitinib", START))))
    assert s.points == ()
    assert s.at_response == ()
    assert not s.ruxolitinib_azole_test.computable
