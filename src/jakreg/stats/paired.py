"""Paired before/under-therapy comparison: Wilcoxon, sign test, Hodges–Lehmann, rank-biserial.

Direction convention: difference = under − before, so a score that falls under therapy gives a
negative difference, a negative Hodges–Lehmann estimate and a negative rank-biserial correlation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats

from jakreg.stats._common import (
    DIFFERENCE_DECIMALS,
    JSONValue,
    fmt,
    is_missing,
    json_float,
    p_phrase,
)
from jakreg.stats.signed_rank import (
    TIED_EXACT_MAX_N,
    HodgesLehmannResult,
    doubled_ranks,
    hodges_lehmann,
    tied_signed_rank_p,
)

DIRECTION = "under − before"
ZeroMethod = Literal["wilcox", "pratt", "zsplit"]
Alternative = Literal["two-sided", "less", "greater"]
WilcoxonMethod = Literal["exact", "exact (tied permutation distribution)", "asymptotic"]
EXACT_TIED: WilcoxonMethod = "exact (tied permutation distribution)"

# The exact null distribution of T+ (ties and ranked zeros included) is computed by dynamic
# programming over doubled ranks up to this many ranked differences (O(n^3); ~0.1 s at 500).
# scipy.stats.wilcoxon's own "auto" switches to the normal approximation above 50 pairs or with
# any tie, which for 14-50 tied pairs gives p up to 0.03 too small; we do not follow it there.
EXACT_MAX_N = TIED_EXACT_MAX_N
WILCOXON_SOFTWARE = (
    f"jakreg.stats.signed_rank, exact, up to {EXACT_MAX_N} ranked differences; "
    f"scipy.stats.wilcoxon, normal approximation with tie correction, above"
)
EXACT_TEXT = (
    "exact p: the permutation distribution of the signs with mid-ranks for ties, computed by "
    "dynamic programming over doubled ranks"
)
# A test on one non-zero difference can never reject (p = 1); we say so instead of printing p = 1.
MIN_NONZERO = 2


@dataclass(frozen=True)
class PairCounts:
    """How the given pairs were used."""

    n_given: int
    n_incomplete: int  # a before or an under value missing: dropped
    n_complete: int
    n_zero: int  # under == before
    n_positive: int  # under > before
    n_negative: int  # under < before

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "n_given": self.n_given,
            "n_incomplete": self.n_incomplete,
            "n_complete": self.n_complete,
            "n_zero": self.n_zero,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
        }


@dataclass(frozen=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test with the variant actually used (exact here, asymptotic by scipy)."""

    p_value: float | None
    statistic: float | None  # scipy's: min(R+, R−) for two-sided, else R+
    # Rank sums of positive and negative differences; a zero's rank (pratt, zsplit) is in neither.
    r_plus: float | None
    r_minus: float | None
    z: float | None  # only for the asymptotic method
    method: WilcoxonMethod | None
    n_ranked: int  # differences that entered the ranking
    has_ties: bool
    zero_method: ZeroMethod
    correction: bool  # continuity correction; only affects the asymptotic method
    alternative: Alternative
    reason: str | None

    @property
    def computable(self) -> bool:
        return self.p_value is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "test": "Wilcoxon signed-rank",
            "p_value": json_float(self.p_value),
            "statistic": json_float(self.statistic),
            "r_plus": json_float(self.r_plus),
            "r_minus": json_float(self.r_minus),
            "z": json_float(self.z),
            "method": self.method,
            "n_ranked": self.n_ranked,
            "has_ties": self.has_ties,
            "zero_method": self.zero_method,
            "correction": self.correction,
            "alternative": self.alternative,
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if not self.computable:
            return f"Wilcoxon signed-rank test not computable: {self.reason}"
        ties = ", ties present" if self.has_ties else ""
        return (
            f"Wilcoxon signed-rank ({self.method}, {self.alternative}, "
            f"zero_method={self.zero_method}, correction={self.correction}{ties}): "
            f"{p_phrase(self.p_value)}, n = {self.n_ranked}"
        )


@dataclass(frozen=True)
class SignTestResult:
    """Exact binomial sign test; zero differences are dropped."""

    p_value: float | None
    n_positive: int
    n_negative: int
    n_zero_dropped: int
    alternative: Alternative
    reason: str | None
    method: str = "exact binomial (scipy.stats.binomtest, p = 0.5), zero differences dropped"

    @property
    def computable(self) -> bool:
        return self.p_value is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "test": "sign test",
            "p_value": json_float(self.p_value),
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "n_zero_dropped": self.n_zero_dropped,
            "alternative": self.alternative,
            "method": self.method,
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if not self.computable:
            return f"Sign test not computable: {self.reason}"
        return (
            f"Sign test: {self.n_positive} up, {self.n_negative} down, "
            f"{self.n_zero_dropped} unchanged (dropped): {p_phrase(self.p_value)}"
        )


