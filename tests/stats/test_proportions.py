"""Clopper–Pearson intervals against scipy.stats.binomtest(k, n).proportion_ci(method="exact").

SciPy finds the limits by root-finding on the binomial tail sums; jakreg reads them off beta
quantiles: two computations of the same definition.
"""

from __future__ import annotations

import pytest
import scipy.stats

from jakreg.stats.proportions import clopper_pearson

CASES = [(0, 1), (1, 1), (0, 10), (4, 10), (10, 10), (1, 3), (7, 23), (50, 100), (3, 1000)]


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
def test_equals_scipy_binomtest_exact(k: int, n: int, level: float) -> None:
    ours = clopper_pearson(k, n, level)
    ref = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    assert ours.proportion == k / n
    assert ours.ci_lower == pytest.approx(ref.low, abs=1e-10)
    assert ours.ci_upper == pytest.approx(ref.high, abs=1e-10)


def test_no_denominator_is_not_computable() -> None:
    result = clopper_pearson(0, 0)
    assert not result.computable
    assert result.reason == "no patients in the denominator"
    assert result.percent_text() == "–"


def test_percent_text() -> None:
    ref = scipy.stats.binomtest(4, 10).proportion_ci(method="exact")
    text = clopper_pearson(4, 10).percent_text()
    assert text == f"40% (95% CI {100 * ref.low:.3g}–{100 * ref.high:.3g}%)"
