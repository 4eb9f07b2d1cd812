"""Two-group comparisons (cohort against literature): Fisher's exact test and Mann–Whitney U."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats

from jakreg.stats._common import (
    JSONValue,
    StatsInputError,
    fmt,
    json_float,
    p_phrase,
    split_missing,
)

SMALL_N = 5  # the usual threshold below which a group or an expected cell count warrants a caution
# Exact r×c enumeration visits every table with the observed margins; past this many we hand over to
# scipy's Monte Carlo test with a fixed seed rather than hang.
MAX_ENUMERATED_TABLES = 200_000
MONTE_CARLO_RESAMPLES = 100_000
MONTE_CARLO_SEED = 20220430
# Tables whose probability is within this relative tolerance of the observed one count as "as
# extreme"; without it floating-point noise decides ties between equally probable tables.
RELATIVE_TOLERANCE = 1e-7
# Exhaustive permutation for Mann–Whitney with ties costs C(n1 + n2, n1) statistic evaluations.
MWU_MAX_PERMUTATIONS = 20_000
# The exact distribution without ties only while both groups have fewer values than this, as R's
# wilcox.test does; scipy's exact algorithm grows steeply (5,000 vs 40 values: ~15 s; 20,000: minutes).
MWU_EXACT_MAX_N = 50

FisherMethod = Literal["exact-2x2", "exact-enumeration", "monte-carlo"]
MWUMethod = Literal["exact", "exact-permutation", "asymptotic"]
Alternative = Literal["two-sided", "less", "greater"]


@dataclass(frozen=True)
class FisherExactResult:
    """Fisher's exact test on a contingency table, with the counts it was run on."""

    table: tuple[tuple[int, ...], ...]
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    row_totals: tuple[int, ...]
    column_totals: tuple[int, ...]
    n: int
    expected: tuple[tuple[float, ...], ...]
    p_value: float | None
    method: FisherMethod | None
    # 2×2 only: the sample odds ratio (a·d)/(b·c) that scipy reports; may be inf or 0.
    odds_ratio: float | None
    conditional_odds_ratio: float | None  # 2×2 only: conditional MLE (as R's fisher.test reports)
    conditional_odds_ratio_ci: tuple[float, float] | None  # exact 95% CI of the conditional MLE
    monte_carlo_resamples: int | None
    monte_carlo_seed: int | None
    small_numbers: bool
    cautions: tuple[str, ...]
    reason: str | None
    alternative: str = "two-sided"

    @property
    def computable(self) -> bool:
        return self.p_value is not None

    def to_dict(self) -> dict[str, JSONValue]:
        ci = self.conditional_odds_ratio_ci
        return {
            "test": "Fisher's exact test",
            "table": [list(row) for row in self.table],
            "row_labels": list(self.row_labels),
            "column_labels": list(self.column_labels),
            "row_totals": list(self.row_totals),
            "column_totals": list(self.column_totals),
            "n": self.n,
            "expected": [[json_float(e) for e in row] for row in self.expected],
            "p_value": json_float(self.p_value),
            "method": self.method,
            "alternative": self.alternative,
            "odds_ratio": json_float(self.odds_ratio),
            "odds_ratio_infinite": self.odds_ratio is not None and math.isinf(self.odds_ratio),
            "conditional_odds_ratio": json_float(self.conditional_odds_ratio),
            "conditional_odds_ratio_ci": [json_float(ci[0]), json_float(ci[1])] if ci else None,
            "monte_carlo_resamples": self.monte_carlo_resamples,
            "monte_carlo_seed": self.monte_carlo_seed,
            "small_numbers": self.small_numbers,
            "cautions": list(self.cautions),
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> list[str]:
        header = ["", *self.column_labels, "total"]
        rows = [" | ".join(header)]
        for label, row, total in zip(self.row_labels, self.table, self.row_totals, strict=True):
            rows.append(" | ".join([label, *(str(c) for c in row), str(total)]))
        rows.append(" | ".join(["total", *(str(t) for t in self.column_totals), str(self.n)]))
        if self.computable:
            rows.append(f"Fisher's exact test ({self.method}, two-sided): {p_phrase(self.p_value)}")
        else:
            rows.append(f"Fisher's exact test not computable: {self.reason}")
        rows.extend(f"caution: {c}" for c in self.cautions)
        return rows


def _log_table_probability(table: Sequence[Sequence[int]], log_margins: float) -> float:
    return log_margins - sum(math.lgamma(c + 1) for row in table for c in row)


def _tables_with_margins(
    row_totals: Sequence[int], column_totals: Sequence[int]
) -> Iterator[list[list[int]]]:
    """Every non-negative integer table with these margins (row by row, cell by cell)."""
    n_cols = len(column_totals)

    def rows_for(total: int, capacity: list[int], col: int) -> Iterator[list[int]]:
        if col == n_cols - 1:
            if total <= capacity[col]:
                yield [total]
            return
        room_after = sum(capacity[col + 1 :])
        for cell in range(max(0, total - room_after), min(total, capacity[col]) + 1):
            for rest in rows_for(total - cell, capacity, col + 1):
                yield [cell, *rest]

    def fill(row: int, capacity: list[int]) -> Iterator[list[list[int]]]:
        if row == len(row_totals) - 1:
            # The last row is forced by the column totals.
            yield [list(capacity)]
            return
        for cells in rows_for(row_totals[row], capacity, 0):
            remaining = [cap - cell for cap, cell in zip(capacity, cells, strict=True)]
            for rest in fill(row + 1, remaining):
                yield [cells, *rest]

    yield from fill(0, list(column_totals))


def exact_rxc_p_value(table: Sequence[Sequence[int]], max_tables: int) -> float | None:
    """Two-sided Fisher–Freeman–Halton p: probability of the tables no more probable than observed.

    Returns None when there are more than `max_tables` tables to enumerate.
    """
    row_totals = [sum(row) for row in table]
    column_totals = [sum(col) for col in zip(*table, strict=True)]
    n = sum(row_totals)
    log_margins = (
        sum(math.lgamma(t + 1) for t in row_totals)
        + sum(math.lgamma(t + 1) for t in column_totals)
        - math.lgamma(n + 1)
    )
    observed = _log_table_probability(table, log_margins)
    threshold = observed + math.log1p(RELATIVE_TOLERANCE)
    p = 0.0
    for visited, candidate in enumerate(_tables_with_margins(row_totals, column_totals), 1):
        if visited > max_tables:
            return None
        log_p = _log_table_probability(candidate, log_margins)
        if log_p <= threshold:
            p += math.exp(log_p)
    return min(p, 1.0)


def _cautions(
    row_labels: Sequence[str], row_totals: Sequence[int], expected: np.ndarray
) -> tuple[str, ...]:
    cautions = [
        f"group '{label}' has n = {total} (< {SMALL_N})"
        for label, total in zip(row_labels, row_totals, strict=True)
        if total < SMALL_N
    ]
    n_small = int((expected < SMALL_N).sum())
    if n_small:
        cautions.append(
            f"{n_small} of {expected.size} cells have an expected count < {SMALL_N} "
            f"(smallest {expected.min():.3g})"
        )
    return tuple(cautions)


def fisher_exact_test(
    table: Sequence[Sequence[int]],
    *,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    max_tables: int = MAX_ENUMERATED_TABLES,
    seed: int = MONTE_CARLO_SEED,
) -> FisherExactResult:
    """Two-sided Fisher's exact test. Rows are the groups, columns the outcomes.

    2×2: scipy.stats.fisher_exact (hypergeometric; two-sided = tables no more probable than the
    observed one). r×c: every table with the observed margins is enumerated (Fisher–Freeman–Halton,
    same two-sided rule); if there are more than `max_tables` of them, scipy.stats.fisher_exact with
    a seeded MonteCarloMethod is used and the result says so.
    """
    rows = [list(r) for r in table]
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise StatsInputError("a contingency table needs rows of equal, non-zero length")
    if any(not isinstance(c, int | np.integer) or c < 0 for r in rows for c in r):
        raise StatsInputError("contingency table cells must be non-negative integers")
    n_rows, n_cols = len(rows), len(rows[0])
    r_labels = tuple(row_labels) if row_labels else tuple(f"row {i + 1}" for i in range(n_rows))
    c_labels = (
        tuple(column_labels) if column_labels else tuple(f"column {j + 1}" for j in range(n_cols))
    )
    if len(r_labels) != n_rows or len(c_labels) != n_cols:
        raise StatsInputError("there must be one label per row and one per column")
    counts = np.asarray(rows, dtype=np.int64)
    row_totals = tuple(int(t) for t in counts.sum(axis=1))
    column_totals = tuple(int(t) for t in counts.sum(axis=0))
    n = int(counts.sum())
    expected = np.outer(row_totals, column_totals) / n if n else np.zeros(counts.shape, dtype=float)
    cautions = _cautions(r_labels, row_totals, expected) if n else ()
    frozen_table = tuple(tuple(int(c) for c in r) for r in counts)
    frozen_expected = tuple(tuple(float(e) for e in r) for r in expected)

    def make(
        p_value: float | None,
        method: FisherMethod | None,
        *,
        odds_ratio: float | None = None,
        conditional_odds_ratio: float | None = None,
        conditional_odds_ratio_ci: tuple[float, float] | None = None,
        monte_carlo_resamples: int | None = None,
        monte_carlo_seed: int | None = None,
        reason: str | None = None,
    ) -> FisherExactResult:
        return FisherExactResult(
            table=frozen_table,
            row_labels=r_labels,
            column_labels=c_labels,
            row_totals=row_totals,
            column_totals=column_totals,
            n=n,
            expected=frozen_expected,
            p_value=p_value,
            method=method,
            odds_ratio=odds_ratio,
            conditional_odds_ratio=conditional_odds_ratio,
            conditional_odds_ratio_ci=conditional_odds_ratio_ci,
            monte_carlo_resamples=monte_carlo_resamples,
            monte_carlo_seed=monte_carlo_seed,
            small_numbers=bool(cautions),
            cautions=cautions,
            reason=reason,
        )

    nonempty_rows = sum(1 for t in row_totals if t)
    nonempty_cols = sum(1 for t in column_totals if t)
    reason = None
    if n == 0:
        reason = "the table is empty"
    elif nonempty_rows < 2 or nonempty_cols < 2:
        reason = "fewer than two non-empty rows or columns: nothing to compare"
    if reason is not None:
        return make(None, None, reason=reason)
    if counts.shape == (2, 2):
        res = scipy.stats.fisher_exact(counts, alternative="two-sided")
        conditional = scipy.stats.contingency.odds_ratio(counts, kind="conditional")
        ci = conditional.confidence_interval(confidence_level=0.95)
        return make(
            float(res.pvalue),
            "exact-2x2",
            odds_ratio=float(res.statistic),
            conditional_odds_ratio=float(conditional.statistic),
            conditional_odds_ratio_ci=(float(ci.low), float(ci.high)),
        )
    p = exact_rxc_p_value(frozen_table, max_tables)
    if p is not None:
        return make(p, "exact-enumeration")
    mc = scipy.stats.MonteCarloMethod(
        n_resamples=MONTE_CARLO_RESAMPLES, rng=np.random.default_rng(seed)
    )
    p = float(scipy.stats.fisher_exact(counts, method=mc).pvalue)
    return make(
        p, "monte-carlo", monte_carlo_resamples=MONTE_CARLO_RESAMPLES, monte_carlo_seed=seed
    )


@dataclass(frozen=True)
class MannWhitneyResult:
    """Mann–Whitney U test of two independent groups, with the variant scipy actually ran."""

    labels: tuple[str, str]
    n: tuple[int, int]
    n_missing: tuple[int, int]
    medians: tuple[float | None, float | None]
    u_statistic: float | None  # U of the first group: pairs where it is larger, ties counting 1/2
    p_value: float | None
    method: MWUMethod | None
    use_continuity: bool  # only affects the asymptotic method
    alternative: Alternative
    has_ties: bool
    rank_biserial: float | None  # 2U/(n1·n2) − 1: +1 when every first-group value is larger
    small_numbers: bool
    cautions: tuple[str, ...]
    reason: str | None

    @property
    def computable(self) -> bool:
        return self.p_value is not None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "test": "Mann–Whitney U",
            "labels": list(self.labels),
            "n": list(self.n),
            "n_missing": list(self.n_missing),
            "medians": [json_float(m) for m in self.medians],
            "u_statistic": json_float(self.u_statistic),
            "p_value": json_float(self.p_value),
            "method": self.method,
            "use_continuity": self.use_continuity,
            "alternative": self.alternative,
            "has_ties": self.has_ties,
            "rank_biserial": json_float(self.rank_biserial),
            "small_numbers": self.small_numbers,
            "cautions": list(self.cautions),
            "computable": self.computable,
            "reason": self.reason,
        }

    def summary(self) -> list[str]:
        rows = [
            f"{label}: n = {n}, median {fmt(median, 4)}"
            for label, n, median in zip(self.labels, self.n, self.medians, strict=True)
        ]
        if self.computable:
            rows.append(
                f"Mann–Whitney U ({self.method}, {self.alternative}): "
                f"U = {fmt(self.u_statistic, 4)}, {p_phrase(self.p_value)}, "
                f"rank-biserial r = {fmt(self.rank_biserial, 3)}"
            )
        else:
            rows.append(f"Mann–Whitney U not computable: {self.reason}")
        rows.extend(f"caution: {c}" for c in self.cautions)
        return rows


