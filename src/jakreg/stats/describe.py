"""Descriptive summaries of one variable: continuous (median, quartiles, range) or categorical."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from jakreg.stats._common import JSONValue, fmt, json_float, split_missing

QUANTILE_METHOD_TEXT = "numpy 'linear' (Hyndman & Fan type 7, R's default)"


@dataclass(frozen=True)
class ContinuousSummary:
    """Summary of a continuous variable; statistics are None when there is nothing to summarise."""

    n: int
    n_missing: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    mean: float | None
    sd: float | None  # sample SD (ddof = 1); None when n < 2
    quantile_method: str = QUANTILE_METHOD_TEXT
    reason: str | None = None  # why some statistics are missing

    @property
    def computable(self) -> bool:
        return self.n > 0

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "n": self.n,
            "n_missing": self.n_missing,
            "median": json_float(self.median),
            "q1": json_float(self.q1),
            "q3": json_float(self.q3),
            "min": json_float(self.minimum),
            "max": json_float(self.maximum),
            "mean": json_float(self.mean),
            "sd": json_float(self.sd),
            "quantile_method": self.quantile_method,
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if not self.computable:
            return f"not computable: {self.reason} (n missing = {self.n_missing})"
        return (
            f"median {fmt(self.median, 4)} (range {fmt(self.minimum, 4)}–{fmt(self.maximum, 4)}; "
            f"IQR {fmt(self.q1, 4)}–{fmt(self.q3, 4)}), n = {self.n}, missing = {self.n_missing}"
        )


def describe_continuous(values: Iterable[float | None]) -> ContinuousSummary:
    """Summarise recorded values; None and NaN count as missing."""
    present, n_missing = split_missing(values)
    if not present:
        return ContinuousSummary(
            n=0,
            n_missing=n_missing,
            median=None,
            q1=None,
            q3=None,
            minimum=None,
            maximum=None,
            mean=None,
            sd=None,
            reason="no recorded values" if n_missing else "no values",
        )
    data = np.asarray(present, dtype=float)
    q1, median, q3 = np.quantile(data, [0.25, 0.5, 0.75], method="linear")
    many = data.size >= 2
    return ContinuousSummary(
        n=int(data.size),
        n_missing=n_missing,
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        minimum=float(data.min()),
        maximum=float(data.max()),
        mean=float(data.mean()),
        sd=float(data.std(ddof=1)) if many else None,
        reason=None if many else "SD needs at least 2 values",
    )


@dataclass(frozen=True)
class CategoryCount:
    """One category: its count and its share of the known (non-missing) values."""

    category: str
    count: int
    percent_of_known: float | None  # None when nothing is known

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "category": self.category,
            "count": self.count,
            "percent_of_known": json_float(self.percent_of_known),
        }


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts per category; percentages are of the known values, never of the total."""

    n_known: int
    n_missing: int
    counts: tuple[CategoryCount, ...]

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "n_known": self.n_known,
            "n_missing": self.n_missing,
            "counts": [c.to_dict() for c in self.counts],
        }

    def summary(self) -> list[str]:
        rows = [
            f"{c.category}: {c.count}/{self.n_known} ({fmt(c.percent_of_known, 3)}%)"
            for c in self.counts
        ]
        rows.append(f"missing: {self.n_missing}")
        return rows


def describe_categorical(
    values: Iterable[str | None], *, categories: Sequence[str] | None = None
) -> CategoricalSummary:
    """Count categories; `categories` fixes the order and lists categories that may count zero.

    Without `categories`, categories appear in order of first appearance. A value outside a given
    `categories` list is still counted (appended at the end) rather than silently dropped.
    """
    recorded = list(values)
    known = [v for v in recorded if v is not None]
    n_missing = len(recorded) - len(known)
    tally = Counter(known)
    order = list(categories) if categories is not None else []
    order += [v for v in dict.fromkeys(known) if v not in order]
    n_known = len(known)
    counts = tuple(
        CategoryCount(
            category=category,
            count=tally.get(category, 0),
            percent_of_known=100.0 * tally.get(category, 0) / n_known if n_known else None,
        )
        for category in order
    )
    return CategoricalSummary(n_known=n_known, n_missing=n_missing, counts=counts)
