"""Drug survival: Kaplan–Meier time to discontinuation and cumulative incidence of each stop reason.

Durations are in months from the start of the JAK inhibitor. Curves are kept as plain tuples so that
results can be stored, compared and plotted without lifelines objects.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import lifelines
import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import inv_normal_cdf, median_survival_times

from jakreg.stats._common import JSONValue, StatsInputError, fmt, json_float

TIME_UNIT = "months"
# The lifelines releases whose Aalen–Johansen variance _AalenJohansen copies.
FAST_AJ_LIFELINES = "0.30."
KM_CI_METHOD = "exponential Greenwood (log(−log S)), lifelines default"
KM_MEDIAN_RULE = "smallest time at which S(t) <= 0.5 (lifelines); not reached if S stays above 0.5"
CIF_CI_METHOD = (
    "delta method on log(−log F) of the Greenwood-type variance (lifelines, after Collett)"
)
TIE_HANDLING = (
    "events of different stop reasons at the same time are separated deterministically (the last "
    "reason in alphabetical order keeps the recorded time, earlier ones move back by a fraction of "
    "the smallest gap between distinct times) instead of lifelines' random jitter; the estimate at "
    "and after each tied time equals the Aalen–Johansen estimate with ties, and curves are "
    "reported at the recorded times; confidence limits are lifelines' variance computed on the "
    "separated times"
)


@dataclass(frozen=True)
class StepCurve:
    """A right-continuous step function with pointwise confidence limits."""

    times: tuple[float, ...]
    estimate: tuple[float, ...]
    ci_lower: tuple[float | None, ...]
    ci_upper: tuple[float | None, ...]

    def value_at(self, t: float) -> tuple[float, float | None, float | None]:
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        i = max(i, 0)
        return self.estimate[i], self.ci_lower[i], self.ci_upper[i]

    def indices_at(self, ts: Sequence[float] | np.ndarray) -> list[int]:
        """For each time, the index of the step in force (as value_at), in one sorted search."""
        found = np.searchsorted(np.asarray(self.times, dtype=float), ts, side="right") - 1
        return np.maximum(found, 0).tolist()  # type: ignore[no-any-return]

    def values_at(
        self, ts: Sequence[float] | np.ndarray
    ) -> list[tuple[float, float | None, float | None]]:
        """value_at for many times: O((n + m) log n) instead of converting the curve per time."""
        e, lo, hi = self.estimate, self.ci_lower, self.ci_upper
        return [(e[i], lo[i], hi[i]) for i in self.indices_at(ts)]

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "times": [float(t) for t in self.times],
            "estimate": [json_float(v) for v in self.estimate],
            "ci_lower": [json_float(v) for v in self.ci_lower],
            "ci_upper": [json_float(v) for v in self.ci_upper],
        }


@dataclass(frozen=True)
class ValueAtTime:
    """A curve read at one chosen time; None beyond the last follow-up."""

    time: float
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    at_risk: int  # still on drug and under follow-up just before `time`

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "time": float(self.time),
            "estimate": json_float(self.estimate),
            "ci_lower": json_float(self.ci_lower),
            "ci_upper": json_float(self.ci_upper),
            "at_risk": self.at_risk,
        }


def _check_durations(durations: Sequence[float], n_flags: int, flag_name: str) -> np.ndarray:
    if len(durations) != n_flags:
        raise StatsInputError(
            f"durations and {flag_name} differ in length ({len(durations)} vs {n_flags})"
        )
    for i, d in enumerate(durations):
        if d is None or not math.isfinite(d) or d < 0:
            raise StatsInputError(
                f"duration at position {i} is {d!r}; "
                f"durations must be numbers >= 0 of {TIME_UNIT} (0: stopped or seen on the start day)"
            )
    return np.asarray(durations, dtype=float)


def _at_risk(durations: np.ndarray, t: float) -> int:
    return int((durations >= t).sum())


def _curve(estimate: pd.DataFrame, ci: pd.DataFrame) -> StepCurve:
    lower = ci.iloc[:, 0].to_numpy(dtype=float)
    upper = ci.iloc[:, 1].to_numpy(dtype=float)
    return StepCurve(
        times=tuple(float(t) for t in estimate.index),
        estimate=tuple(float(v) for v in estimate.iloc[:, 0]),
        ci_lower=tuple(json_float(v) for v in np.minimum(lower, upper)),
        ci_upper=tuple(json_float(v) for v in np.maximum(lower, upper)),
    )


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan–Meier drug survival (time on drug until stop)."""

    n: int
    n_events: int  # stops
    n_censored: int  # still on drug at last follow-up
    median: float | None  # None when not reached (or not computable)
    median_reached: bool
    median_ci_lower: float | None
    median_ci_upper: float | None  # None when the upper limit is not reached
    confidence_level: float
    curve: StepCurve | None
    censored_times: tuple[float, ...]  # for the tick marks on a plot
    at_times: tuple[ValueAtTime, ...]
    reason: str | None
    time_unit: str = TIME_UNIT
    ci_method: str = KM_CI_METHOD
    median_rule: str = KM_MEDIAN_RULE

    @property
    def computable(self) -> bool:
        return self.curve is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "estimator": "Kaplan–Meier",
            "n": self.n,
            "n_events": self.n_events,
            "n_censored": self.n_censored,
            "median": json_float(self.median),
            "median_reached": self.median_reached,
            "median_ci_lower": json_float(self.median_ci_lower),
            "median_ci_upper": json_float(self.median_ci_upper),
            "confidence_level": self.confidence_level,
            "curve": self.curve.to_dict() if self.curve else None,
            "censored_times": [float(t) for t in self.censored_times],
            "at_times": [v.to_dict() for v in self.at_times],
            "time_unit": self.time_unit,
            "ci_method": self.ci_method,
            "median_rule": self.median_rule,
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> list[str]:
        if not self.computable:
            return [f"Kaplan–Meier not computable: {self.reason}"]
        level = f"{100 * self.confidence_level:g}%"
        if self.median_reached:
            upper = fmt(self.median_ci_upper, 4) if self.median_ci_upper is not None else "NR"
            median = (
                f"median time on drug {fmt(self.median, 4)} {self.time_unit} "
                f"({level} CI {fmt(self.median_ci_lower, 4)}–{upper})"
            )
        else:
            median = (
                f"median time on drug not reached ({level} CI lower limit "
                f"{fmt(self.median_ci_lower, 4)})"
            )
        rows = [f"{median}; n = {self.n}, {self.n_events} stopped, {self.n_censored} censored"]
        for v in self.at_times:
            if v.estimate is None:
                rows.append(f"{v.time:g} {self.time_unit}: beyond follow-up (at risk {v.at_risk})")
            else:
                rows.append(
                    f"{v.time:g} {self.time_unit}: on drug {100 * v.estimate:.1f}% "
                    f"({level} CI {_pct(v.ci_lower)}–{_pct(v.ci_upper)}), at risk {v.at_risk}"
                )
        return rows


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def kaplan_meier(
    durations: Sequence[float],
    stopped: Sequence[bool],
    *,
    times: Sequence[float] = (),
    confidence_level: float = 0.95,
) -> KaplanMeierResult:
    """Kaplan–Meier estimate of staying on drug; `stopped` is True where the drug was stopped."""
    d = _check_durations(durations, len(stopped), "stopped")
    events = np.asarray(stopped, dtype=bool)
    n = int(d.size)
    if n == 0:
        return KaplanMeierResult(
            n=0,
            n_events=0,
            n_censored=0,
            median=None,
            median_reached=False,
            median_ci_lower=None,
            median_ci_upper=None,
            confidence_level=confidence_level,
            curve=None,
            censored_times=(),
            at_times=(),
            reason="no treatment courses",
        )
    kmf = KaplanMeierFitter(alpha=1.0 - confidence_level).fit(d, event_observed=events)
    curve = _curve(kmf.survival_function_, kmf.confidence_interval_)
    median = float(kmf.median_survival_time_)
    median_ci = median_survival_times(kmf.confidence_interval_)
    bounds = sorted(float(v) for v in median_ci.to_numpy().ravel())
    last = float(d.max())
    at_times = []
    for t in times:
        estimate, lower, upper = curve.value_at(t)
        beyond = t > last
        at_times.append(
            ValueAtTime(
                time=float(t),
                estimate=None if beyond else estimate,
                ci_lower=None if beyond else lower,
                ci_upper=None if beyond else upper,
                at_risk=_at_risk(d, t),
            )
        )
    return KaplanMeierResult(
        n=n,
        n_events=int(events.sum()),
        n_censored=int(n - events.sum()),
        median=_finite_or_none(median),
        median_reached=math.isfinite(median),
        median_ci_lower=_finite_or_none(bounds[0]),
        median_ci_upper=_finite_or_none(bounds[1]),
        confidence_level=confidence_level,
        curve=curve,
        censored_times=tuple(float(t) for t in np.sort(d[~events])),
        at_times=tuple(at_times),
        reason=None,
    )


