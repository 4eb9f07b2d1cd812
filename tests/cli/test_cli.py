"""The command line as a user meets it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from jakreg import docs_cli
from jakreg.cli import app
from tests.studydata import edited, write_study

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def test_init_template_validate_import_export(tmp_path: Path) -> None:
    db = str(tmp_path / "study.db")
    code, output = run("init", "--db", db)
    assert code == 0
    assert "Created database" in output
    code, output = run("template", "--example", "--out", str(tmp_path / "example.xlsx"))
    assert code == 0
    assert (tmp_path / "example.xlsx").stat().st_size > 10_000
    code, output = run("validate", str(tmp_path / "example.xlsx"), "--db", db)
    assert code == 0, output
    assert "OK: 0 error(s), 0 warning(s)" in output
    code, output = run("import", str(tmp_path / "example.xlsx"), "--db", db, "--actor", "tester")
    assert code == 0, output
    assert "357 created, 0 updated, 0 unchanged; 357 changes audited in " in output
    code, output = run("import", str(tmp_path / "example.xlsx"), "--db", db)
    assert code == 0
    assert "Nothing changed: every row of" in output
    code, output = run("export", "--db", db, "--format", "csv", "--out", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out" / "patients.csv").exists()
    code, output = run("audit", "verify", "--db", db)
    assert code == 0
    assert "event(s) holding 357 change(s), every link and every batch's rows verified" in output


def test_validate_lists_problems_and_exits_1(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", edited("patients", 0, sex="F"))
    code, output = run("validate", str(folder))
    assert code == 1
    assert (
        "error: patients.csv, sheet patients, row 2, column sex: not an allowed value (value 'F'). "
        "Fix: use one of: female, male, other, unknown" in output
    )
    assert "FAILED: 1 error(s), 0 warning(s)" in output


def test_validate_json(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", edited("patients", 0, sex="F"))
    code, output = run("validate", str(folder), "--format", "json")
    assert code == 1
    data = json.loads(output)
    assert data["ok"] is False
    assert data["problems"][0] == {
        "file": "patients.csv",
        "sheet": "patients",
        "row": 2,
        "column": "sex",
        "value": "F",
        "message": "not an allowed value",
        "fix": "use one of: female, male, other, unknown",
        "severity": "error",
    }


def test_import_failure_says_nothing_was_imported(tmp_path: Path) -> None:
    db = str(tmp_path / "study.db")
    run("init", "--db", db)
    folder = write_study(tmp_path / "s", edited("patients", 0, sex="F"))
    code, output = run("import", str(folder), "--db", db)
    assert code == 1
    assert "nothing was imported; fix the errors above and run the import again" in output


def test_command_on_missing_or_uninitialised_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    code, output = run("audit", "verify", "--db", str(missing))
    assert code == 1
    assert (
        f"error: the database file {missing} does not exist; run: jakreg init --db {missing}"
        in output
    )
    assert not missing.exists()
    (tmp_path / "empty.db").touch()
    code, output = run("audit", "verify", "--db", str(tmp_path / "empty.db"))
    assert code == 1
    assert "has no jakreg schema; run: jakreg init" in output


def _jakreg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from jakreg.cli import main; main()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=False,
    )


def test_errors_reach_the_user_without_a_traceback(tmp_path: Path) -> None:
    result = _jakreg(
        "import", "whatever.xlsx", "--db", "postgresql://nobody@127.0.0.1:1/x", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error:")
    result = _jakreg(
        "init", "--db", str(tmp_path / "no" / "such" / "folder" / "x.db"), cwd=tmp_path
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "cannot open the database file" in result.stderr


def test_every_command_has_help_and_is_documented() -> None:
    for path in docs_cli.commands():
        text = docs_cli.help_text(path)
        summary = text.split("\n\n")[1].strip() if "\n\n" in text else ""
        assert summary, f"jakreg {' '.join(path)} has no help text"
    generated = docs_cli.render()
    on_disk = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    assert on_disk == generated, "docs/cli.md is out of date: run `make docs`"


def test_data_dictionary_doc_is_current() -> None:
    from jakreg.export.dictionary import render_markdown

    on_disk = (Path(__file__).parents[2] / "docs" / "data-dictionary.md").read_text()
    assert on_disk == render_markdown(), "docs/data-dictionary.md is out of date: run `make docs`"


def test_score_definition_check(tmp_path: Path) -> None:
    builtin = Path(__file__).parents[2] / "src/jakreg/rules/data/idda_provisional.yaml"
    code, output = run("score-definition", "check", str(builtin))
    assert code == 0, output
    assert "valid." in output
    assert "(provisional)" in output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nitems: []\n")
    code, output = run("score-definition", "check", str(bad))
    assert code == 1
    assert f"error {bad}:3: items: a non-empty list of items is required" in output
    assert f"error: {bad} is not a valid score definition (6 problem(s))" in output
    code, output = run("score-definition", "list")
    assert code == 0
    assert "idda_provisional" in output


def test_audit_verify_names_a_row_changed_behind_the_trail(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "study.db")
    assert run("init", "--db", db)[0] == 0
    assert run("import", str(write_study(tmp_path / "s")), "--db", db)[0] == 0
    with sqlite3.connect(db) as conn:
        pk, value = conn.execute("SELECT id, value FROM lab_result ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE lab_result SET value = 99 WHERE id = ?", (pk,))
    code, output = run("audit", "verify", "--db", db)
    assert code == 1
    assert "The audit trail is intact" in output
    assert (
        f"labs row {pk} (patient BCN-01), column value: the trail says {value!r}, the database "
        "holds 99.0" in output
    )
    assert "error: the data do not match the audit trail: 1 difference(s)" in output
    code, output = run("audit", "verify", "--db", db, "--skip-data")
    assert code == 0, output


def test_audit_verify_with_an_anchor_finds_a_truncated_trail(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "study.db")
    assert run("init", "--db", db)[0] == 0
    folder = write_study(tmp_path / "s")
    code, output = run("import", str(folder), "--db", db)
    assert code == 0, output
    anchor = tmp_path / "s.anchor.json"
    assert f"Audit anchor: {anchor}" in output
    outputs = (("export", tmp_path / "out.xlsx"), ("report", tmp_path / "rep"),
               ("backup", tmp_path / "b.db"))  # fmt: skip
    for what, out in outputs:
        code, output = run(what, "--db", db, "--out", str(out))
        assert code == 0, output
        assert json.loads((tmp_path / f"{out.name}.anchor.json").read_text())["written_for"] == what
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_event WHERE id > (SELECT max(id) - 2 FROM audit_event)")
    code, output = run("audit", "verify", "--db", db, "--skip-data")
    assert code == 0, output  # the chain alone cannot tell
    code, output = run("audit", "verify", "--db", db, "--anchor", str(anchor), "--skip-data")
    assert code == 1
    assert "error: the audit trail was truncated: it holds" in output
    code, output = run("audit", "verify", "--db", str(tmp_path / "b.db"),
                       "--anchor", str(tmp_path / "b.db.anchor.json"))  # fmt: skip
    assert code == 0, output
    assert "0 event(s) since" in output
