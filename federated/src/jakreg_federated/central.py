"""Central function: creates the partial tasks at every node and combines the aggregates."""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import binomtest, chi2, norm
from vantage6.algorithm.tools.decorators import algorithm_client

from jakreg_federated.partial import BIN_DAYS, check_bin_days, check_horizon

PARTIALS = ("partial_counts", "partial_adverse_events", "partial_km", "partial_idda")

WILCOXON_NOTE = (
    "A pooled Wilcoxon signed-rank test ranks every patient's |difference| against every other "
    "centre's: the ranks need the differences themselves, which do not leave a node. The "
    "stratified statistic ranks within each site and sums the sites' W+ with van Elteren "
    "weights, so it needs only each site's n, W+, its null mean and variance; it is a different "
    "test from the pooled one (it tests the same null: no shift, in every site)."
)


def _run(client: Any, method: str, org: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    task = client.task.create(input_={"method": method, "kwargs": kwargs}, organizations=[org])
    results = client.wait_for_results(task_id=task.get("id"))
    if not results or not isinstance(results[0], dict):
        return {"error": "no result returned by the node"}
    return results[0]


def _node_name(client: Any, org: int) -> str:
    try:
        name = client.organization.get(org).get("name")
    except Exception:
        name = None
    return f"{name} (organization {org})" if name else f"organization {org}"


def _sum_cells(parts: dict[str, dict[str, Any]], get: Any) -> dict[str, Any]:
    total, refused = 0, []
    for node, p in parts.items():
        c = get(p)
        if c.get("suppressed"):
            refused.append({"node": node, "reason": c["reason"]})
        else:
            total += c["value"]
    return {"value": total, "complete": not refused, "refused": refused}


def proportion(k: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"k": k, "n": n, "proportion": None, "ci_lower": None, "ci_upper": None}
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return {"k": k, "n": n, "proportion": k / n, "ci_lower": ci.low, "ci_upper": ci.high}


def poisson_rate(events: int, years: float, per: float = 100.0) -> dict[str, Any]:
    """Rate per `per` patient-years, exact Poisson (Garwood) 95% CI from chi-square quantiles."""
    lo = 0.0 if events == 0 else chi2.ppf(0.025, 2 * events) / 2
    hi = chi2.ppf(0.975, 2 * events + 2) / 2
    f = per / years if years > 0 else math.nan
    return {
        "events": events,
        "patient_years": years,
        "rate_per_100py": events * f,
        "ci_lower": lo * f,
        "ci_upper": hi * f,
        "method": "events / patient-years x 100; exact Poisson 95% CI (Garwood, chi-square)",
    }


def km_from_tables(tables: list[list[dict[str, int]]]) -> dict[str, Any]:
    """Product-limit estimate over the bins from summed per-node event/censor counts."""
    ev: dict[int, int] = {}
    ce: dict[int, int] = {}
    for t in tables:
        for r in t:
            ev[r["time"]] = ev.get(r["time"], 0) + r["events"]
            ce[r["time"]] = ce.get(r["time"], 0) + r["censored"]
    times = sorted(set(ev) | set(ce))
    at_risk = sum(ev.values()) + sum(ce.values())
    s, steps = 1.0, []
    for t in times:
        if ev[t]:
            s *= 1 - ev[t] / at_risk
        steps.append({"time": t, "at_risk": at_risk, "events": ev[t], "estimate": s})
        at_risk -= ev[t] + ce[t]
    return {"n": sum(ev.values()) + sum(ce.values()), "events": sum(ev.values()), "steps": steps}


def van_elteren(sites: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine per-site signed-rank statistics with van Elteren weights w_i = 1 / (n_i + 1).

    Each site gives its W+_i (sum of within-site ranks of the positive differences), n_i, and
    W+_i's exact null mean n_i(n_i + 1)/4 and tie-corrected variance. Under H0 the sites are
    independent, so T = sum w_i W+_i has mean sum w_i E[W+_i] and variance sum w_i^2 var(W+_i).
    Dividing by n_i + 1 puts every site's ranks on (0, 1): each patient weighs about the same
    whatever the size of the site (an unweighted sum would weigh a site by n_i^2)."""
    t = mu = var = 0.0
    for s in sites:
        w = 1.0 / (s["n"] + 1)
        t += w * s["w_plus"]
        mu += w * s["mean"]
        var += w * w * s["variance"]
    z = (t - mu) / math.sqrt(var) if var > 0 else None
    return {
        "statistic": t,
        "mean": mu,
        "variance": var,
        "z": z,
        "weights": "1 / (n_i + 1) (van Elteren)",
        "n": sum(int(s["n"]) for s in sites),
    }


def km_at(km: dict[str, Any], t: float) -> float:
    s = 1.0
    for st in km["steps"]:
        if st["time"] <= t:
            s = st["estimate"]
    return s


def kwargs_of(min_cell: int | None) -> dict[str, Any]:
    return {} if min_cell is None else {"min_cell": min_cell}


@algorithm_client
def central(
    client: Any,
    organizations: list[int] | None = None,
    min_cell: int | None = None,
    bin_days: int = BIN_DAYS,
    horizon_days: int | None = None,
) -> dict[str, Any]:
    """The federated analysis: partials at every node, combined here. `bin_days`: the width of the
    drug-survival bins (days; wider bins make larger cells, so fewer refusals); `horizon_days`:
    courses beyond it count as censored at its bin (the estimate up to it is unchanged)."""
    bin_days = check_bin_days(bin_days)
    horizon = check_horizon(horizon_days, bin_days)
    km_kw = {**kwargs_of(min_cell), "bin_days": bin_days, "horizon_days": horizon_days}
    orgs = organizations or [o["id"] for o in client.organization.list()]
    per = dict.fromkeys(PARTIALS, kwargs_of(min_cell)) | {"partial_km": km_kw}
    names = {o: _node_name(client, o) for o in orgs}
    raw = {m: {names[o]: _run(client, m, o, per[m]) for o in orgs} for m in PARTIALS}
    failures = sorted({(n, p["error"]) for m in raw.values() for n, p in m.items() if "error" in p})
    failed = {n for n, _ in failures}
    ok = {m: {n: p for n, p in v.items() if n not in failed} for m, v in raw.items()}
    out: dict[str, Any] = {
        "federated": True,
        "nodes": [names[o] for o in orgs],
        "node_failures": [{"node": n, "error": e} for n, e in failures],
        "min_cell": {n: p.get("min_cell") for n, p in ok["partial_counts"].items()},
        "contributions": {m: ok[m] for m in PARTIALS},
    }
    cnt = ok["partial_counts"]
    patients = _sum_cells(cnt, lambda p: p["patients"])
    out["patients"] = patients
    out["courses"] = _sum_cells(cnt, lambda p: p["courses"])
    resp = {k: _sum_cells(cnt, lambda p, k=k: p["response"][k]) for k in ("CR", "PR", "NR", "NE")}
    out["response"] = {
        k: {**v, **proportion(v["value"], patients["value"])} for k, v in resp.items()
    }
    out["response_method"] = (
        "sum of per-node counts; proportion of patients with exact Clopper-Pearson 95% CI "
        "(scipy.stats.binomtest); incomplete when a node refused a cell"
    )
    ae = ok["partial_adverse_events"]
    ev = _sum_cells(ae, lambda p: p["events"])
    years = sum(p["exposure_patient_years"] for p in ae.values())
    out["adverse_event_rate"] = {
        **poisson_rate(ev["value"], years),
        **{k: ev[k] for k in ("complete", "refused")},
    }
    kmp = ok["partial_km"]
    km_refused = [{"node": n, "reason": p["reason"]} for n, p in kmp.items() if p.get("suppressed")]
    km = km_from_tables([p["table"] for p in kmp.values() if not p.get("suppressed")])
    out["kaplan_meier"] = {
        **km,
        "bin_days": bin_days,
        "horizon_days": horizon,
        "complete": not km_refused,
        "refused": km_refused,
        "method": f"product-limit over {bin_days}-day bins of the first course's days on drug (a "
        "time rounded up to its bin's end) from summed per-node event and censoring counts: "
        "identical to the pooled KM on the same binned times"
        + (
            f"; courses beyond day {horizon} counted as censored at day {horizon}, so the "
            f"estimate holds up to day {horizon} only"
            if horizon is not None
            else ""
        ),
    }
    idd = ok["partial_idda"]
    pos = _sum_cells(idd, lambda p: p["positive"])
    neg = _sum_cells(idd, lambda p: p["negative"])
    zero = _sum_cells(idd, lambda p: p["zero"])
    n_sign = pos["value"] + neg["value"]
    out["sign_test"] = {
        "n_positive": pos["value"],
        "n_negative": neg["value"],
        "n_zero_dropped": zero["value"],
        "p_value": binomtest(pos["value"], n_sign, 0.5).pvalue if n_sign else None,
        "complete": pos["complete"] and neg["complete"],
        "refused": pos["refused"] + neg["refused"],
        "method": "exact binomial sign test of under - before (scipy.stats.binomtest, p = 0.5) "
        "from summed per-node counts, zero differences dropped: equals the pooled sign test",
    }
    sr = {n: p["signed_rank"] for n, p in idd.items()}
    used = [s for s in sr.values() if not s.get("suppressed") and s["n"] > 0]
    comb = van_elteren(used)
    z = comb["z"]
    out["stratified_signed_rank"] = {
        **comb,
        "p_value": 2 * norm.sf(abs(z)) if z is not None else None,
        "sites": dict(sr.items()),
        "refused": [
            {"node": n, "reason": s["reason"]} for n, s in sr.items() if s.get("suppressed")
        ],
        "method": "site-stratified Wilcoxon signed-rank with van Elteren weights: within each "
        "site |under - before| ranked (zeros dropped, ties at mid-ranks), T = sum over sites of "
        "W+_i / (n_i + 1), null mean sum n_i / 4, variance sum var(W+_i) / (n_i + 1)^2 with the "
        "tie-corrected var(W+_i); normal approximation, two-sided. " + WILCOXON_NOTE,
    }
    return out