@dataclass(frozen=True)
class RankBiserialResult:
    """Matched-pairs rank-biserial correlation (Kerby 2014): (R+ − R−) / (R+ + R−).

    Ranks are average ranks of the non-zero |differences|.

    +1: every pair went up under therapy; −1: every pair went down.
    """

    r: float | None
    r_plus: float | None
    r_minus: float | None
    reason: str | None

    @property
    def computable(self) -> bool:
        return self.r is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "effect_size": "matched-pairs rank-biserial correlation (Kerby)",
            "r": json_float(self.r),
            "r_plus": json_float(self.r_plus),
            "r_minus": json_float(self.r_minus),
            "zeros": "dropped",
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> str:
        if not self.computable:
            return f"Rank-biserial correlation not computable: {self.reason}"
        return f"Rank-biserial correlation r = {fmt(self.r, 3)}"


@dataclass(frozen=True)
class PairedComparison:
    """Everything about one before/under comparison, as numbers."""

    counts: PairCounts
    differences: tuple[float, ...]  # under − before, complete pairs, input order
    median_before: float | None
    median_under: float | None
    median_difference: float | None
    wilcoxon: WilcoxonResult
    sign_test: SignTestResult
    hodges_lehmann: HodgesLehmannResult
    rank_biserial: RankBiserialResult
    direction: str = DIRECTION

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "direction": self.direction,
            "counts": self.counts.to_dict(),
            "differences": [float(d) for d in self.differences],
            "median_before": json_float(self.median_before),
            "median_under": json_float(self.median_under),
            "median_difference": json_float(self.median_difference),
            "wilcoxon": self.wilcoxon.to_dict(),
            "sign_test": self.sign_test.to_dict(),
            "hodges_lehmann": self.hodges_lehmann.to_dict(),
            "rank_biserial": self.rank_biserial.to_dict(),
        }

    def summary(self) -> list[str]:
        c = self.counts
        return [
            f"{c.n_complete} complete pairs of {c.n_given} ({c.n_incomplete} dropped: before or "
            f"under value missing); difference = {self.direction}",
            f"median before {fmt(self.median_before, 4)}, under {fmt(self.median_under, 4)}",
            self.wilcoxon.summary(),
            self.sign_test.summary(),
            self.hodges_lehmann.summary(),
            self.rank_biserial.summary(),
        ]


