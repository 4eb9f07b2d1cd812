"""Fisher's exact test and Mann–Whitney U, pinned to SciPy docs values and hand enumeration."""

import itertools
import json

import numpy as np
import pytest
import scipy.stats

from jakreg.stats import StatsInputError, fisher_exact_test, mann_whitney
from jakreg.stats.groups import exact_rxc_p_value


def test_fisher_2x2_scipy_documentation_examples() -> None:
    """From the scipy.stats.fisher_exact docstring (scipy 1.17.1):

    fisher_exact([[8, 2], [1, 5]]) → statistic 20.0, pvalue 0.034965034965034975
    fisher_exact([[6, 2], [1, 4]], alternative='two-sided').pvalue → 0.10256410256410257
    (= 0.0163 + 0.0816 + 0.00466, the tables no more probable than the observed one).
    """
    result = fisher_exact_test([[8, 2], [1, 5]])
    assert result.p_value == pytest.approx(0.034965034965034975, rel=1e-12)
    assert result.odds_ratio == 20.0
    assert result.method == "exact-2x2"
    assert fisher_exact_test([[6, 2], [1, 4]]).p_value == pytest.approx(0.10256410256410257)


def test_founding_study_response_rates_by_hand() -> None:
    """9/10 responders vs 14/14 in the literature. With margins 23 responders / 1 non-responder only
    two tables exist: the non-responder in our cohort (P = 10/24) or in the literature (P = 14/24).
    Two-sided p = P(tables no more probable than observed) = 10/24 = 0.41667.
    """
    result = fisher_exact_test(
        [[9, 1], [14, 0]], row_labels=["our cohort", "literature"], column_labels=["CR/PR", "none"]
    )
    assert result.p_value == pytest.approx(10 / 24)
    assert result.n == 24
    assert result.row_totals == (10, 14)
    assert result.column_totals == (23, 1)
    assert result.small_numbers
    assert result.cautions == ("2 of 4 cells have an expected count < 5 (smallest 0.417)",)
    assert result.summary()[1] == "our cohort | 9 | 1 | 10"
    as_dict = result.to_dict()
    json.dumps(as_dict, allow_nan=False)
    assert as_dict["odds_ratio"] == 0.0


def test_infinite_odds_ratio_is_json_safe() -> None:
    result = fisher_exact_test([[5, 0], [1, 4]])
    assert result.odds_ratio == float("inf")
    as_dict = result.to_dict()
    assert as_dict["odds_ratio"] is None
    assert as_dict["odds_ratio_infinite"] is True
    json.dumps(as_dict, allow_nan=False)


def test_small_group_is_flagged() -> None:
    result = fisher_exact_test([[3, 1], [10, 10]], row_labels=["ours", "literature"])
    assert "group 'ours' has n = 4 (< 5)" in result.cautions


def test_rxc_by_hand() -> None:
    """[[2, 0, 0], [0, 1, 1]]: margins rows (2, 2), columns (2, 1, 1), N = 4. The four tables
    with these margins (first row (2,0,0), (1,1,0), (1,0,1), (0,1,1)) have probabilities
    1/6, 1/3, 1/3, 1/6 (= 2!2!2!1!1! / (4! Π cells!)). Observed P = 1/6 → p = 1/6 + 1/6 = 1/3.
    """
    result = fisher_exact_test([[2, 0, 0], [0, 1, 1]])
    assert result.method == "exact-enumeration"
    assert result.p_value == pytest.approx(1 / 3)
    assert result.odds_ratio is None


@pytest.mark.parametrize("table", [[[8, 2], [1, 5]], [[6, 2], [1, 4]], [[3, 3], [3, 3]]])
def test_enumeration_agrees_with_scipy_on_2x2(table: list[list[int]]) -> None:
    assert exact_rxc_p_value(table, 10_000) == pytest.approx(
        scipy.stats.fisher_exact(table).pvalue, rel=1e-9
    )


def test_rxc_enumeration_is_close_to_scipy_monte_carlo() -> None:
    """scipy docstring: fisher_exact([[8, 2, 3], [1, 5, 4]], method=MonteCarloMethod(rng=...))
    → 0.0603 (9999 resamples, Monte Carlo SE ≈ 0.0024); exact enumeration gives 0.05715.
    """
    p = fisher_exact_test([[8, 2, 3], [1, 5, 4]]).p_value
    assert p == pytest.approx(0.0571, abs=0.0005)


