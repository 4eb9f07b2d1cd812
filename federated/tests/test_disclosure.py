"""Disclosure control at the node and node failures named in the central result."""

from __future__ import annotations

import pandas as pd
import pytest
from jakreg_federated.partial import cell, partial_counts, partial_idda, partial_km

from conftest import NODES, mock, run_central


def _ne(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The node's frame with exactly k first-course responses set to NE (the rest CR)."""
    f = frame.copy()
    idx = f.index[f.record == "response"]
    f.loc[idx, "response"] = "CR"
    f.loc[idx[:k], "response"] = "NE"
    return f


@pytest.mark.parametrize(
    ("count", "min_cell", "shown"),
    [(2, 3, False), (3, 3, True), (1, 1, True), (0, 3, True), (4, 5, False), (5, 5, True)],
)
def test_cell_threshold(count: int, min_cell: int, shown: bool) -> None:
    c = cell(count, min_cell, "x")
    assert c["suppressed"] is (not shown)
    if shown:
        assert c["value"] == count
    else:
        assert "minimum cell count" in c["reason"]
        assert "value" not in c


@pytest.mark.parametrize(
    ("k", "env", "shown"),
    [(2, None, False), (3, None, True), (2, "1", True), (1, "1", True), (3, "4", False)],
)
def test_node_refuses_small_count(monkeypatch, frames, k, env, shown) -> None:
    if env is None:
        monkeypatch.delenv("JAKREG_FEDERATED_MIN_CELL", raising=False)
    else:
        monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", env)
    out = partial_counts(mock_data=[_ne(frames[0], k)])
    ne = out["response"]["NE"]
    assert ne["suppressed"] is (not shown)
    assert ne.get("value") == (k if shown else None)


def test_researcher_cannot_lower_node_minimum(monkeypatch, frames) -> None:
    monkeypatch.delenv("JAKREG_FEDERATED_MIN_CELL", raising=False)
    out = partial_counts(mock_data=[_ne(frames[0], 2)], min_cell=1)
    assert out["min_cell"] == 3
    assert out["response"]["NE"]["suppressed"]


def test_no_per_patient_rows_leave_the_node(monkeypatch, frames) -> None:
    monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", "1")
    keys = set(frames[0].patient_key)
    for fn in (partial_counts, partial_km, partial_idda):
        text = repr(fn(mock_data=[frames[0]]))
        assert not any(k in text for k in keys)


def test_suppressed_cells_reported_in_central(monkeypatch) -> None:
    monkeypatch.delenv("JAKREG_FEDERATED_MIN_CELL", raising=False)
    r = run_central(mock(NODES))
    km = r["kaplan_meier"]
    # 30-day bins hold 1-2 events per centre: the whole table is refused at min 3
    assert not km["complete"]
    assert all("minimum cell count 3" in x["reason"] for x in km["refused"])
    for k, v in r["response"].items():
        assert v["complete"] == (v["refused"] == []), k


def test_bad_extract_fails_with_node_name(monkeypatch, frames) -> None:
    monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", "1")
    bad = frames[1].copy()
    bad["schema_version"] = 99
    r = run_central(mock([frames[0], bad, frames[2]]))
    assert r["node_failures"] == [
        {
            "node": "mock-1 (organization 1)",
            "error": "extract schema version 99 found; this algorithm reads version 1 only "
            "(a newer extract may mean something different)",
        }
    ]
    ok = pd.concat([frames[0], frames[2]])
    assert r["patients"]["value"] == ok.loc[ok.record == "patient", "patient_key"].nunique()


def test_not_an_extract(frames) -> None:
    out = partial_counts(mock_data=[frames[0].drop(columns=["schema_version"])])
    assert out == {
        "error": "the node's data is not a jakreg federated extract: column(s) schema_version missing"
    }


def test_missing_column_named(frames) -> None:
    from jakreg_federated.partial import partial_adverse_events

    out = partial_adverse_events(mock_data=[frames[0].drop(columns=["days_on_drug"])])
    assert out == {
        "error": "the node's extract has no column 'days_on_drug': write it again with "
        "jakreg export --format federated"
    }