def complete_differences(
    pairs: Iterable[tuple[float | None, float | None]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Before, under and rounded differences of the complete pairs, and how many pairs dropped."""
    before: list[float] = []
    under: list[float] = []
    n_incomplete = 0
    for b, u in pairs:
        if is_missing(b) or is_missing(u) or b is None or u is None:
            n_incomplete += 1
            continue
        before.append(float(b))
        under.append(float(u))
    b_arr = np.asarray(before, dtype=float)
    u_arr = np.asarray(under, dtype=float)
    return b_arr, u_arr, np.round(u_arr - b_arr, DIFFERENCE_DECIMALS), n_incomplete


def _has_ties(values: np.ndarray) -> bool:
    return bool(np.unique(values).size < values.size)


def choose_wilcoxon_method(differences: np.ndarray, zero_method: ZeroMethod) -> WilcoxonMethod:
    """Exact (untied), exact tied permutation distribution, or normal approximation above 500.

    Under zero_method="wilcox" zeros are removed before ranking, so they do not spoil the untied
    distribution of the remaining differences; under "pratt"/"zsplit" they keep their ranks, so
    the remaining ranks are not 1..n and the tied distribution is used.
    """
    nonzero = differences[differences != 0]
    ranked = nonzero if zero_method == "wilcox" else differences
    zeros_ranked = zero_method != "wilcox" and nonzero.size < differences.size
    if ranked.size > EXACT_MAX_N:
        return "asymptotic"
    if not _has_ties(np.abs(ranked)) and not zeros_ranked:
        return "exact"
    return EXACT_TIED


def wilcoxon_signed_rank(
    differences: np.ndarray,
    *,
    zero_method: ZeroMethod = "wilcox",
    correction: bool = False,
    alternative: Alternative = "two-sided",
) -> WilcoxonResult:
    """Wilcoxon signed-rank test of the differences (under − before) against 0.

    Up to EXACT_MAX_N ranked differences the p-value is exact: the permutation distribution of
    the signs (every non-zero difference up or down with probability 1/2), with mid-ranks for
    ties and, under "pratt"/"zsplit", the zeros' ranks kept out of both sums. Without ties this
    is the classical exact distribution (as scipy.stats.wilcoxon(method="exact")). Above it,
    scipy's normal approximation with its tie correction.
    """
    nonzero = differences[differences != 0]
    n_ranked = int(nonzero.size if zero_method == "wilcox" else differences.size)
    ranked = nonzero if zero_method == "wilcox" else differences
    has_ties = _has_ties(np.abs(ranked))

    def not_computable(reason: str) -> WilcoxonResult:
        return WilcoxonResult(
            p_value=None,
            statistic=None,
            r_plus=None,
            r_minus=None,
            z=None,
            method=None,
            n_ranked=n_ranked,
            has_ties=has_ties,
            zero_method=zero_method,
            correction=correction,
            alternative=alternative,
            reason=reason,
        )

    if differences.size == 0:
        return not_computable("no complete pairs")
    if nonzero.size == 0:
        return not_computable("all differences are zero")
    if nonzero.size < MIN_NONZERO:
        return not_computable(
            f"needs at least {MIN_NONZERO} non-zero differences, got {nonzero.size}"
        )

    method = choose_wilcoxon_method(differences, zero_method)
    data = ranked
    doubled = doubled_ranks(np.abs(data))
    r_plus = float(doubled[data > 0].sum()) / 2.0
    r_minus = float(doubled[data < 0].sum()) / 2.0
    if method == "asymptotic":
        res = scipy.stats.wilcoxon(
            data,
            zero_method=zero_method,
            correction=correction,
            alternative=alternative,
            method="asymptotic",
        )
        z = getattr(res, "zstatistic", None)
        p_value, statistic = float(res.pvalue), float(res.statistic)
        z_value = float(z) if z is not None else None
    else:
        # The zeros' ranks (pratt, zsplit) are in neither sum and carry no sign.
        p_value = tied_signed_rank_p(doubled[data != 0], int(doubled[data > 0].sum()), alternative)
        half_zero = float(doubled[data == 0].sum()) / 4.0 if zero_method == "zsplit" else 0.0
        plus, minus = r_plus + half_zero, r_minus + half_zero
        statistic = min(plus, minus) if alternative == "two-sided" else plus
        z_value = None
    return WilcoxonResult(
        p_value=p_value,
        statistic=statistic,
        r_plus=r_plus,
        r_minus=r_minus,
        z=z_value,
        method=method,
        n_ranked=n_ranked,
        has_ties=has_ties,
        zero_method=zero_method,
        correction=correction,
        alternative=alternative,
        reason=None,
    )


def sign_test(differences: np.ndarray, *, alternative: Alternative = "two-sided") -> SignTestResult:
    """Exact sign test: under H0 an up and a down move are equally likely; zeros carry no sign."""
    n_pos = int((differences > 0).sum())
    n_neg = int((differences < 0).sum())
    n_zero = int(differences.size - n_pos - n_neg)
    n_signed = n_pos + n_neg
    if n_signed < MIN_NONZERO:
        reason = (
            "no complete pairs"
            if differences.size == 0
            else "all differences are zero"
            if n_signed == 0
            else f"needs at least {MIN_NONZERO} non-zero differences, got {n_signed}"
        )
        return SignTestResult(
            p_value=None,
            n_positive=n_pos,
            n_negative=n_neg,
            n_zero_dropped=n_zero,
            alternative=alternative,
            reason=reason,
        )
    res = scipy.stats.binomtest(n_pos, n_signed, p=0.5, alternative=alternative)
    return SignTestResult(
        p_value=float(res.pvalue),
        n_positive=n_pos,
        n_negative=n_neg,
        n_zero_dropped=n_zero,
        alternative=alternative,
        reason=None,
    )


def rank_biserial(differences: np.ndarray) -> RankBiserialResult:
    """Kerby's simple difference formula on the average ranks of the non-zero |differences|."""
    nonzero = differences[differences != 0]
    if nonzero.size < MIN_NONZERO:
        # One pair always gives r = ±1: a sign, not an effect size.
        reason = (
            "no complete pairs"
            if differences.size == 0
            else "all differences are zero"
            if nonzero.size == 0
            else f"needs at least {MIN_NONZERO} non-zero differences, got {nonzero.size}"
        )
        return RankBiserialResult(r=None, r_plus=None, r_minus=None, reason=reason)
    ranks = scipy.stats.rankdata(np.abs(nonzero))
    r_plus = float(ranks[nonzero > 0].sum())
    r_minus = float(ranks[nonzero < 0].sum())
    return RankBiserialResult(
        r=(r_plus - r_minus) / (r_plus + r_minus), r_plus=r_plus, r_minus=r_minus, reason=None
    )


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


def compare_paired(
    pairs: Iterable[tuple[float | None, float | None]],
    *,
    zero_method: ZeroMethod = "wilcox",
    correction: bool = False,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
) -> PairedComparison:
    """Compare (before, under) pairs; pairs with a missing side are dropped and counted.

    Defaults follow scipy.stats.wilcoxon: zero_method="wilcox" (zero differences dropped before
    ranking), no continuity correction, two-sided.
    """
    pair_list = list(pairs)
    before, under, differences, n_incomplete = complete_differences(pair_list)
    counts = PairCounts(
        n_given=len(pair_list),
        n_incomplete=n_incomplete,
        n_complete=int(differences.size),
        n_zero=int((differences == 0).sum()),
        n_positive=int((differences > 0).sum()),
        n_negative=int((differences < 0).sum()),
    )
    return PairedComparison(
        counts=counts,
        differences=tuple(float(d) for d in differences),
        median_before=_median(before),
        median_under=_median(under),
        median_difference=_median(differences),
        wilcoxon=wilcoxon_signed_rank(
            differences, zero_method=zero_method, correction=correction, alternative=alternative
        ),
        sign_test=sign_test(differences, alternative=alternative),
        hodges_lehmann=hodges_lehmann(differences, confidence_level),
        rank_biserial=rank_biserial(differences),
    )
