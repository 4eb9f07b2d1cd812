"""Drug survival at registry size: the linear-time steps give the same numbers as the plain ones."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from lifelines import AalenJohansenFitter

from jakreg.stats import cumulative_incidence
from jakreg.stats.survival import StepCurve, _aalen_johansen, _AalenJohansen, separate_tied_causes


def _separate_one_time_at_a_time(durations: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The definition of separate_tied_causes, one tied time at a time (quadratic, for reference)."""
    distinct = np.unique(np.concatenate([[0.0], durations]))
    gap = float(np.diff(distinct).min())
    n_causes = int(codes.max()) if codes.size else 0
    step = gap / (2.0 * (n_causes + 1))
    shifted = durations.copy()
    for t in np.unique(durations[codes > 0]):
        at_t = (durations == t) & (codes > 0)
        present = sorted(set(codes[at_t].tolist()))
        if len(present) < 2:
            continue
        for position, code in enumerate(present):
            shifted[at_t & (codes == code)] = t - (len(present) - 1 - position) * step
    return shifted


def _random_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    durations = rng.integers(1, 40, size=n) / float(rng.choice([1.0, 3.0, 7.0, 30.0]))
    codes = rng.integers(0, int(rng.integers(2, 6)), size=n).astype(np.int64)
    return durations, codes


def test_separating_tied_causes_equals_the_definition() -> None:
    rng = np.random.default_rng(20240501)
    for _ in range(500):
        durations, codes = _random_data(rng, int(rng.integers(1, 80)))
        expected = _separate_one_time_at_a_time(durations, codes)
        assert np.array_equal(separate_tied_causes(durations, codes), expected)


def test_separating_tied_causes_without_events() -> None:
    durations = np.array([1.0, 2.0, 2.0])
    assert np.array_equal(separate_tied_causes(durations, np.zeros(3, dtype=np.int64)), durations)


def test_aalen_johansen_variance_is_lifelines_own() -> None:
    """Same variance and limits, bit for bit, as lifelines' row-by-row loop."""
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 40:
        durations, codes = _random_data(rng, int(rng.integers(2, 200)))
        if not (codes > 0).any():
            continue
        shifted = separate_tied_causes(durations, codes)
        cause = int(rng.choice(np.unique(codes[codes > 0])))
        alpha = float(rng.choice([0.05, 0.1, 0.2]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = AalenJohansenFitter(calculate_variance=True, alpha=alpha)
            theirs.fit(shifted, codes, event_of_interest=cause)
            ours = _AalenJohansen(calculate_variance=True, alpha=alpha)
            ours.fit(shifted, codes, event_of_interest=cause)
        assert np.array_equal(
            ours.variance_.to_numpy(), theirs.variance_.to_numpy(), equal_nan=True
        )
        assert ours.confidence_interval_.equals(theirs.confidence_interval_)
        checked += 1


def test_the_fast_fitter_is_used_for_the_release_it_copies() -> None:
    assert isinstance(_aalen_johansen(0.05), _AalenJohansen)


def test_values_at_many_times_equals_value_at() -> None:
    curve = StepCurve(
        times=(0.0, 1.0, 2.5, 4.0),
        estimate=(0.0, 0.1, 0.3, 0.6),
        ci_lower=(None, 0.01, 0.1, 0.2),
        ci_upper=(None, 0.3, 0.5, 0.9),
    )
    ts = [-1.0, 0.0, 0.5, 1.0, 2.4999, 2.5, 3.0, 4.0, 9.0]
    assert curve.values_at(ts) == [curve.value_at(t) for t in ts]


@pytest.mark.slow
def test_cumulative_incidence_is_fast_for_a_large_registry() -> None:
    """100,000 first courses with tied fractional months: seconds, not minutes (was quadratic)."""
    rng = np.random.default_rng(1)
    n = 100_000
    durations = (rng.integers(1, 4000, size=n) / 30.0).tolist()
    causes = ["adverse_event", "no_response", "hsct", "remission", "other"]
    reasons = [None if k == 0 else causes[k - 1] for k in rng.integers(0, 6, size=n)]
    start = time.process_time()
    result = cumulative_incidence(durations, reasons, times=[6.0 * k for k in range(20)])
    assert time.process_time() - start < 30
    assert len(result.causes) == 5