@dataclass(frozen=True)
class CauseIncidence:
    """Cumulative incidence of one stop reason, with the others as competing events."""

    cause: str
    n_events: int
    curve: StepCurve
    at_times: tuple[ValueAtTime, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "cause": self.cause,
            "n_events": self.n_events,
            "curve": self.curve.to_dict(),
            "at_times": [v.to_dict() for v in self.at_times],
        }


@dataclass(frozen=True)
class CumulativeIncidenceResult:
    """Aalen–Johansen cumulative incidence of each stop reason (competing risks)."""

    n: int
    n_censored: int
    causes: tuple[CauseIncidence, ...]
    confidence_level: float
    reason: str | None
    time_unit: str = TIME_UNIT
    ci_method: str = CIF_CI_METHOD
    tie_handling: str = TIE_HANDLING

    @property
    def computable(self) -> bool:
        return bool(self.causes)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "estimator": "Aalen–Johansen",
            "n": self.n,
            "n_censored": self.n_censored,
            "causes": [c.to_dict() for c in self.causes],
            "confidence_level": self.confidence_level,
            "time_unit": self.time_unit,
            "ci_method": self.ci_method,
            "tie_handling": self.tie_handling,
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> list[str]:
        if not self.computable:
            return [f"Cumulative incidence not computable: {self.reason}"]
        rows = [f"n = {self.n}, {self.n_censored} still on drug (censored)"]
        for cause in self.causes:
            values = ", ".join(
                f"{v.time:g} {self.time_unit}: {_pct(v.estimate)}" for v in cause.at_times
            )
            rows.append(f"{cause.cause} ({cause.n_events} stopped){': ' if values else ''}{values}")
        return rows


