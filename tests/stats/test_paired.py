"""Paired comparison pinned to exact values: 2**-n fractions, SciPy calls, hand counts."""

import itertools
import json
import math

import numpy as np
import pytest
import scipy.stats

from jakreg.stats import compare_paired
from jakreg.stats.paired import EXACT_TIED, choose_wilcoxon_method, wilcoxon_signed_rank


def _all_down(n: int) -> list[tuple[float, float]]:
    # Distinct drops, so no ties: before 10 + i, under 10 − i·0.1 … every difference negative.
    return [(20.0 + i, 10.0 - i * 0.5) for i in range(n)]


def test_founding_study_eight_pairs_give_published_p() -> None:
    """8 pairs, all down, no ties: exact two-sided p = 2 · 2**-8 = 0.0078125 (published 0.0078).

    Reference: scipy.stats.wilcoxon([-1, -2, ..., -8]) → pvalue 0.0078125 (scipy 1.17.1).
    The sign test gives the same: scipy.stats.binomtest(0, 8).pvalue == 0.0078125.
    """
    result = compare_paired(_all_down(8))
    assert result.wilcoxon.p_value == 0.0078125
    assert result.wilcoxon.method == "exact"
    assert result.wilcoxon.statistic == 0.0
    assert (result.wilcoxon.r_plus, result.wilcoxon.r_minus) == (0.0, 36.0)
    assert result.sign_test.p_value == 0.0078125
    assert result.rank_biserial.r == -1.0
    assert result.direction == "under − before"
    assert result.hodges_lehmann.estimate is not None
    assert result.hodges_lehmann.estimate < 0


def test_ten_pairs_all_down() -> None:
    """10 pairs all down: 2 · 2**-10 = 0.001953125 (scipy.stats.wilcoxon(-np.arange(1, 11)))."""
    assert compare_paired(_all_down(10)).wilcoxon.p_value == 0.001953125


def test_nine_pairs_smallest_the_other_way() -> None:
    """9 pairs, the smallest |difference| up: T+ = 1, p = 2 · P(T+ <= 1) = 2 · 2/512 = 0.0078125.

    This is the other reading of the published p = 0.0078 noted in founding_study.md.
    """
    pairs = [(10.0, 10.0 + 0.5)] + [(20.0 + i, 10.0 - i) for i in range(8)]
    result = compare_paired(pairs)
    assert result.wilcoxon.p_value == 0.0078125
    assert result.wilcoxon.r_plus == 1.0


def test_incomplete_pairs_are_dropped_and_counted() -> None:
    """10 children, 2 without a before or an under score: 8 pairs analysed, as in the study."""
    pairs: list[tuple[float | None, float | None]] = [*_all_down(8), (None, 7.0), (12.0, None)]
    result = compare_paired(pairs)
    c = result.counts
    assert (c.n_given, c.n_incomplete, c.n_complete) == (10, 2, 8)
    assert result.wilcoxon.p_value == 0.0078125
    assert result.summary()[0].startswith("8 complete pairs of 10 (2 dropped")


def test_nan_counts_as_missing() -> None:
    result = compare_paired([*_all_down(8), (float("nan"), 3.0)])
    assert result.counts.n_incomplete == 1


def test_zero_differences_are_dropped_under_wilcox() -> None:
    """Two unchanged pairs plus 8 all down: zeros dropped (zero_method="wilcox"), exact on n = 8.

    Reference: scipy.stats.wilcoxon([0, 0, -1, ..., -8], method="exact").pvalue == 0.0078125.
    """
    result = compare_paired([(5.0, 5.0), (7.0, 7.0), *_all_down(8)])
    assert result.counts.n_zero == 2
    assert result.wilcoxon.method == "exact"
    assert result.wilcoxon.n_ranked == 8
    assert result.wilcoxon.p_value == 0.0078125
    assert result.sign_test.n_zero_dropped == 2
    assert result.sign_test.p_value == 0.0078125
    reference = scipy.stats.wilcoxon([0, 0, *range(-1, -9, -1)], method="exact").pvalue
    assert result.wilcoxon.p_value == reference


