"""A proportion with its exact (Clopper–Pearson) confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import beta

from jakreg.stats._common import JSONValue, fmt, json_float

CLOPPER_PEARSON = (
    "exact (Clopper–Pearson): beta quantiles, lower B(α/2; k, n−k+1), upper B(1−α/2; k+1, n−k); "
    "0 when k = 0, 1 when k = n"
)


@dataclass(frozen=True)
class ProportionCI:
    k: int
    n: int
    proportion: float | None
    ci_lower: float | None
    ci_upper: float | None
    confidence_level: float
    reason: str | None
    method: str = CLOPPER_PEARSON

    @property
    def computable(self) -> bool:
        return self.proportion is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "k": self.k,
            "n": self.n,
            "proportion": json_float(self.proportion),
            "ci_lower": json_float(self.ci_lower),
            "ci_upper": json_float(self.ci_upper),
            "confidence_level": self.confidence_level,
            "method": "Clopper–Pearson (exact)",
            "computable": self.computable,
            "reason": self.reason,
        }

    def percent_text(self) -> str:
        """'40.0% (95% CI 12.2–73.8%)', or '–' with no denominator."""
        if not self.computable:
            return "–"
        lower, upper, p = self.ci_lower or 0.0, self.ci_upper or 0.0, self.proportion or 0.0
        level = f"{100 * self.confidence_level:g}%"
        return f"{fmt(100 * p, 3)}% ({level} CI {fmt(100 * lower, 3)}–{fmt(100 * upper, 3)}%)"


def clopper_pearson(k: int, n: int, confidence_level: float = 0.95) -> ProportionCI:
    """k of n with the exact two-sided interval; n = 0 gives no proportion, with the reason."""
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k = {k}, n = {n}")
    if n == 0:
        return ProportionCI(
            k, n, None, None, None, confidence_level, "no patients in the denominator"
        )
    alpha = 1.0 - confidence_level
    lower = 0.0 if k == 0 else float(beta.ppf(alpha / 2.0, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1.0 - alpha / 2.0, k + 1, n - k))
    return ProportionCI(k, n, k / n, lower, upper, confidence_level, None)
