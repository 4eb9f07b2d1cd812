"""Spearman rank correlation with an exact permutation p-value for small samples."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata, spearmanr

from jakreg.stats._common import JSONValue, StatsInputError, json_float, split_missing

# Up to 8 pairs all 8! = 40,320 pairings are enumerated; above, scipy's t approximation.
EXACT_MAX_N = 8
SPEARMAN_METHOD = (
    f"exact permutation of all pairings up to n = {EXACT_MAX_N} (two-sided, ties kept as average "
    "ranks); above, scipy.stats.spearmanr's t approximation"
)


@dataclass(frozen=True)
class SpearmanResult:
    n: int
    rho: float | None
    p_value: float | None
    method: str | None  # exact-permutation | t-approximation
    reason: str | None

    @property
    def computable(self) -> bool:
        return self.rho is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "test": "Spearman rank correlation",
            "n": self.n,
            "rho": json_float(self.rho),
            "p_value": json_float(self.p_value),
            "method": self.method,
            "computable": self.computable,
            "reason": self.reason,
        }


def _rho(rx: np.ndarray, ry: np.ndarray) -> float:
    return float(np.corrcoef(rx, ry)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> SpearmanResult:
    """Spearman's rho of paired values; exact p-value by enumeration for small n."""
    if len(x) != len(y):
        raise StatsInputError("x and y must have the same length (one pair per patient)")
    kept = [(a, b) for a, b in zip(x, y, strict=True) if not (split_missing([a, b])[1])]
    n = len(kept)
    if n < 3:
        return SpearmanResult(n, None, None, None, f"fewer than 3 pairs ({n})")
    xs = np.array([a for a, _ in kept], dtype=float)
    ys = np.array([b for _, b in kept], dtype=float)
    if np.unique(xs).size == 1 or np.unique(ys).size == 1:
        return SpearmanResult(n, None, None, None, "all values of one variable are equal")
    rx, ry = rankdata(xs), rankdata(ys)
    rho = _rho(rx, ry)
    if n <= EXACT_MAX_N:
        eps = 1e-12
        hits = sum(
            1
            for perm in itertools.permutations(ry)
            if abs(_rho(rx, np.array(perm))) >= abs(rho) - eps
        )
        p = hits / math.factorial(n)
        return SpearmanResult(n, rho, min(1.0, p), "exact-permutation", None)
    res = spearmanr(xs, ys)
    return SpearmanResult(n, rho, float(res.pvalue), "t-approximation", None)
