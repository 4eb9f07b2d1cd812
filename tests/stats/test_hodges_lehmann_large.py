"""Hodges–Lehmann for many pairs: selection gives the same order statistics as listing every Walsh average."""

from __future__ import annotations

import numpy as np
import pytest

from jakreg.stats.signed_rank import (
    HL_CI_METHOD_LARGE,
    hodges_lehmann,
    walsh_averages,
    walsh_order_statistic,
)


@pytest.mark.parametrize("n", [1, 2, 7, 60, 301])
def test_selection_equals_enumeration(n: int) -> None:
    rng = np.random.default_rng(20221)
    d = np.sort(np.round(rng.normal(-3, 5, n), 2))  # rounded: ties included
    walsh = walsh_averages(d)
    m = len(walsh)
    for k in sorted({k for k in (1, 2, m // 3, m // 2 + 1, m) if 1 <= k <= m}):
        assert walsh_order_statistic(d, k) == pytest.approx(walsh[k - 1], abs=1e-12)


def test_large_n_uses_the_normal_critical_value_and_stays_cheap() -> None:
    """n = 20,000 pairs (2e8 Walsh averages) without listing them.

    Reference: k = floor(n(n+1)/4 - 1.959964 * sqrt(n(n+1)(2n+1)/24)) for n = 100 is
    floor(2525 - 1.959964 * 290.8608) = floor(1954.93) = 1954 (Hollander & Wolfe's large-sample rule).
    """
    rng = np.random.default_rng(7)
    small = hodges_lehmann(rng.normal(0, 1, 100))
    assert small.order_statistic == 1954
    assert small.ci_method == HL_CI_METHOD_LARGE
    big = hodges_lehmann(rng.normal(-2.0, 1.0, 20_000))
    assert big.estimate == pytest.approx(-2.0, abs=0.05)
    assert big.ci_lower is not None
    assert big.ci_upper is not None
    assert big.ci_lower < big.estimate < big.ci_upper


def test_mid_n_agrees_with_the_median_of_walsh_averages() -> None:
    rng = np.random.default_rng(3)
    d = rng.normal(1.0, 2.0, 120)
    result = hodges_lehmann(d)
    assert result.estimate == pytest.approx(float(np.median(walsh_averages(np.sort(d)))))
