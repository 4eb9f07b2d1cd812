"""Exact Poisson rates against statsmodels and an independent root-finding of the Poisson CDF."""

from __future__ import annotations

import math

import pytest
from scipy.optimize import brentq
from scipy.stats import poisson
from statsmodels.stats.rates import confint_poisson

from jakreg.stats import StatsInputError
from jakreg.stats.poisson import garwood_limits, poisson_rate


def _by_cdf(k: int, level: float) -> tuple[float, float]:
    """Garwood's definition solved directly: P(X ≥ k | lo) = α/2 and P(X ≤ k | hi) = α/2."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else brentq(lambda m: poisson.sf(k - 1, m) - a, 1e-12, 10 * k + 50)
    hi = brentq(lambda m: poisson.cdf(k, m) - a, 1e-12, 10 * k + 50)
    return lo, hi


@pytest.mark.parametrize("k", [0, 1, 2, 3, 7, 20, 150])
@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_limits_match_poisson_cdf_and_statsmodels(k: int, level: float) -> None:
    lo, hi = garwood_limits(k, level)
    ref_lo, ref_hi = _by_cdf(k, level)
    assert lo == pytest.approx(ref_lo, rel=1e-8, abs=1e-12)
    assert hi == pytest.approx(ref_hi, rel=1e-8)
    # statsmodels' 'exact-c' is the central (Garwood) interval for a count over an exposure.
    sm_lo, sm_hi = confint_poisson(k, 12.5, method="exact-c", alpha=1 - level)
    r = poisson_rate(k, 12.5, per=1.0, confidence_level=level)
    assert r.lower == pytest.approx(float(sm_lo), rel=1e-9, abs=1e-15)
    assert r.upper == pytest.approx(float(sm_hi), rel=1e-9)


def test_rate_per_100_patient_years() -> None:
    r = poisson_rate(3, 10.0)
    assert r.rate == pytest.approx(30.0)
    lo, hi = _by_cdf(3, 0.95)
    assert (r.lower, r.upper) == (pytest.approx(lo * 10), pytest.approx(hi * 10))
    assert r.summary().startswith("3 events in 10 patient-years: 30 per 100 patient-years")


def test_zero_events_has_lower_limit_zero_and_a_finite_upper() -> None:
    r = poisson_rate(0, 4.0)
    assert r.rate == 0.0
    assert r.lower == 0.0
    # k = 0: the upper limit solves exp(-m) = α/2, i.e. m = -ln(0.025).
    assert r.upper == pytest.approx(-math.log(0.025) / 4.0 * 100)


def test_zero_exposure_is_not_computable_and_says_why() -> None:
    r = poisson_rate(0, 0.0)
    assert not r.computable
    assert r.reason == "no time at risk"
    r2 = poisson_rate(2, 0.0)
    assert r2.reason == "no time at risk (events recorded without exposure)"
    assert r2.to_dict()["rate"] is None


@pytest.mark.parametrize(
    ("events", "exposure", "message"),
    [
        (-1, 1.0, "an event count must be a whole number ≥ 0, got -1"),
        (1.5, 1.0, "an event count must be a whole number ≥ 0, got 1.5"),
        (1, -2.0, "exposure must be a finite number ≥ 0, got -2.0"),
        (1, math.inf, "exposure must be a finite number ≥ 0, got inf"),
    ],
)
def test_bad_input_is_refused(events: object, exposure: float, message: str) -> None:
    with pytest.raises(StatsInputError) as err:
        poisson_rate(events, exposure)  # type: ignore[arg-type]
    assert str(err.value) == message
