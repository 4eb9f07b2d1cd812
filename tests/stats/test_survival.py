"""Drug survival: Kaplan–Meier and Aalen–Johansen values checked by hand on tiny examples."""

import json
import math
import warnings

import numpy as np
import pytest
import scipy.stats

from jakreg.stats import StatsInputError, cumulative_incidence, kaplan_meier

# 2 stop, 3 censored (still on drug), 5 stop, 7 stop, 8 censored, 10 stop.
DURATIONS = [2.0, 3.0, 5.0, 7.0, 8.0, 10.0]
STOPPED = [True, False, True, True, False, True]


def test_km_by_hand() -> None:
    """S(2) = 5/6; S(5) = 5/6 · 3/4 = 0.625; S(7) = 0.625 · 2/3 = 0.41667; S(10) = 0.

    The median is the first time S(t) <= 0.5: 7 months. At risk just before 6 months: 7, 8, 10 → 3.
    """
    result = kaplan_meier(DURATIONS, STOPPED, times=[0.0, 2.0, 6.0, 7.0, 12.0])
    assert result.median == 7.0
    assert result.median_reached
    assert (result.n, result.n_events, result.n_censored) == (6, 4, 2)
    estimates = [v.estimate for v in result.at_times]
    assert estimates[:4] == pytest.approx([1.0, 5 / 6, 0.625, 0.625 * 2 / 3])
    assert estimates[4] is None  # beyond the last follow-up at 10 months
    assert [v.at_risk for v in result.at_times] == [6, 6, 3, 3, 0]
    assert result.censored_times == (3.0, 8.0)


def test_km_exponential_greenwood_ci_by_hand() -> None:
    """At t = 2: Greenwood sum d/(n(n−d)) = 1/30; on the log(−log) scale
    se = sqrt(1/30) / |log S|, and the limits are S ** exp(∓ z · se) with z = Φ⁻¹(0.975).
    """
    result = kaplan_meier(DURATIONS, STOPPED, times=[2.0])
    s = 5 / 6
    se = math.sqrt(1 / 30) / abs(math.log(s))
    z = float(scipy.stats.norm.ppf(0.975))
    at_two = result.at_times[0]
    assert at_two.ci_lower == pytest.approx(s ** math.exp(z * se))
    assert at_two.ci_upper == pytest.approx(s ** math.exp(-z * se))


def test_km_all_stopped_median_by_hand() -> None:
    """1, 2, 3, 4 all stopped: S = 0.75, 0.5, 0.25, 0 → median 2 (first S <= 0.5)."""
    assert kaplan_meier([1.0, 2.0, 3.0, 4.0], [True] * 4).median == 2.0


def test_km_median_not_reached() -> None:
    """The founding study: 3/10 stopped; S never falls to 0.5 → 'not reached', None in to_dict."""
    durations = [2.0, 5.0, 8.0, 12.0, 18.0, 24.0, 30.0, 42.0, 6.0, 9.0]
    stopped = [True, False, True, False, False, True, False, False, False, False]
    result = kaplan_meier(durations, stopped, times=[12.0])
    assert not result.median_reached
    assert result.median is None
    assert result.median_ci_upper is None
    assert result.summary()[0].startswith("median time on drug not reached")
    as_dict = result.to_dict()
    assert as_dict["median"] is None
    json.dumps(as_dict, allow_nan=False)


def test_km_empty_is_not_computable() -> None:
    result = kaplan_meier([], [])
    assert not result.computable
    assert result.reason == "no treatment courses"
    json.dumps(result.to_dict(), allow_nan=False)


def test_km_single_course() -> None:
    result = kaplan_meier([4.0], [True], times=[4.0])
    assert result.median == 4.0
    assert result.at_times[0].estimate == 0.0
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("durations", "stopped", "message"),
    [
        (
            [1.0, -2.0],
            [True, True],
            "duration at position 1 is -2.0; durations must be numbers >= 0",
        ),
        ([float("nan")], [True], "duration at position 0 is nan; durations must be numbers >= 0"),
        ([1.0], [True, False], "durations and stopped differ in length (1 vs 2)"),
    ],
)
def test_km_rejects_bad_durations(
    durations: list[float], stopped: list[bool], message: str
) -> None:
    with pytest.raises(StatsInputError) as caught:
        kaplan_meier(durations, stopped)
    assert str(caught.value).startswith(message)