def _u(x: np.ndarray, y: np.ndarray) -> float:
    return float((x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum())


def _singleton_permutation(
    x: np.ndarray, y: np.ndarray, alternative: Alternative
) -> tuple[float, float]:
    """U of the first group and its exact permutation p-value when one group has one value."""
    pooled = np.concatenate([x, y])
    observed = _u(x, y)
    stats = []
    for pick in itertools.combinations(range(pooled.size), x.size):
        mask = np.zeros(pooled.size, dtype=bool)
        mask[list(pick)] = True
        stats.append(_u(pooled[mask], pooled[~mask]))
    arr = np.asarray(stats)
    eps = 1e-9 * max(1.0, abs(observed))
    greater = float((arr >= observed - eps).mean())
    less = float((arr <= observed + eps).mean())
    if alternative == "greater":
        return observed, greater
    if alternative == "less":
        return observed, less
    return observed, min(1.0, 2.0 * min(greater, less))


def mann_whitney(
    first: Iterable[float | None],
    second: Iterable[float | None],
    *,
    labels: tuple[str, str] = ("group 1", "group 2"),
    alternative: Alternative = "two-sided",
    use_continuity: bool = True,
) -> MannWhitneyResult:
    """Mann–Whitney U: exact without ties while both groups have < 50 values (R's rule); with ties,
    full permutation when there are few arrangements; else the normal approximation."""
    a, a_missing = split_missing(first)
    b, b_missing = split_missing(second)
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pooled = np.concatenate([x, y])
    has_ties = bool(np.unique(pooled).size < pooled.size)
    cautions = tuple(
        f"group '{label}' has n = {size} (< {SMALL_N})"
        for label, size in zip(labels, (x.size, y.size), strict=True)
        if size < SMALL_N
    )

    def make(
        p_value: float | None,
        method: MWUMethod | None,
        u_statistic: float | None = None,
        reason: str | None = None,
    ) -> MannWhitneyResult:
        return MannWhitneyResult(
            labels=labels,
            n=(int(x.size), int(y.size)),
            n_missing=(a_missing, b_missing),
            medians=(
                float(np.median(x)) if x.size else None,
                float(np.median(y)) if y.size else None,
            ),
            u_statistic=u_statistic,
            p_value=p_value,
            method=method,
            use_continuity=use_continuity,
            alternative=alternative,
            has_ties=has_ties,
            rank_biserial=(
                2.0 * u_statistic / (x.size * y.size) - 1.0 if u_statistic is not None else None
            ),
            small_numbers=bool(cautions),
            cautions=cautions,
            reason=reason,
        )

    if x.size == 0 or y.size == 0:
        empty = labels[0] if x.size == 0 else labels[1]
        return make(None, None, reason=f"group '{empty}' has no recorded values")
    if np.unique(pooled).size == 1:
        return make(None, None, reason="all values are equal")
    method: MWUMethod
    scipy_method: str | scipy.stats.PermutationMethod
    n_arrangements = math.comb(x.size + y.size, x.size) if has_ties else None
    if not has_ties and max(x.size, y.size) < MWU_EXACT_MAX_N:
        method = scipy_method = "exact"
    elif n_arrangements is not None and min(x.size, y.size) == 1:
        # scipy's permutation test needs two values per group; a group of one has only
        # n + 1 arrangements, enumerated here with scipy's definition of the p-value.
        u_obs, p_value = _singleton_permutation(x, y, alternative)
        return make(p_value, "exact-permutation", u_statistic=u_obs)
    elif n_arrangements is not None and n_arrangements <= MWU_MAX_PERMUTATIONS:
        method = "exact-permutation"
        scipy_method = scipy.stats.PermutationMethod(n_resamples=n_arrangements)
    else:
        method = scipy_method = "asymptotic"
    res = scipy.stats.mannwhitneyu(
        x, y, use_continuity=use_continuity, alternative=alternative, method=scipy_method
    )
    return make(float(res.pvalue), method, u_statistic=float(res.statistic))
