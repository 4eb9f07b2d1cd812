"""The exact tied signed-rank distribution against independent references.

References: enumeration of every one of the 2**n sign vectors (numpy, here), scipy.stats.wilcoxon
(method="exact") without ties, scipy.stats.permutation_test (exact, all 2**n flips) with ties.
Before the fix, 14-50 tied pairs used the normal approximation without correction: the first
tests below failed then (p differed from the enumeration by up to 0.03).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from jakreg.stats.paired import EXACT_TIED, wilcoxon_signed_rank
from jakreg.stats.signed_rank import doubled_ranks, tied_signed_rank_distribution


def _enumerated_p(
    d: np.ndarray, zero_method: str = "wilcox", alternative: str = "two-sided"
) -> float:
    """p from all 2**m sign vectors of the m non-zero differences (ranks of |d| as scipy's)."""
    data = d[d != 0] if zero_method == "wilcox" else d
    ranks = scipy.stats.rankdata(np.abs(data))
    nz = ranks[data != 0]
    observed = ranks[data > 0].sum()
    m = nz.size
    signs = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
    sums = signs @ nz
    tol = 1e-9
    less = float(np.mean(sums <= observed + tol))
    greater = float(np.mean(sums >= observed - tol))
    if alternative == "less":
        return less
    if alternative == "greater":
        return greater
    return min(1.0, 2 * min(less, greater))


TIED_CASES = [
    # 14 pairs with ties (the case of issue 18): the old normal approximation gave a smaller p.
    np.array([-1.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, 8.0, -9.0, -10.0, -11, -12, 13]),
    # heavy ties on a 0-4 score scale, 18 pairs
    np.array([-2, -2, -1, -1, -1, -3, 1, -2, -1, -4, 2, -1, -1, -2, -3, -1, 1, -2], dtype=float),
    # 20 pairs, ties and two zeros
    np.array(
        [0, 0, -1, -1, 1, -2, -2, -2, 2, -3, -3, -1, -4, 1, -1, -2, -5, -1, -2, 3], dtype=float
    ),
]


@pytest.mark.parametrize("d", TIED_CASES, ids=["14-ties", "18-scale", "20-zeros"])
@pytest.mark.parametrize("zero_method", ["wilcox", "pratt"])
def test_tied_p_equals_enumeration_of_all_sign_vectors(d: np.ndarray, zero_method: str) -> None:
    result = wilcoxon_signed_rank(d, zero_method=zero_method)  # type: ignore[arg-type]
    assert result.method == EXACT_TIED
    assert result.p_value == pytest.approx(_enumerated_p(d, zero_method), abs=1e-12)


@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_one_sided_tied_p_equals_enumeration(alternative: str) -> None:
    d = TIED_CASES[1]
    result = wilcoxon_signed_rank(d, alternative=alternative)  # type: ignore[arg-type]
    assert result.p_value == pytest.approx(_enumerated_p(d, alternative=alternative), abs=1e-12)


def test_tied_p_equals_scipy_permutation_test() -> None:
    """scipy.stats.permutation_test, permutation_type="samples" on one sample = all sign flips."""
    d = TIED_CASES[0]

    def t_plus(x: np.ndarray, axis: int = -1) -> np.ndarray:
        ranks = scipy.stats.rankdata(np.abs(x), axis=axis)
        return np.where(x > 0, ranks, 0).sum(axis=axis)

    ref = scipy.stats.permutation_test(
        (d,), t_plus, permutation_type="samples", n_resamples=np.inf, vectorized=True
    )
    assert wilcoxon_signed_rank(d).p_value == pytest.approx(float(ref.pvalue), abs=1e-12)


@pytest.mark.parametrize("n", [8, 30, 60, 200])
def test_untied_p_equals_scipy_exact(n: int) -> None:
    """Without ties the distribution is the classical one: scipy.stats.wilcoxon(method="exact")."""
    d = np.arange(1.0, n + 1.0)
    d[::3] *= -1.0
    d[1::7] *= -1.0
    result = wilcoxon_signed_rank(d)
    assert result.method == "exact"
    ref = scipy.stats.wilcoxon(d, method="exact")
    assert result.p_value == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-15)
    assert result.statistic == float(ref.statistic)


def test_distribution_sums_to_one_and_is_symmetric() -> None:
    doubled = doubled_ranks(np.abs(TIED_CASES[2][TIED_CASES[2] != 0]))
    dist = tied_signed_rank_distribution(doubled)
    assert dist.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(dist, dist[::-1], atol=1e-15)


def test_five_hundred_tied_pairs_are_exact() -> None:
    """At the limit: 500 pairs on a 0-4 scale still get the exact distribution; it agrees with
    the normal approximation with tie correction to within 0.005 (as it must at this n)."""
    rng = np.random.default_rng(5)
    d = rng.integers(-4, 3, size=500).astype(float)
    result = wilcoxon_signed_rank(d)
    assert result.method == EXACT_TIED
    approx = scipy.stats.wilcoxon(d, method="asymptotic").pvalue
    assert result.p_value == pytest.approx(float(approx), abs=5e-3)
