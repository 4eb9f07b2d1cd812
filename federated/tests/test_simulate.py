"""`jakreg-federated simulate`: the report is marked federated and carries per-node contributions."""

from __future__ import annotations

import json

import pytest
from jakreg_federated.simulate import main

from conftest import DATA


def test_simulate_writes_federated_report(tmp_path, capsys) -> None:
    nodes = [str(DATA / f"node{i}") for i in (1, 2, 3)]
    rc = main(
        [
            "simulate",
            *nodes,
            "--node-min-cell",
            "1",
            "--pooled",
            str(DATA / "pooled.json"),
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    r = json.loads((tmp_path / "report.json").read_text())
    pooled = json.loads((DATA / "pooled.json").read_text())
    assert r["federated"] is True
    assert len(r["contributions"]["partial_counts"]) == 3
    assert (
        sum(c["patients"]["value"] for c in r["contributions"]["partial_counts"].values())
        == pooled["n_patients"]
    )
    rows = {x["result"]: x for x in r["comparison_with_pooled"]}
    assert rows["patients"] == {
        "result": "patients", "federated": 60, "pooled": 60, "difference": 0, "note": ""
    }  # fmt: skip
    assert rows["KM at day 360"]["difference"] == pytest.approx(0, abs=1e-12)
    assert "different tests" in rows["signed-rank p"]["note"]
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("result "))
    assert lines[head].split() == ["result", "federated", "pooled", "difference", "note"]
    assert lines[head + 2].split() == ["patients", "60", "60", "0"]
    page = (tmp_path / "report.html").read_text()
    assert "FEDERATED" in page
    assert "Per-node contributions after suppression" in page


def test_simulate_suppresses_at_default(tmp_path) -> None:
    assert main(["simulate", str(DATA / "node3"), "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["min_cell"] == {"mock-0 (organization 0)": 3}
    assert not r["kaplan_meier"]["complete"]


def test_simulate_missing_extract(tmp_path, capsys) -> None:
    assert main(["simulate", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_simulate_bin_days_reach_the_km(tmp_path) -> None:
    nodes = [str(DATA / f"node{i}") for i in (1, 2, 3)]
    args = ["simulate", *nodes, "--node-min-cell", "1", "--bin-days", "90", "--out", str(tmp_path)]
    assert main([*args, "--pooled", str(DATA / "pooled.json")]) == 0
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["kaplan_meier"]["bin_days"] == 90
    assert all(st["time"] % 90 == 0 for st in r["kaplan_meier"]["steps"])
    km_rows = [x for x in r["comparison_with_pooled"] if x["result"] == "Kaplan-Meier"]
    assert km_rows[0]["note"] == "not compared: pooled bins 30 days, federated 90 days"


def test_simulate_bin_days_must_be_positive(tmp_path, capsys) -> None:
    assert main(["simulate", str(DATA / "node1"), "--bin-days", "0", "--out", str(tmp_path)]) == 2
    assert "--bin-days must be a whole number of days ≥ 1, not 0" in capsys.readouterr().err


def test_simulate_km_horizon_compares_up_to_it(tmp_path) -> None:
    nodes = [str(DATA / f"node{i}") for i in (1, 2, 3)]
    args = ["simulate", *nodes, "--node-min-cell", "1", "--km-horizon-days", "540"]
    assert main([*args, "--pooled", str(DATA / "pooled.json"), "--out", str(tmp_path)]) == 0
    rows = {
        x["result"]: x
        for x in json.loads((tmp_path / "report.json").read_text())["comparison_with_pooled"]
    }
    assert rows["KM at day 540"]["difference"] == pytest.approx(0, abs=1e-12)
    assert rows["KM at day 720"]["federated"] is None
    assert rows["KM at day 720"]["note"] == "not compared: beyond the horizon day 540"
