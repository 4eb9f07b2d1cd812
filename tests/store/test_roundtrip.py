"""Export -> import into a fresh database -> export gives identical files (CSV and xlsx)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jakreg.study import example_path, export_database, import_path, init_database


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_import_export_is_identical(db_url: str, tmp_path: Path, fmt: str) -> None:
    import_path(example_path(), db_url, actor="test")
    first = tmp_path / ("first.xlsx" if fmt == "xlsx" else "first")
    export_database(first, db_url, fmt=fmt)

    second_db = f"sqlite:///{tmp_path / 'second.db'}"
    init_database(second_db)
    summary = import_path(first, second_db, actor="test")
    assert summary.total("created") > 300
    second = tmp_path / ("second.xlsx" if fmt == "xlsx" else "second")
    export_database(second, second_db, fmt=fmt)

    if fmt == "xlsx":
        assert first.read_bytes() == second.read_bytes()
    else:
        assert _files(first) == _files(second)


def test_export_carries_derived_values_on_derived_sheets(sqlite_url: str, tmp_path: Path) -> None:
    import_path(example_path(), sqlite_url, actor="test")
    out = tmp_path / "out"
    export_database(out, sqlite_url, fmt="csv")
    derived = (out / "derived_labs.csv").read_text().splitlines()
    assert derived[0] == (
        "patient_id,date,analyte,canonical_value,canonical_unit,ctcae_term,ctcae_grade,"
        "ctcae_version,ctcae_reason"
    )
    assert any(
        line.startswith("S09,2021-04-12,alt,240,U/L,") and ",3,5.0," in line for line in derived
    )
    doses = (out / "derived_doses.csv").read_text().splitlines()
    assert doses[0] == "patient_id,course_no,date,mg_per_kg_day,mg_per_m2_day,dose_rule,dose_note"


def test_exports_hold_no_local_ids_unless_a_centre_exports_its_own(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tests.studydata import TODAY, write_study

    import_path(write_study(tmp_path / "s"), sqlite_url, actor="test", today=TODAY)
    pooled = tmp_path / "pooled"
    export_database(pooled, sqlite_url, fmt="csv")
    assert "H-7" not in (pooled / "patients.csv").read_text()
    own = tmp_path / "own"
    export_database(own, sqlite_url, fmt="csv", centre="BCN", include_local_ids=True)
    assert "H-7" in (own / "patients.csv").read_text()
    from jakreg.errors import InputFileError

    with pytest.raises(InputFileError, match="local ids stay at their centre"):
        export_database(tmp_path / "x", sqlite_url, fmt="csv", include_local_ids=True)
