"""jakreg report refuses a selection it cannot honour: an unknown centre, an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.example import example_database
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
