"""`jakreg signals derive|list|ack|close`: formats, located errors, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from jakreg.cli import app
from tests.web.webdata import OTHER, seed

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def test_derive_list_ack_close(sqlite_url: str, tmp_path: Path) -> None:
    seed(sqlite_url, tmp_path / "study")
    db = sqlite_url.removeprefix("sqlite:///")
    code, output = run("signals", "derive", "--db", db, "--user", "mona", "--format", "json")
    assert code == 0, output
    summary = json.loads(output)
    code, output = run("signals", "list", "--db", db, "--format", "json")
    assert code == 0, output
    rows = json.loads(output)
    assert len(rows) == summary["new"]
    code, output = run("signals", "derive", "--db", db, "--user", "mona")
    assert code == 0, output
    assert "0 new signal(s)" in output
    code, output = run("signals", "list", "--db", db, "--centre", OTHER, "--format", "csv")
    assert code == 0, output
    other_rows = list(csv.DictReader(io.StringIO(output)))
    assert all(r["centre"] == OTHER for r in other_rows)
    assert rows, "the seeded study has values that meet a threshold"
    sid = str(rows[0]["id"])
    code, output = run("signals", "ack", sid, "--db", db, "--comment", "seen", "--user", "eddie")
    assert code == 0, output
    assert "acknowledged (version 2)" in output
    code, output = run("signals", "close", sid, "--db", db, "--expected-version", "1")
    assert code != 0
    assert "changed since you loaded it" in output
    assert "Traceback" not in output
    code, output = run("signals", "close", sid, "--db", db, "--expected-version", "2")
    assert code == 0, output
    code, output = run("signals", "list", "--db", db, "--state", "closed", "--format", "json")
    assert [str(r["id"]) for r in json.loads(output)] == [sid]


def test_errors_are_clear(sqlite_url: str) -> None:
    db = sqlite_url.removeprefix("sqlite:///")
    code, output = run("signals", "ack", "4242", "--db", db, "--comment", "x")
    assert code != 0
    assert "safety signal 4242 does not exist" in output
    assert "Traceback" not in output
    code, output = run("signals", "list", "--db", db, "--state", "resolved")
    assert code != 0
    assert "unknown signal state 'resolved'" in output
    code, output = run("signals", "list", "--db", str(Path(db).parent / "missing.db"))
    assert code != 0
    assert "does not exist" in output
