"""Shared pieces of the statistics results: JSON-safe numbers, input errors, missing-value rules."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeAlias

from jakreg.errors import JakregError

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

# Values recorded to a fixed number of decimals must tie when they are equal on paper: in binary
# floating point 15.99 - 7.55 != 10.44 - 2.0, which would silently turn a tie into two ranks.
# Ten decimals is far below any clinical precision and far above float noise.
DIFFERENCE_DECIMALS = 10


class StatsInputError(JakregError):
    """Input to a statistics function is malformed (not merely too small to compute)."""


def json_float(value: float | None) -> float | None:
    """A plain float for JSON, or None for missing, NaN and infinite values."""
    if value is None:
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


def is_missing(value: float | None) -> bool:
    """None and NaN both mean "not recorded"."""
    return value is None or math.isnan(value)


def split_missing(values: Iterable[float | None]) -> tuple[list[float], int]:
    """The recorded values as floats, and how many were missing."""
    present: list[float] = []
    n_missing = 0
    for value in values:
        if value is None or math.isnan(value):
            n_missing += 1
        else:
            present.append(float(value))
    return present, n_missing


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a sentence: significant digits, "–" when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}g}"


def p_phrase(p: float | None) -> str:
    """'p = 0.0078', or 'p < 0.0001' (never 'p = < 0.0001')."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_p(p: float | None) -> str:
    """A p-value as journals print it: two significant digits (p = 0.0078), "< 0.0001" below that;
    results.json keeps the exact value."""
    if p is None:
        return "–"
    if p < 1e-4:
        return "< 0.0001"
    return f"{p:.2g}"
