"""A course stopped on its start day is an event at time 0 (issue 18.1).

References: lifelines' KaplanMeierFitter fitted on the same durations (0 included) and lifelines'
AalenJohansenFitter fitted on the durations moved forward by a constant (the estimator depends
only on the order of the times; lifelines itself loses events at exactly 0, F(0) = 0), plus the
identity sum of the cumulative incidences = 1 − KM for one set of data. Before the fix both
functions refused a duration of 0 (and the analysis dropped such courses).
"""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter

from jakreg.stats import cumulative_incidence, kaplan_meier
from jakreg.stats._common import StatsInputError

DURATIONS = [0.0, 0.0, 1.5, 2.0, 3.0, 4.5, 6.0, 7.0]
REASONS = ["adverse event", None, "inefficacy", None, "adverse event", "hsct", None, "inefficacy"]


def test_kaplan_meier_takes_day_zero_stops_as_events_at_zero() -> None:
    stopped = [r is not None for r in REASONS]
    result = kaplan_meier(DURATIONS, stopped, times=[0.0, 3.0])
    ref = KaplanMeierFitter().fit(np.array(DURATIONS), np.array(stopped))
    assert result.n == 8
    assert result.n_events == 5
    assert result.curve is not None
    for t, s in zip(result.curve.times, result.curve.estimate, strict=True):
        assert s == pytest.approx(float(ref.survival_function_at_times(t).iloc[0]), abs=1e-12)
    # S(0) = 1 − 1/8: the day-0 stop counts at 0, the day-0 censoring does not.
    assert result.at_times[0].estimate == pytest.approx(7 / 8, abs=1e-12)
    assert result.at_times[0].at_risk == 8


def test_cumulative_incidence_takes_day_zero_stops_at_zero() -> None:
    result = cumulative_incidence(DURATIONS, REASONS, times=[0.0, 1.5, 4.5])
    codes_of = {c: i + 1 for i, c in enumerate(sorted({r for r in REASONS if r}))}
    codes = np.array([0 if r is None else codes_of[r] for r in REASONS])
    moved = np.array(DURATIONS) + 0.25  # order kept; no time at 0 left for lifelines to lose
    total = np.zeros(3)
    for cause in result.causes:
        ref = AalenJohansenFitter(calculate_variance=True).fit(
            moved, codes, event_of_interest=codes_of[cause.cause]
        )
        for i, v in enumerate(cause.at_times):
            cif = ref.cumulative_density_.iloc[:, 0]
            expected = float(cif[cif.index <= v.time + 0.25].iloc[-1])
            assert v.estimate == pytest.approx(expected, abs=1e-12)
            total[i] += v.estimate or 0.0
    by_cause = {c.cause: c for c in result.causes}
    assert by_cause["adverse event"].at_times[0].estimate == pytest.approx(1 / 8, abs=1e-12)
    km = KaplanMeierFitter().fit(np.array(DURATIONS), np.array([r is not None for r in REASONS]))
    for i, t in enumerate([0.0, 1.5, 4.5]):
        assert total[i] == pytest.approx(1 - float(km.survival_function_at_times(t).iloc[0]))


def test_tied_causes_at_day_zero() -> None:
    """Two different reasons on the start day: both at 0, each 1/4 (n = 4)."""
    result = cumulative_incidence([0.0, 0.0, 1.0, 2.0], ["a", "b", None, "a"], times=[0.0])
    values = {c.cause: c.at_times[0].estimate for c in result.causes}
    assert values == {"a": pytest.approx(0.25), "b": pytest.approx(0.25)}


def test_negative_durations_are_still_refused() -> None:
    with pytest.raises(StatsInputError, match="durations must be numbers >= 0"):
        kaplan_meier([-1.0, 2.0], [True, False])