def test_zeros_under_pratt_use_full_enumeration() -> None:
    """zero_method="pratt": zeros keep their ranks, so the tabulated distribution does not apply."""
    differences = np.array([0.0, -1.0, -2.0, -3.0, -4.0, 5.0])
    assert choose_wilcoxon_method(differences, "pratt") == EXACT_TIED
    result = wilcoxon_signed_rank(differences, zero_method="pratt")
    # Brute force: ranks of |d| with the zero ranked 1; flip the signs of the non-zero ones only.
    ranks = scipy.stats.rankdata(np.abs(differences))
    observed = ranks[differences > 0].sum()
    nonzero_ranks = ranks[differences != 0]
    sums = [
        sum(r for r, s in zip(nonzero_ranks, signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=nonzero_ranks.size)
    ]
    low = sum(1 for s in sums if s <= observed) / len(sums)
    high = sum(1 for s in sums if s >= observed) / len(sums)
    assert result.p_value == pytest.approx(min(1.0, 2 * min(low, high)), abs=1e-12)


def test_ties_use_exact_enumeration_checked_by_brute_force() -> None:
    """Tied |differences| (midranks): p from all 2**n sign flips, enumerated here independently.

    Also shows the decimal rounding: 15.99 − 7.55 and 10.44 − 2.0 tie (8.44) although in binary
    floating point they differ in the 15th digit.
    """
    pairs = [
        (15.99, 7.55),
        (10.44, 2.0),
        (3.0, 1.0),
        (6.0, 1.0),
        (9.0, 10.0),
        (8.0, 2.0),
        (4.0, 1.0),
    ]
    result = compare_paired(pairs)
    d = np.array(result.differences)
    assert d[0] == d[1] == -8.44
    assert result.wilcoxon.has_ties
    assert result.wilcoxon.method == EXACT_TIED
    ranks = scipy.stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=d.size)
    ]
    low = sum(1 for s in sums if s <= observed) / len(sums)
    high = sum(1 for s in sums if s >= observed) / len(sums)
    assert result.wilcoxon.p_value == pytest.approx(min(1.0, 2 * min(low, high)), abs=1e-12)


def test_more_than_five_hundred_pairs_use_normal_approximation() -> None:
    """501 untied differences: past the exact limit → scipy's asymptotic method, stated."""
    d = -np.arange(1.0, 502.0)
    d[::3] *= -1.0
    result = wilcoxon_signed_rank(d, correction=True)
    assert result.method == "asymptotic"
    reference = scipy.stats.wilcoxon(d, method="asymptotic", correction=True)
    assert result.p_value == reference.pvalue
    assert result.z == pytest.approx(float(reference.zstatistic))
    assert result.correction is True


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        ([], "no complete pairs"),
        ([(None, 1.0), (2.0, None)], "no complete pairs"),
        ([(3.0, 3.0), (4.0, 4.0), (5.0, 5.0)], "all differences are zero"),
        ([(3.0, 2.0)], "needs at least 2 non-zero differences, got 1"),
        ([(3.0, 2.0), (1.0, 1.0)], "needs at least 2 non-zero differences, got 1"),
    ],
)
def test_degenerate_inputs_are_not_computable(
    pairs: list[tuple[float | None, float | None]], reason: str
) -> None:
    result = compare_paired(pairs)
    assert not result.wilcoxon.computable
    assert result.wilcoxon.reason == reason
    assert not result.sign_test.computable
    assert result.sign_test.reason == reason
    json.dumps(result.to_dict(), allow_nan=False)
    assert all(isinstance(line, str) for line in result.summary())


def test_n_equals_one_keeps_the_estimate_but_no_ci() -> None:
    result = compare_paired([(10.0, 7.0)])
    assert result.hodges_lehmann.estimate == -3.0
    assert not result.hodges_lehmann.ci_computable
    # One pair: r would be −1 by construction (a sign, not an effect size), so none is given.
    assert result.rank_biserial.r is None
    assert result.rank_biserial.reason == "needs at least 2 non-zero differences, got 1"
    assert result.to_dict()["hodges_lehmann"]["ci_lower"] is None  # type: ignore[index]


def test_two_pairs_give_the_smallest_exact_p() -> None:
    """n = 2 both down: p = 2 · 1/4 = 0.5 (scipy.stats.wilcoxon([-1, -2]).pvalue == 0.5)."""
    assert compare_paired([(3.0, 1.0), (5.0, 1.0)]).wilcoxon.p_value == 0.5


def test_sign_test_counts_direction() -> None:
    """6 up, 2 down: scipy.stats.binomtest(6, 8).pvalue == 0.2890625 (= 2 · 37/256)."""
    d = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -7.0, -8.0]
    result = compare_paired([(0.0, x) for x in d])
    assert (result.sign_test.n_positive, result.sign_test.n_negative) == (6, 2)
    assert result.sign_test.p_value == pytest.approx(2 * 37 / 256, abs=1e-15)


def test_rank_biserial_by_hand() -> None:
    """+1, −2, −3, +4: R+ = 5, R− = 5 → r = 0; then −1, −2, −3, +4: (4 − 6)/10 = −0.2."""
    assert compare_paired([(0.0, 1.0), (0.0, -2.0), (0.0, -3.0), (0.0, 4.0)]).rank_biserial.r == 0.0
    r = compare_paired([(0.0, -1.0), (0.0, -2.0), (0.0, -3.0), (0.0, 4.0)]).rank_biserial.r
    assert r == pytest.approx(-0.2)


def test_to_dict_is_json_safe_and_plain() -> None:
    result = compare_paired([*_all_down(8), (None, 1.0)])
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert '"method": "exact"' in text
    assert '"zero_method": "wilcox"' in text
    assert not math.isnan(json.loads(text)["wilcoxon"]["p_value"])
