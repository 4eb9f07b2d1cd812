"""Spearman: rho against scipy.stats.spearmanr; exact p against scipy.stats.permutation_test over
every pairing (n_resamples=inf); ties, too few pairs, constant values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import permutation_test, spearmanr

from jakreg.stats import StatsInputError
from jakreg.stats.correlation import EXACT_MAX_N, spearman


def _exact_p(x: list[float], y: list[float]) -> float:
    res = permutation_test(
        (np.asarray(x, float),), lambda a: spearmanr(a, y).statistic,
        permutation_type="pairings", n_resamples=np.inf, alternative="two-sided",
        vectorized=False,
    )  # fmt: skip
    return float(res.pvalue)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1, 2, 3, 4, 5, 6, 7], [2, 1, 4, 3, 7, 5, 6]),
        ([-3.0, -1.0, 0.5, 2.0, 4.0], [1.0, -2.0, 0.0, 3.0, -1.0]),
        ([1, 2, 2, 3, 5, 8], [4, 4, 1, 2, 6, 9]),  # ties in both
    ],
)
def test_small_samples_are_exact(x: list[float], y: list[float]) -> None:
    r = spearman(x, y)
    assert r.method == "exact-permutation"
    assert r.rho == pytest.approx(float(spearmanr(x, y).statistic))
    assert r.p_value == pytest.approx(_exact_p(x, y))


def test_larger_samples_use_scipy_t_approximation() -> None:
    rng = np.random.default_rng(5)
    x = list(rng.normal(size=EXACT_MAX_N + 4))
    y = [a + b for a, b in zip(x, rng.normal(size=len(x)), strict=True)]
    r = spearman(x, y)
    ref = spearmanr(x, y)
    assert r.method == "t-approximation"
    assert (r.rho, r.p_value) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))


def test_degenerate_inputs() -> None:
    assert spearman([1, 2], [3, 4]).reason == "fewer than 3 pairs (2)"
    assert spearman([1, 1, 1], [1, 2, 3]).reason == "all values of one variable are equal"
    assert spearman([1, None, 3, 4], [1, 2, None, 4]).reason == "fewer than 3 pairs (2)"  # type: ignore[list-item]
    with pytest.raises(StatsInputError):
        spearman([1, 2, 3], [1, 2])