class _AalenJohansen(AalenJohansenFitter):  # type: ignore[misc]
    """lifelines' Aalen–Johansen fitter with its variance loop run over arrays, not DataFrame rows.

    lifelines computes the Greenwood-type variance with ``DataFrame.iterrows`` (a pandas Series per
    event time, ~50 µs each), which dominates a registry's drug-survival analysis. ``_bounds`` below
    is lifelines' own (0.30) step for step: the same float64 values in the same order of
    operations, so the variance and the limits are the same numbers (a test compares them).
    """

    def _bounds(
        self, lagged_survival: pd.Series, alpha: float, ci_labels: Sequence[str] | None
    ) -> tuple[pd.Series, pd.DataFrame]:
        ci = 1 - alpha
        df = self.event_table.copy()
        df["Ft"] = self.cumulative_density_
        df["lagS"] = lagged_survival.fillna(1)
        if ci_labels is None:
            ci_labels = [f"{self._label}_upper_{ci:g}", f"{self._label}_lower_{ci:g}"]
        assert len(ci_labels) == 2, "ci_labels should be a length 2 array."
        # iterrows gives each row as one float64 Series: the same values, column by column.
        values = df.values
        column = {name: values[:, i] for i, name in enumerate(df.columns)}
        q_const = q_linear = q_quadratic = 0.0  # lifelines' QuadraticAccumulator
        l_const = l_linear = 0.0  # and LinearAccumulator
        second_term = 0
        all_vars = []
        for ft, observed, at_risk, lag_s, cause in zip(
            column["Ft"], column["observed"], column["at_risk"], column["lagS"],
            column[self.label_cmprisk], strict=True,
        ):  # fmt: skip
            F_t = float(ft)  # noqa: N806 - lifelines' name
            a = observed / at_risk / (at_risk - observed)
            q_const += a * (F_t**2)
            q_linear -= 2 * a * F_t
            q_quadratic += a
            second_term += (lag_s**2) * cause * (at_risk - cause) / (at_risk**3)
            a = lag_s * cause / (at_risk**2)
            l_const -= a * F_t
            l_linear += a
            first = q_const + q_linear * F_t + q_quadratic * (F_t**2)
            third = l_const + l_linear * F_t
            all_vars.append(first + second_term - 2 * third)
        df["variance"] = all_vars
        df["F_transformed"] = np.log(-np.log(df["Ft"]))
        df["se_transformed"] = np.sqrt(df["variance"]) / (df["Ft"] * np.absolute(np.log(df["Ft"])))
        zalpha = inv_normal_cdf(1 - alpha / 2)
        df[ci_labels[0]] = np.exp(-np.exp(df["F_transformed"] + zalpha * df["se_transformed"]))
        df[ci_labels[1]] = np.exp(-np.exp(df["F_transformed"] - zalpha * df["se_transformed"]))
        return df["variance"], df[list(ci_labels)]


def _aalen_johansen(alpha: float) -> AalenJohansenFitter:
    """The fast variance for the lifelines release it copies; lifelines' own fitter otherwise."""
    fast = lifelines.__version__.startswith(FAST_AJ_LIFELINES)
    fitter = _AalenJohansen if fast else AalenJohansenFitter
    return fitter(calculate_variance=True, alpha=alpha)


