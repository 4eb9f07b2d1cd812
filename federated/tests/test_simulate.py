"""`jakreg-federated simulate`: the report is marked federated and carries per-node contributions."""

from __future__ import annotations

import json

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
    assert ["patients", 60, 60] in r["comparison_with_pooled"]
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
