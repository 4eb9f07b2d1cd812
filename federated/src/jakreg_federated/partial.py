"""Node-side partial functions: aggregates only, disclosure control applied here, at the node.

Every function returns a dict of aggregates. A count between 1 and min_cell - 1 never leaves the
node: it comes back as {"suppressed": True, "reason": ...}. No per-patient row is ever returned.
An unreadable extract comes back as {"error": ...} with the node's own message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pandas as pd
from scipy.stats import rankdata
from vantage6.algorithm.tools.decorators import data

from jakreg_federated.reader import ExtractError, check_extract, records

MIN_CELL_ENV = "JAKREG_FEDERATED_MIN_CELL"
DEFAULT_MIN_CELL = 3
BIN_DAYS = 30


def node_min_cell(requested: int | None = None) -> int:
    """The node's minimum cell count: the node's setting (env var, default 3); a researcher may ask
    for a larger one, never a smaller one."""
    raw = os.environ.get(MIN_CELL_ENV, str(DEFAULT_MIN_CELL))
    try:
        node = int(raw)
    except ValueError:
        raise ExtractError(f"{MIN_CELL_ENV}={raw!r} is not a whole number") from None
    if node < 1:
        raise ExtractError(f"{MIN_CELL_ENV}={node} must be at least 1")
    return max(node, int(requested or 0))


def cell(count: int, min_cell: int, what: str) -> dict[str, Any]:
    """One count after disclosure control: shown, or refused with its reason."""
    count = int(count)
    if 0 < count < min_cell:
        return {
            "suppressed": True,
            "reason": f"{what}: count below the node's minimum cell count {min_cell}",
        }
    return {"suppressed": False, "value": count}


def _guard(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def run(df: pd.DataFrame, min_cell: int | None = None, **kw: Any) -> dict[str, Any]:
        try:
            m = node_min_cell(min_cell)
            out = fn(check_extract(df), m, **kw)
        except KeyError as e:
            return {
                "error": f"the node's extract has no column {e}: write it again with "
                "jakreg export --format federated"
            }
        except (ExtractError, ValueError, TypeError) as e:
            return {"error": str(e)}
        out["min_cell"] = m
        return out

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _counts(df: pd.DataFrame, m: int) -> dict[str, Any]:
    """Patients, courses and the latest recorded global response of the first course."""
    resp = records(df, "response")["response"].fillna("").astype(str)
    out = {
        "patients": cell(records(df, "patient")["patient_key"].nunique(), m, "patients"),
        "courses": cell(len(records(df, "course")), m, "courses"),
        "response": {
            k: cell(int((resp == k).sum()), m, f"response {k}") for k in ("CR", "PR", "NR", "NE")
        },
    }
    return out


def _adverse_events(df: pd.DataFrame, m: int) -> dict[str, Any]:
    """Adverse event count and exposure (patient-years on drug, all courses)."""
    days = pd.to_numeric(records(df, "course")["days_on_drug"], errors="raise").clip(lower=0)
    events = len(records(df, "adverse_event"))
    return {
        "events": cell(events, m, "adverse events"),
        "exposure_patient_years": float(days.sum()) / 365.25,
    }


def binned(days: float, bin_days: int = BIN_DAYS) -> int:
    """Days on drug rounded up to the next multiple of `bin_days` (the federated KM's bins)."""
    return int(-(-int(days) // bin_days) * bin_days)


def check_bin_days(bin_days: Any) -> int:
    if isinstance(bin_days, bool) or not isinstance(bin_days, int) or bin_days < 1:
        raise ValueError(f"bin_days must be a whole number of days ≥ 1, not {bin_days!r}")
    return bin_days


def check_horizon(horizon_days: Any, bin_days: int) -> int | None:
    """The horizon rounded up to its bin's end, or None (no horizon)."""
    if horizon_days is None:
        return None
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(f"horizon_days must be a whole number of days ≥ 1, not {horizon_days!r}")
    return binned(horizon_days, bin_days)


def _km(
    df: pd.DataFrame, m: int, bin_days: int = BIN_DAYS, horizon_days: int | None = None
) -> dict[str, Any]:
    """Per bin of `bin_days` days: drug-survival events and censorings of the first course
    (days > 0; a time is rounded up to the bin's end). With `horizon_days`, a course still on
    drug or stopped after the horizon's bin counts as censored at that bin: the sparse tail is
    pooled into one cell, and the estimate up to the horizon is unchanged.

    The at-risk count at a bin follows from these at the centre. Refused as a whole if any
    nonzero cell is below the minimum cell count (a partial table would bias the estimate);
    wider bins make larger cells."""
    bin_days = check_bin_days(bin_days)
    horizon = check_horizon(horizon_days, bin_days)
    c = records(df, "course")
    c = c[pd.to_numeric(c["course_no"]) == 1]
    days = pd.to_numeric(c["days_on_drug"])
    stopped = pd.to_numeric(c["stopped"]).fillna(0).astype(int)
    keep = days > 0
    bins: dict[int, list[int]] = {}
    for d, e in zip(days[keep], stopped[keep], strict=True):
        t = binned(d, bin_days)
        if horizon is not None and t > horizon:
            t, e = horizon, 0
        b = bins.setdefault(t, [0, 0])
        b[0 if e else 1] += 1
    table = [{"time": t, "events": v[0], "censored": v[1]} for t, v in sorted(bins.items())]
    small = [r["time"] for r in table for k in ("events", "censored") if 0 < r[k] < m]
    if small:
        return {
            "suppressed": True,
            "reason": f"drug-survival table: {len(small)} cell(s) below the node's minimum "
            f"cell count {m} (first at day {small[0]})",
        }
    return {"suppressed": False, "bin_days": bin_days, "horizon_days": horizon, "table": table}


def _idda(df: pd.DataFrame, m: int) -> dict[str, Any]:
    """Sign-test counts and the within-site signed-rank statistic of under - before."""
    i = records(df, "idda")
    d = pd.to_numeric(i["under"]) - pd.to_numeric(i["before"])
    d = d.round(6)  # the extract's scores carry 1 decimal; float noise must not split ties
    pos, neg, zero = int((d > 0).sum()), int((d < 0).sum()), int((d == 0).sum())
    out: dict[str, Any] = {
        "positive": cell(pos, m, "positive differences"),
        "negative": cell(neg, m, "negative differences"),
        "zero": cell(zero, m, "zero differences"),
    }
    nz = d[d != 0]
    n = len(nz)
    if 0 < n < m:
        out["signed_rank"] = cell(n, m, "nonzero differences")
    else:
        ranks = rankdata(nz.abs())
        ties = pd.Series(ranks).value_counts().to_numpy()
        tie_term = float(sum(t**3 - t for t in ties)) / 48.0
        out["signed_rank"] = {
            "suppressed": False,
            "n": n,
            "w_plus": float(ranks[(nz > 0).to_numpy()].sum()),
            "mean": n * (n + 1) / 4.0,
            "variance": n * (n + 1) * (2 * n + 1) / 24.0 - tie_term,
        }
    return out


partial_counts = data(1)(_guard(_counts))
partial_adverse_events = data(1)(_guard(_adverse_events))
partial_km = data(1)(_guard(_km))
partial_idda = data(1)(_guard(_idda))