def test_cif_without_ties_by_hand() -> None:
    """Times 1 (A), 2 (B), 3 (still on drug), 4 (A), 5 (B).

    t=1: n=5, CIF_A = 1/5 = 0.2, S = 0.8. t=2: n=4, CIF_B = 0.8 · 1/4 = 0.2, S = 0.6.
    t=3: censored. t=4: n=2, CIF_A += 0.6 · 1/2 → 0.5, S = 0.3. t=5: n=1, CIF_B += 0.3 → 0.5.
    """
    result = cumulative_incidence(
        [1.0, 2.0, 3.0, 4.0, 5.0], ["A", "B", None, "A", "B"], times=[1.0, 2.5, 4.0, 5.0]
    )
    a, b = result.causes
    assert (a.cause, b.cause) == ("A", "B")
    assert [v.estimate for v in a.at_times] == pytest.approx([0.2, 0.2, 0.5, 0.5])
    assert [v.estimate for v in b.at_times] == pytest.approx([0.0, 0.2, 0.2, 0.5])
    assert [v.at_risk for v in a.at_times] == [5, 3, 2, 1]
    assert (a.n_events, b.n_events, result.n_censored) == (2, 2, 1)


def test_cif_with_tied_causes_is_exact_and_deterministic() -> None:
    """Times 1 (A), 1 (B), 2 (A), 3 (on drug). Aalen–Johansen with ties: at t=1, n=4, d_A = d_B = 1:
    CIF_A = CIF_B = 1/4, S = 1/2; at t=2, n=2: CIF_A += 1/2 · 1/2 → 0.5.

    lifelines would jitter the tie at random (and reseed numpy's global generator); we separate it
    deterministically, so there is no warning, the global generator is untouched, and the value at
    t = 1 itself already includes both tied events.
    """
    state = np.random.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = cumulative_incidence([1.0, 1.0, 2.0, 3.0], ["A", "B", "A", None], times=[1.0, 2.0])
        second = cumulative_incidence([1.0, 1.0, 2.0, 3.0], ["A", "B", "A", None], times=[1.0, 2.0])
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1])
    a, b = first.causes
    assert [v.estimate for v in a.at_times] == pytest.approx([0.25, 0.5])
    assert [v.estimate for v in b.at_times] == pytest.approx([0.25, 0.25])
    assert first.to_dict() == second.to_dict()
    assert a.curve.times == (0.0, 1.0, 2.0, 3.0)


def test_cif_event_and_censoring_tied() -> None:
    """2 (A), 2 (on drug), 3 (B): the course censored at 2 is at risk at 2 (events first).
    t=2: n=3, CIF_A = 1/3, S = 2/3; t=3: n=1, CIF_B = 2/3.
    """
    result = cumulative_incidence([2.0, 2.0, 3.0], ["A", None, "B"], times=[2.0, 3.0])
    a, b = result.causes
    assert [v.estimate for v in a.at_times] == pytest.approx([1 / 3, 1 / 3])
    assert [v.estimate for v in b.at_times] == pytest.approx([0.0, 2 / 3])


def test_cif_curves_sum_to_one_minus_km() -> None:
    durations = [2.0, 5.0, 8.0, 12.0, 12.0, 18.0, 24.0, 30.0, 42.0, 6.0]
    reasons = ["hepatotoxicity", None, "no response", "before HSCT", "no response"]
    reasons += [None, "hepatotoxicity", None, None, None]
    times = [6.0, 12.0, 24.0, 36.0]
    cif = cumulative_incidence(durations, reasons, times=times)
    km = kaplan_meier(durations, [r is not None for r in reasons], times=times)
    for i, v in enumerate(km.at_times):
        total = sum(c.at_times[i].estimate or 0.0 for c in cif.causes)
        assert v.estimate is not None
        assert total == pytest.approx(1.0 - v.estimate)
    json.dumps(cif.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("durations", "reasons", "reason"),
    [([], [], "no treatment courses"), ([3.0, 4.0], [None, None], "no stops recorded")],
)
def test_cif_not_computable(durations: list[float], reasons: list[str | None], reason: str) -> None:
    result = cumulative_incidence(durations, reasons)
    assert not result.computable
    assert result.reason == reason
    json.dumps(result.to_dict(), allow_nan=False)
