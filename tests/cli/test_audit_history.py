"""jakreg audit history: who changed one imported record, when, and each value from what to what."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run
from tests.studydata import edited, write_study


def test_history_of_an_imported_then_updated_record(tmp_path: Path) -> None:
    db = str(tmp_path / "study.db")
    assert run("init", "--db", db)[0] == 0
    first = write_study(tmp_path / "a")
    assert run("import", str(first), "--db", db, "--actor", "alice")[0] == 0
    second = write_study(
        tmp_path / "b", edited("courses", 0, stop_date="2022-01-01", stop_reason="remission")
    )
    assert run("import", str(second), "--db", db, "--actor", "bob")[0] == 0
    code, output = run("audit", "history", "courses", "1", "--db", db)
    assert code == 0, output
    assert "alice" in output
    assert "create" in output
    assert "bob" in output
    assert "stop_date: None → '2022-01-01'" in output
    code, output = run("audit", "history", "courses", "99", "--db", db)
    assert code == 1
    assert "the audit trail holds no change to courses record 99" in output
