"""The federated results against jakreg's pooled results on the same data (pooled.json) and
against SciPy/lifelines on the concatenated extracts (the pooled data the nodes never share)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy.stats import binomtest, chi2, wilcoxon

from conftest import NODES, mock, run_central

MIN1 = {"JAKREG_FEDERATED_MIN_CELL": "1"}


@pytest.fixture
def all_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", "1")


def test_counts_and_responses_equal_pooled(all_shown, pooled) -> None:
    r = run_central(mock(NODES))
    assert r["federated"] is True
    assert r["node_failures"] == []
    assert r["patients"]["value"] == pooled["n_patients"]
    for k, v in pooled["response"].items():
        got = r["response"][k]
        assert got["value"] == v
        assert got["complete"]
        ci = binomtest(v, pooled["n_patients"]).proportion_ci(method="exact")
        assert got["ci_lower"] == pytest.approx(ci.low)
        assert got["ci_upper"] == pytest.approx(ci.high)


def test_ae_rate_exact(all_shown, pooled, frames) -> None:
    r = run_central(mock(NODES))["adverse_event_rate"]
    assert r["events"] == pooled["adverse_events"]
    allc = pd.concat(frames)
    years = allc.loc[allc.record == "course", "days_on_drug"].sum() / 365.25
    assert r["patient_years"] == pytest.approx(years)
    k = pooled["adverse_events"]
    assert r["rate_per_100py"] == pytest.approx(100 * k / years)
    # Garwood limits written from their definition via the gamma/chi-square identity
    assert r["ci_lower"] == pytest.approx(100 * chi2.ppf(0.025, 2 * k) / 2 / years)
    assert r["ci_upper"] == pytest.approx(100 * chi2.ppf(0.975, 2 * k + 2) / 2 / years)


def test_km_equals_pooled_binned_km(all_shown, pooled, frames) -> None:
    from jakreg_federated.central import km_at

    km = run_central(mock(NODES))["kaplan_meier"]
    assert km["complete"]
    assert km["n"] == pooled["kaplan_meier_n"]
    assert km["events"] == pooled["kaplan_meier_events"]
    for a in pooled["kaplan_meier_at_days"]:
        assert km_at(km, a["time"]) == pytest.approx(a["estimate"], abs=1e-12)
    steps = {st["time"]: st["at_risk"] for st in km["steps"]}
    shared = [a for a in pooled["kaplan_meier_at_days"] if a["time"] in steps]
    assert len(shared) >= 3
    for a in shared:
        assert steps[a["time"]] == a["at_risk"]
    allc = pd.concat(frames)
    c = allc[(allc.record == "course") & (allc.course_no == 1) & (allc.days_on_drug > 0)]
    kmf = KaplanMeierFitter().fit(np.ceil(c.days_on_drug / 30) * 30, c.stopped)
    for st in km["steps"]:
        assert st["estimate"] == pytest.approx(float(kmf.predict(st["time"])), abs=1e-12)


def test_sign_test_equals_pooled(all_shown, pooled) -> None:
    s = run_central(mock(NODES))["sign_test"]
    d = pooled["idda_differences"]
    pos, neg = sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)
    assert (s["n_positive"], s["n_negative"]) == (pos, neg)
    assert s["p_value"] == pytest.approx(binomtest(pos, pos + neg, 0.5).pvalue)
    assert s["p_value"] == pytest.approx(pooled["idda_paired_test"]["sign_test"]["p_value"])
    assert "binomtest" in s["method"]


def test_stratified_signed_rank_against_scipy_per_site(all_shown, frames) -> None:
    r = run_central(mock(NODES))["stratified_signed_rank"]
    w = mu = var = 0.0
    for f in frames:
        i = f[f.record == "idda"]
        d = (i.under - i.before).round(6)
        d = d[d != 0].to_numpy()
        n = len(d)
        # W+ by the Walsh-average identity (a second way: no ranking)
        wp = sum(
            (1.0 if d[a] + d[b] > 0 else 0.5 if d[a] + d[b] == 0 else 0.0)
            for a in range(n)
            for b in range(a, n)
        )
        z1 = wilcoxon(d, method="approx", correction=False, zero_method="wilcox").zstatistic
        m = n * (n + 1) / 4
        v = ((wp - m) / z1) ** 2 if z1 else 0.0
        k = 1 / (n + 1)  # van Elteren weight
        w, mu, var = w + k * wp, mu + k * m, var + k * k * v
    assert r["statistic"] == pytest.approx(w)
    assert r["mean"] == pytest.approx(mu)
    assert r["variance"] == pytest.approx(var)
    assert r["z"] == pytest.approx((w - mu) / math.sqrt(var))
    assert "cannot" in r["method"] or "do not leave" in r["method"]


@pytest.mark.parametrize("bin_days", [1, 7, 30, 91, 365])
def test_km_on_binned_times_equals_lifelines_on_the_same_bins(all_shown, frames, bin_days) -> None:
    """Federated KM with `bin_days` bins = lifelines' KM of the pooled times rounded up to the
    same bins (lifelines.KaplanMeierFitter on the concatenated extracts)."""
    from jakreg_federated.central import km_at

    km = run_central(mock(NODES), bin_days=bin_days)["kaplan_meier"]
    assert km["complete"]
    assert km["bin_days"] == bin_days
    assert f"{bin_days}-day bins" in km["method"]
    allc = pd.concat(frames)
    c = allc[(allc.record == "course") & (allc.course_no == 1) & (allc.days_on_drug > 0)]
    times = np.ceil(c.days_on_drug / bin_days) * bin_days
    kmf = KaplanMeierFitter().fit(times, c.stopped)
    assert [st["time"] for st in km["steps"]] == sorted(set(times.astype(int)))
    assert km["n"] == len(c)
    assert km["events"] == int(c.stopped.sum())
    for st in km["steps"]:
        assert st["estimate"] == pytest.approx(float(kmf.predict(st["time"])), abs=1e-12)
        at_risk = int(kmf.event_table.loc[st["time"], "at_risk"])
        assert st["at_risk"] == at_risk
    for t in (0, 100, 400, 1000, 5000):
        assert km_at(km, t) == pytest.approx(float(kmf.predict(t)), abs=1e-12)


@pytest.mark.parametrize("bad", [0, -30, 1.5, "30"])
def test_bad_bin_days_refused_with_its_value(all_shown, frames, bad) -> None:
    from jakreg_federated.partial import partial_km

    out = partial_km(mock_data=[frames[0]], bin_days=bad)
    assert out == {"error": f"bin_days must be a whole number of days ≥ 1, not {bad!r}"}


@pytest.mark.parametrize(("bin_days", "horizon"), [(30, 360), (90, 700), (365, 730)])
def test_km_horizon_keeps_the_estimate_up_to_the_horizon(all_shown, frames, bin_days, horizon):
    """With a horizon, the federated KM equals lifelines' KM of the binned pooled times at every
    time up to the horizon's bin, and lifelines' KM of the times censored there everywhere."""
    km = run_central(mock(NODES), bin_days=bin_days, horizon_days=horizon)["kaplan_meier"]
    h = -(-horizon // bin_days) * bin_days
    assert km["complete"]
    assert km["horizon_days"] == h
    assert max(st["time"] for st in km["steps"]) == h
    allc = pd.concat(frames)
    c = allc[(allc.record == "course") & (allc.course_no == 1) & (allc.days_on_drug > 0)]
    times = np.ceil(c.days_on_drug / bin_days) * bin_days
    plain = KaplanMeierFitter().fit(times, c.stopped)
    cut = KaplanMeierFitter().fit(np.minimum(times, h), c.stopped.where(times <= h, 0))
    assert km["n"] == len(c)
    for st in km["steps"]:
        assert st["estimate"] == pytest.approx(float(plain.predict(st["time"])), abs=1e-12)
        assert st["estimate"] == pytest.approx(float(cut.predict(st["time"])), abs=1e-12)
    last = km["steps"][-1]
    assert last["at_risk"] == int((times >= h).sum())
    assert last["events"] == int(((times == h) & (c.stopped == 1)).sum())


def test_bad_horizon_refused_with_its_value(all_shown, frames) -> None:
    from jakreg_federated.partial import partial_km

    out = partial_km(mock_data=[frames[0]], horizon_days=0)
    assert out == {"error": "horizon_days must be a whole number of days ≥ 1, not 0"}
