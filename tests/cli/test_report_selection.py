"""jakreg report refuses a selection it cannot honour: an unknown centre, an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.example import database, example_database
from tests.cli.test_cli import run


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return example_database(tmp_path_factory.mktemp("example"))


def test_unknown_centre_is_an_error_and_writes_nothing(example_db: str, tmp_path: Path) -> None:
    code, output = run(
        "report", "--db", example_db, "--centre", "NOPE", "--out", str(tmp_path / "r")
    )
    assert code == 1
    assert (
        "error: there is no centre 'NOPE' in the database (centres: SYN-A, SYN-B, SYN-C, SYN-D, "
        "SYN-E, SYN-F); give a centre code exactly as in the centres sheet"
        in " ".join(output.split())
    )
    assert "Traceback" not in output
    assert not (tmp_path / "r").exists()


def test_empty_database_is_an_error_unless_allowed(tmp_path: Path) -> None:
    db = database(tmp_path / "db", None)
    out = tmp_path / "r"
    code, output = run("report", "--db", db, "--out", str(out), "--no-literature")
    assert code == 1
    assert (
        "error: no patients to analyse (every centre, source cohort, with a JAK-inhibitor course "
        "by the cut-off); nothing was written. Import data first, choose another centre, or pass "
        "--allow-empty to write an empty report" in " ".join(output.split())
    )
    assert not out.exists()
    code, output = run("report", "--db", db, "--out", str(out), "--no-literature", "--allow-empty")
    assert code == 0, output
    assert "warning: the report is empty: no patient was selected (--allow-empty)." in output
    assert (out / "results.json").exists()