def test_rxc_too_many_tables_uses_seeded_monte_carlo() -> None:
    """Past `max_tables` the method is stated, and a fixed seed makes the result repeatable."""
    first = fisher_exact_test([[8, 2, 3], [1, 5, 4]], max_tables=5)
    second = fisher_exact_test([[8, 2, 3], [1, 5, 4]], max_tables=5)
    assert first.method == "monte-carlo"
    assert first.monte_carlo_seed is not None
    assert first.p_value == second.p_value
    assert first.p_value == pytest.approx(0.0571, abs=0.005)


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ([[0, 0], [0, 0]], "the table is empty"),
        ([[3, 0], [4, 0]], "fewer than two non-empty rows or columns: nothing to compare"),
    ],
)
def test_fisher_degenerate_tables(table: list[list[int]], reason: str) -> None:
    result = fisher_exact_test(table)
    assert not result.computable
    assert result.reason == reason
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("table", [[[1, -1], [2, 3]], [[1, 2], [3]], [], [[1.5, 2], [3, 4]]])
def test_fisher_rejects_malformed_tables(table: list[list[int]]) -> None:
    with pytest.raises(StatsInputError):
        fisher_exact_test(table)


def test_mann_whitney_exact_by_hand() -> None:
    """[1, 2, 3] vs [4, 5, 6]: U = 0, the most extreme of C(6, 3) = 20 splits each side: p = 2/20.

    scipy.stats.mannwhitneyu([1, 2, 3], [4, 5, 6], method='exact').pvalue == 0.1
    """
    result = mann_whitney([1, 2, 3], [4, 5, 6], labels=("ours", "literature"))
    assert result.method == "exact"
    assert result.u_statistic == 0.0
    assert result.p_value == pytest.approx(0.1)
    assert result.rank_biserial == -1.0
    assert result.small_numbers
    assert result.n == (3, 3)


def test_mann_whitney_ties_use_full_permutation_checked_by_brute_force() -> None:
    """[1, 2, 3, 3] vs [3, 4, 5]: ties across groups; enumerate all C(7, 4) splits of midranks."""
    a, b = [1.0, 2.0, 3.0, 3.0, None], [3.0, 4.0, 5.0]
    result = mann_whitney(a, b)
    assert result.method == "exact-permutation"
    assert result.n_missing == (1, 0)
    pooled = [1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0]
    ranks = scipy.stats.rankdata(pooled)
    n1 = 4

    def u_of(indices: tuple[int, ...]) -> float:
        return float(sum(ranks[i] for i in indices) - n1 * (n1 + 1) / 2)

    observed = u_of((0, 1, 2, 3))
    all_u = [u_of(c) for c in itertools.combinations(range(7), n1)]
    low = sum(u <= observed + 1e-9 for u in all_u) / len(all_u)
    high = sum(u >= observed - 1e-9 for u in all_u) / len(all_u)
    assert result.u_statistic == observed
    assert result.p_value == pytest.approx(min(1.0, 2 * min(low, high)))


def test_mann_whitney_large_tied_samples_use_normal_approximation() -> None:
    a = [float(i % 7) for i in range(30)]
    b = [float(i % 5) for i in range(30)]
    result = mann_whitney(a, b)
    assert result.method == "asymptotic"
    reference = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True).pvalue
    assert result.p_value == reference


def test_mann_whitney_exact_without_ties_below_50_values() -> None:
    """R's wilcox.test rule: exact while both groups have fewer than 50 values and no ties."""
    rng = np.random.default_rng(5)
    a, b = rng.random(49).tolist(), rng.random(12).tolist()
    result = mann_whitney(a, b)
    assert result.method == "exact"
    assert result.p_value == scipy.stats.mannwhitneyu(a, b, method="exact").pvalue


def test_mann_whitney_large_untied_samples_use_normal_approximation() -> None:
    """50 values or more: the normal approximation with continuity correction (R's default
    wilcox.test(correct = TRUE)); scipy's exact algorithm would take minutes for a registry."""
    rng = np.random.default_rng(6)
    a, b = rng.random(20_000).tolist(), rng.random(40).tolist()
    result = mann_whitney(a, b)
    assert result.method == "asymptotic"
    reference = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
    assert result.p_value == reference.pvalue
    assert result.u_statistic == reference.statistic


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ([], [1.0], "group 'group 1' has no recorded values"),
        ([1.0], [None], "group 'group 2' has no recorded values"),
        ([2.0, 2.0], [2.0], "all values are equal"),
    ],
)
def test_mann_whitney_degenerate(a: list[float | None], b: list[float | None], reason: str) -> None:
    result = mann_whitney(a, b)
    assert not result.computable
    assert result.reason == reason
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.summary()[-1].startswith("caution") or "not computable" in result.summary()[-1]
