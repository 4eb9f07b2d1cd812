"""Event rates per person-time with exact (Garwood) Poisson confidence intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import chi2

from jakreg.stats._common import JSONValue, StatsInputError, fmt, json_float

POISSON_CI_METHOD = (
    "exact Poisson (Garwood 1936) interval from the chi-square distribution: lower "
    "chi2(α/2; 2k)/2, upper chi2(1 − α/2; 2k + 2)/2 (lower 0 when k = 0), divided by the exposure; "
    "never a normal approximation"
)


@dataclass(frozen=True)
class PoissonRate:
    """k events in `exposure` units of person-time, as a rate per `per` units with its exact CI.

    `computable` is False (with `reason`) when there is no exposure: a rate needs time at risk.
    """

    events: int
    exposure: float
    per: float
    confidence_level: float
    rate: float | None
    lower: float | None
    upper: float | None
    reason: str | None = None
    method: str = POISSON_CI_METHOD

    @property
    def computable(self) -> bool:
        return self.rate is not None

    def summary(self) -> str:
        if not self.computable:
            return f"{self.events} events; rate not computable ({self.reason})"
        pct = f"{self.confidence_level:.0%}"
        return (
            f"{self.events} events in {fmt(self.exposure, 4)} patient-years: "
            f"{fmt(self.rate, 3)} per {self.per:g} patient-years ({pct} CI "
            f"{fmt(self.lower, 3)}–{fmt(self.upper, 3)})"
        )

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "events": self.events,
            "exposure": json_float(self.exposure),
            "per": self.per,
            "rate": json_float(self.rate),
            "ci_lower": json_float(self.lower),
            "ci_upper": json_float(self.upper),
            "confidence_level": self.confidence_level,
            "computable": self.computable,
            "reason": self.reason,
            "method": self.method,
        }


def garwood_limits(events: int, confidence_level: float = 0.95) -> tuple[float, float]:
    """Exact limits for the mean of a Poisson count k (not yet divided by exposure)."""
    if isinstance(events, bool) or not isinstance(events, int) or events < 0:
        raise StatsInputError(f"an event count must be a whole number ≥ 0, got {events!r}")
    if not 0 < confidence_level < 1:
        raise StatsInputError(f"confidence level must be between 0 and 1, got {confidence_level}")
    alpha = 1 - confidence_level
    lower = 0.0 if events == 0 else float(chi2.ppf(alpha / 2, 2 * events)) / 2
    upper = float(chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return lower, upper


def poisson_rate(
    events: int, exposure: float, *, per: float = 100.0, confidence_level: float = 0.95
) -> PoissonRate:
    """The rate events / exposure × per with its exact Garwood interval."""
    if not math.isfinite(exposure) or exposure < 0:
        raise StatsInputError(f"exposure must be a finite number ≥ 0, got {exposure!r}")
    if per <= 0:
        raise StatsInputError(f"'per' must be positive, got {per!r}")
    lo, hi = garwood_limits(events, confidence_level)
    if exposure == 0:
        why = "no time at risk" + (" (events recorded without exposure)" if events else "")
        return PoissonRate(events, 0.0, per, confidence_level, None, None, None, why)
    scale = per / exposure
    return PoissonRate(
        events, exposure, per, confidence_level, events * scale, lo * scale, hi * scale
    )