def separate_tied_causes(durations: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Move tied events of different causes apart, backwards in time, in a fixed order.

    Within a tie block the Aalen–Johansen increments telescope (S(t−)·1/n, then
    S(t−)·(n−1)/n·1/(n−1) = S(t−)/n), so the cumulative incidence at the recorded time is unchanged;
    moving *back* keeps every event of the block included at the recorded time, and keeps events
    before censorings at that time (the usual convention).
    """
    distinct = np.unique(np.concatenate([[0.0], durations]))
    gap = float(np.diff(distinct).min())
    n_causes = int(codes.max()) if codes.size else 0
    step = gap / (2.0 * (n_causes + 1))
    shifted = durations.copy()
    events = np.flatnonzero(codes > 0)
    if events.size == 0:
        return shifted
    # Each (time, cause) present among the events, sorted by time then cause: the position of a
    # cause among the causes at its time and how many there are, in one pass (not one per time).
    times, time_of_event = np.unique(durations[events], return_inverse=True)
    pairs, pair_of_event = np.unique(
        np.stack([time_of_event, codes[events]]), axis=1, return_inverse=True
    )
    pair_time = pairs[0]
    first_of_time = np.searchsorted(pair_time, pair_time, side="left")
    n_present = np.searchsorted(pair_time, pair_time, side="right") - first_of_time
    position = np.arange(pair_time.size) - first_of_time
    tied = n_present >= 2
    # Same arithmetic as t - (len(present) - 1 - position) * step, one value per (time, cause).
    moved = times[pair_time] - (n_present - 1 - position) * step
    pair_of_event = np.asarray(pair_of_event).reshape(-1)
    move = tied[pair_of_event]
    shifted[events[move]] = moved[pair_of_event[move]]
    return shifted


def _zero_offset(durations: np.ndarray) -> float:
    """0 without durations of 0, else the smallest gap between distinct times (0 included)."""
    if durations.size == 0 or float(durations.min()) > 0.0:
        return 0.0
    distinct = np.unique(np.concatenate([[0.0], durations]))
    return float(np.diff(distinct).min()) if distinct.size > 1 else 1.0


def cumulative_incidence(
    durations: Sequence[float],
    stop_reasons: Sequence[str | None],
    *,
    times: Sequence[float] = (),
    confidence_level: float = 0.95,
) -> CumulativeIncidenceResult:
    """Cumulative incidence of each stop reason; None means still on drug (censored).

    Causes are reported in alphabetical order. See TIE_HANDLING for how ties are made deterministic.
    """
    d = _check_durations(durations, len(stop_reasons), "stop_reasons")
    causes = sorted({r for r in stop_reasons if r is not None})
    codes = np.asarray(
        [0 if r is None else causes.index(r) + 1 for r in stop_reasons], dtype=np.int64
    )
    n_censored = int((codes == 0).sum())
    if d.size == 0 or not causes:
        return CumulativeIncidenceResult(
            n=int(d.size),
            n_censored=n_censored,
            causes=(),
            confidence_level=confidence_level,
            reason="no treatment courses" if d.size == 0 else "no stops recorded",
        )
    # A stop on the start day (duration 0) is an event at time 0. lifelines' Aalen–Johansen
    # prepends its own row at 0 and loses events there (F(0) stays 0), so when there are any the
    # fit runs on times moved forward by the smallest gap between distinct times; the estimator
    # depends only on the order of the times, and the curve is read back at the recorded ones.
    offset = _zero_offset(d)
    shifted = separate_tied_causes(d + offset, codes)
    recorded_times = np.unique(np.concatenate([[0.0], d]))
    results = []
    for code, cause in enumerate(causes, start=1):
        ajf = _aalen_johansen(1.0 - confidence_level)
        with warnings.catch_warnings():
            # After separate_tied_causes lifelines finds no ties; any warning here is worth seeing
            # in tests, but lifelines also warns about unrelated pandas details we cannot act on.
            warnings.simplefilter("ignore", FutureWarning)
            ajf.fit(shifted, codes, event_of_interest=code)
        fitted = _curve(ajf.cumulative_density_, ajf.confidence_interval_)
        # Report at the recorded times, so the curve never shows the internal separation.
        points = fitted.values_at(recorded_times + offset)
        curve = StepCurve(
            times=tuple(float(t) for t in recorded_times),
            estimate=tuple(p[0] for p in points),
            ci_lower=tuple(p[1] for p in points),
            ci_upper=tuple(p[2] for p in points),
        )
        last = float(d.max())
        at_times = []
        for t in times:
            estimate, lower, upper = curve.value_at(t)
            beyond = t > last
            at_times.append(
                ValueAtTime(
                    time=float(t),
                    estimate=None if beyond else estimate,
                    ci_lower=None if beyond else lower,
                    ci_upper=None if beyond else upper,
                    at_risk=_at_risk(d, t),
                )
            )
        results.append(
            CauseIncidence(
                cause=cause,
                n_events=int((codes == code).sum()),
                curve=curve,
                at_times=tuple(at_times),
            )
        )
    return CumulativeIncidenceResult(
        n=int(d.size),
        n_censored=n_censored,
        causes=tuple(results),
        confidence_level=confidence_level,
        reason=None,
    )
