"""Hodges–Lehmann estimate and exact CI: brute force and published critical values."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jakreg.stats import compare_paired, hodges_lehmann
from jakreg.stats.signed_rank import ci_order_statistic, signed_rank_cdf, signed_rank_counts


def _brute_force_t_plus(n: int) -> list[int]:
    """T+ for every one of the 2**n sign assignments of ranks 1..n."""
    return [
        sum(rank for rank, positive in zip(range(1, n + 1), signs, strict=True) if positive)
        for signs in itertools.product([False, True], repeat=n)
    ]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 10])
def test_null_distribution_matches_enumeration(n: int) -> None:
    t_plus = _brute_force_t_plus(n)
    counts = signed_rank_counts(n)
    assert list(counts) == [t_plus.count(k) for k in range(n * (n + 1) // 2 + 1)]


def test_null_distribution_by_hand() -> None:
    """n = 3: subset sums of {1, 2, 3} are 0, 1, 2, 3 (twice: {3}, {1, 2}), 4, 5, 6."""
    assert signed_rank_counts(3) == (1, 1, 1, 2, 1, 1, 1)


# Two-tailed α = 0.05 critical values of T (reject when T <= value), University of York maths
# department table "Critical Values for T in the Wilcoxon Matched-Pairs Signed-Rank Test"
# (https://www.york.ac.uk/depts/maths/tables/wilcoxon.htm, n = 5 "-" meaning none). The LibreTexts
# copy (Harvey, Chemometrics Using R, appendix 12.6) gives 30 and 35 for n = 16 and 17; exact
# enumeration sides with York: for n = 16, P(T <= 30) = 0.0253 > 0.025.
YORK_TWO_TAILED_05 = {
    6: 0, 7: 2, 8: 3, 9: 5, 10: 8, 11: 10, 12: 13, 13: 17, 14: 21, 15: 25,
    16: 29, 17: 34, 18: 40, 19: 46, 20: 52, 21: 58, 22: 65, 23: 73, 24: 81, 25: 89,
}  # fmt: skip


@pytest.mark.parametrize(("n", "critical"), sorted(YORK_TWO_TAILED_05.items()))
def test_ci_order_statistic_matches_published_critical_values(n: int, critical: int) -> None:
    """The CI uses W(k) with k = critical value + 1, i.e. the largest k with P(T+ <= k−1) <= α/2."""
    assert ci_order_statistic(n, 0.95) == critical + 1
    assert signed_rank_cdf(critical, n) <= 0.025 < signed_rank_cdf(critical + 1, n)


def test_n_5_has_no_95_percent_interval() -> None:
    """York table: n = 5 has no two-tailed 5% critical value (2 · 2**-5 = 0.0625 > 0.05)."""
    assert ci_order_statistic(5, 0.95) is None
    result = hodges_lehmann(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert result.estimate == 3.0
    assert not result.ci_computable
    assert result.ci_reason == (
        "5 differences cannot reach 0.95 confidence (the widest exact interval has level 0.9375)"
    )


def _brute_force_hl(d: list[float], level: float) -> tuple[float, float, float, float]:
    """Estimate, CI and achieved level from first principles: all Walsh averages, all 2**n signs."""
    n = len(d)
    walsh = sorted((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))
    estimate = float(np.median(walsh))
    t_plus = _brute_force_t_plus(n)
    total = len(t_plus)
    k = max(
        kk
        for kk in range(1, len(walsh) + 1)
        if sum(t <= kk - 1 for t in t_plus) / total <= (1 - level) / 2
    )
    achieved = 1 - 2 * sum(t <= k - 1 for t in t_plus) / total
    return estimate, walsh[k - 1], walsh[len(walsh) - k], achieved


@pytest.mark.parametrize(
    "d",
    [
        [-8.44, -2.2, -25.9, -10.0, -4.1, -4.0, -18.0, -11.0],
        [1.5, -0.5, 3.0, 2.0, 7.0, 0.25],
        [3.0, 1.0, -2.0, 5.0, 8.0, -1.5, 4.0, 6.0, 2.5, 9.0],
    ],
)
def test_estimate_and_ci_by_brute_force(d: list[float]) -> None:
    result = hodges_lehmann(np.array(d))
    estimate, low, high, achieved = _brute_force_hl(d, 0.95)
    assert result.estimate == pytest.approx(estimate)
    assert (result.ci_lower, result.ci_upper) == (pytest.approx(low), pytest.approx(high))
    assert result.achieved_level == pytest.approx(achieved)
    assert result.achieved_level is not None
    assert result.achieved_level >= 0.95


def test_eight_pairs_by_hand() -> None:
    """n = 8: k = 4 (York critical value 3); 36 Walsh averages; CI = [W(4), W(33)].

    Achieved level 1 − 2 · P(T+ <= 3) = 1 − 2 · 5/256 = 0.9609375.
    """
    result = hodges_lehmann(np.arange(1.0, 9.0))
    assert result.order_statistic == 4
    assert result.n_walsh == 36
    assert result.achieved_level == 0.9609375
    # Walsh averages of 1..8 sorted: 1, 1.5, 2, 2, ... → W(4) = 2.0 and by symmetry W(33) = 7.0.
    assert (result.ci_lower, result.ci_upper, result.estimate) == (2.0, 7.0, 4.5)


def test_six_pairs_give_the_range_as_interval() -> None:
    """n = 6: k = 1, the interval is [min, max], level 1 − 2/64 = 0.96875."""
    result = hodges_lehmann(np.array([4.0, -1.0, 2.0, 9.0, 3.0, 5.0]))
    assert (result.ci_lower, result.ci_upper) == (-1.0, 9.0)
    assert result.achieved_level == 0.96875


def test_zeros_are_kept_in_the_estimate() -> None:
    """An unchanged patient is data. Walsh averages of 0, 0, 2: 0, 0, 0, 1, 1, 2 → median 0.5."""
    assert hodges_lehmann(np.array([0.0, 0.0, 2.0])).estimate == 0.5


def test_empty_is_not_computable() -> None:
    result = hodges_lehmann(np.array([]))
    assert not result.computable
    assert result.reason == "no differences"


def test_level_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="confidence_level"):
        hodges_lehmann(np.array([1.0]), confidence_level=95)


integers = st.integers(min_value=-40, max_value=40)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(integers, integers), min_size=2, max_size=10))
def test_swapping_before_and_under_negates_hl_and_keeps_p(pairs: list[tuple[int, int]]) -> None:
    forward = compare_paired([(float(b), float(u)) for b, u in pairs])
    backward = compare_paired([(float(u), float(b)) for b, u in pairs])
    assert forward.wilcoxon.p_value == pytest.approx(backward.wilcoxon.p_value, abs=1e-12)
    assert forward.sign_test.p_value == pytest.approx(backward.sign_test.p_value, abs=1e-12)
    assert forward.hodges_lehmann.estimate == pytest.approx(-backward.hodges_lehmann.estimate)
    if forward.hodges_lehmann.ci_computable:
        assert forward.hodges_lehmann.ci_lower == pytest.approx(-backward.hodges_lehmann.ci_upper)
    if forward.rank_biserial.computable:
        assert forward.rank_biserial.r == pytest.approx(-backward.rank_biserial.r)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(integers, min_size=1, max_size=10),
    st.floats(min_value=0.1, max_value=100.0, allow_nan=False),
)
def test_scaling_differences_scales_hl_and_keeps_p(differences: list[int], c: float) -> None:
    # Pairs (0, c·d) so that c·d is computed once and equal |d| stay exactly tied after scaling.
    plain = compare_paired([(0.0, float(d)) for d in differences])
    scaled = compare_paired([(0.0, c * d) for d in differences])
    assert scaled.hodges_lehmann.estimate == pytest.approx(
        c * plain.hodges_lehmann.estimate, rel=1e-9, abs=1e-9
    )
    assert scaled.wilcoxon.p_value == plain.wilcoxon.p_value
    assert scaled.wilcoxon.method == plain.wilcoxon.method
