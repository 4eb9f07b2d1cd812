"""jakreg export --format federated: the extract a vantage6 node reads (docs/federated.md)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from jakreg.cli import app
from jakreg.federated.extract import COLUMN_NAMES, SCHEMA_VERSION
from jakreg.federated.pooled import binned, pooled_numbers
from jakreg.store.db import open_session
from tests.federated.fixture import CENTRES, FIXTURE, build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixture")
    build(out, out / "work")
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_committed_fixture_of_the_federated_suite_is_what_jakreg_writes_now(built: Path) -> None:
    """federated/tests/data is rewritten by `python -m tests.federated.fixture`; this fails on drift."""
    for i in range(1, len(CENTRES) + 1):
        name = f"node{i}/jakreg-federated.csv"
        assert (built / name).read_text() == (FIXTURE / name).read_text(), name
    assert json.loads((built / "pooled.json").read_text()) == json.loads(
        (FIXTURE / "pooled.json").read_text()
    )


def test_extract_has_the_documented_columns_no_dates_and_no_ids(
    built: Path, tmp_path: Path
) -> None:
    rows = _rows(built / "node1" / "jakreg-federated.csv")
    assert tuple(rows[0]) == COLUMN_NAMES
    assert {r["schema_version"] for r in rows} == {str(SCHEMA_VERSION)}
    text = (built / "node1" / "jakreg-federated.csv").read_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a calendar date leaked into the extract"
    with open_session(f"sqlite:///{built / 'work' / 'study.db'}") as s:
        ids = [str(x) for (x,) in s.execute(_sql("select patient_id from patient"))]
        local = [str(x) for (x,) in s.execute(_sql("select local_id from patient")) if x]
    assert ids
    assert not any(i in text for i in ids + local)
    assert {r["record"] for r in rows} == {"patient", "course", "idda", "response", "adverse_event"}


def _sql(q: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    return text(q)


def test_manifest_names_schema_rules_and_the_hash_of_the_table(built: Path) -> None:
    man = json.loads((built / "node2" / "manifest.json").read_text())
    assert man["schema"] == "jakreg-federated"
    assert man["schema_version"] == SCHEMA_VERSION
    table = built / "node2" / "jakreg-federated.csv"
    assert man["files"] == {table.name: hashlib.sha256(table.read_bytes()).hexdigest()}
    assert man["rules"]
    assert all(r["version"] for r in man["rules"])
    patients = [r for r in _rows(table) if r["record"] == "patient"]
    assert man["n_patients"] == len(patients)


def test_parquet_extract_holds_the_same_rows_as_csv(built: Path, tmp_path: Path) -> None:
    db = built / "work" / "study.db"
    runner = CliRunner()
    for fmt in ("csv", "parquet"):
        res = runner.invoke(app, ["export", "--format", "federated", "--table-format", fmt,
                                  "--out", str(tmp_path / fmt), "--db", f"sqlite:///{db}"])  # fmt: skip
        assert res.exit_code == 0, res.output
    csv_rows = _rows(tmp_path / "csv" / "jakreg-federated.csv")
    table = pq.read_table(tmp_path / "parquet" / "jakreg-federated.parquet").to_pylist()
    assert len(table) == len(csv_rows)
    assert sorted(r["record"] for r in table) == sorted(r["record"] for r in csv_rows)


def test_unknown_table_format_is_refused_with_a_clear_message(built: Path, tmp_path: Path) -> None:
    db = built / "work" / "study.db"
    res = CliRunner().invoke(app, ["export", "--format", "federated", "--table-format", "json",
                                   "--out", str(tmp_path / "x"), "--db", f"sqlite:///{db}"])  # fmt: skip
    assert res.exit_code != 0
    assert "federated table format must be csv or parquet, not 'json'" in res.output
    assert not (tmp_path / "x").exists()


def _export(*args: str) -> Any:
    return CliRunner().invoke(app, ["export", *args])


def test_pooled_numbers_are_a_jakreg_export(built: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{built / 'work' / 'study.db'}"
    res = _export("--format", "federated-pooled", "--out", str(tmp_path / "p.json"), "--db", db)
    assert res.exit_code == 0, res.output
    got = json.loads((tmp_path / "p.json").read_text())
    assert got == json.loads((built / "pooled.json").read_text())
    assert got["schema"] == "jakreg-federated-pooled"
    assert got["centres"] == list(CENTRES)
    assert got["kaplan_meier_bin_days"] == 30


def test_pooled_bin_days_bins_the_km_times(built: Path) -> None:
    url = f"sqlite:///{built / 'work' / 'study.db'}"
    p = pooled_numbers(url, bin_days=90)
    assert p["kaplan_meier_bin_days"] == 90
    assert p["kaplan_meier_n"] == json.loads((built / "pooled.json").read_text())["kaplan_meier_n"]
    assert binned(1, 90) == 90.0
    assert binned(90, 90) == 90.0
    assert binned(91, 90) == 180.0


def test_one_extract_holds_two_centres(built: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{built / 'work' / 'study.db'}"
    two = ["--centre", CENTRES[0], "--centre", CENTRES[1]]
    res = _export("--format", "federated", "--out", str(tmp_path / "n"), "--db", db, *two)
    assert res.exit_code == 0, res.output
    res = _export(
        "--format", "federated-pooled", "--out", str(tmp_path / "p.json"), "--db", db, *two
    )
    assert res.exit_code == 0, res.output
    rows = _rows(tmp_path / "n" / "jakreg-federated.csv")
    per_node = [
        sum(r["record"] == "patient" for r in _rows(built / f"node{i}" / "jakreg-federated.csv"))
        for i in (1, 2)
    ]
    n = sum(r["record"] == "patient" for r in rows)
    assert n == sum(per_node) > 0
    pooled = json.loads((tmp_path / "p.json").read_text())
    assert pooled["n_patients"] == n
    assert pooled["centres"] == [CENTRES[0], CENTRES[1]]
    assert json.loads((tmp_path / "n" / "manifest.json").read_text())["n_patients"] == n


def test_several_centres_only_for_federated_formats(built: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{built / 'work' / 'study.db'}"
    res = _export("--format", "csv", "--out", str(tmp_path / "x"), "--db", db,
                  "--centre", "SYN-001", "--centre", "SYN-002")  # fmt: skip
    assert res.exit_code != 0
    assert (
        "--centre given 2 times (SYN-001, SYN-002): --format csv exports one centre; repeat "
        "--centre only with --format federated or federated-pooled"
    ) in " ".join(res.output.split())
    assert not (tmp_path / "x").exists()


def test_unknown_centre_in_the_set_is_named(built: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{built / 'work' / 'study.db'}"
    res = _export("--format", "federated", "--out", str(tmp_path / "x"), "--db", db,
                  "--centre", "SYN-001", "--centre", "NOPE")  # fmt: skip
    assert res.exit_code != 0
    assert "there is no centre 'NOPE' in the database" in " ".join(res.output.split())


def test_pooled_export_refuses_a_folder_and_a_bad_bin_width(built: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{built / 'work' / 'study.db'}"
    res = _export("--format", "federated-pooled", "--out", str(tmp_path), "--db", db)
    assert res.exit_code != 0
    msg = (
        f"{tmp_path} is a folder: the pooled numbers are one JSON file, e.g. {tmp_path}/pooled.json"
    )
    assert msg in "".join(res.output.splitlines())
    res = _export("--format", "federated-pooled", "--out", str(tmp_path / "p.json"), "--db", db,
                  "--bin-days", "0")  # fmt: skip
    assert res.exit_code != 0
    assert "--bin-days must be a whole number of days ≥ 1, not 0" in " ".join(res.output.split())
    assert not (tmp_path / "p.json").exists()
