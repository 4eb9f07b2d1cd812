"""Decompression bombs: a small .xlsx that unpacks to huge parts or a million rows is refused, with a
located problem, before the spreadsheet reader parses it; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from jakreg.ingest.archive import CLI_LIMITS, ArchiveLimits, check_archive
from jakreg.ingest.problems import ProblemLog, ValidationFailed
from jakreg.ingest.read import read_workbook
from jakreg.store import db
from jakreg.store.tables import LabResult
from jakreg.study import import_path
from tests.ingest.bombs import HEADER, row_bomb
from tests.studydata import TODAY, write_study


def test_the_bomb_builder_makes_a_real_workbook(tmp_path: Path) -> None:
    log = ProblemLog()
    raw = read_workbook(row_bomb(tmp_path / "small.xlsx", 3), log)
    assert log.ok
    (sheet,) = raw.sheets
    assert (sheet.name, tuple(sheet.header)) == ("labs", HEADER)
    assert [cells[0] for _, cells in sheet.rows] == ["S01", "S01", "S01"]


def test_rows_over_the_limit_are_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = row_bomb(tmp_path / "bomb.xlsx", 500_000)
    assert path.stat().st_size < 500_000  # small on disk
    import jakreg.ingest.read as read

    def never(*args: object) -> None:
        raise AssertionError("the spreadsheet reader was called")

    monkeypatch.setattr(read, "_read_excel", never)
    log = ProblemLog()
    raw = read_workbook(path, log, ArchiveLimits(max_ratio=1e9, max_rows_per_sheet=100_000))
    assert raw.sheets == []
    (problem,) = log.kept
    assert str(problem) == (
        "bomb.xlsx, sheet labs: the sheet has more than 100,000 rows, the most jakreg reads from one "
        "sheet here (value 'more than 100,000 rows'). Fix: split the sheet over several files (e.g. "
        "one per centre or per year), or import it as CSV with jakreg import on the command line"
    )


def test_cli_import_refuses_a_sheet_beyond_excels_row_limit_and_writes_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    import_path(write_study(tmp_path / "s"), sqlite_url, actor="test", today=TODAY)
    with db.open_session(sqlite_url) as session:
        labs_before = session.scalar(select(func.count()).select_from(LabResult))
    # Excel's row limit, plus the header: one row too many
    path = row_bomb(tmp_path / "bomb.xlsx", CLI_LIMITS.max_rows_per_sheet, numbered=True)
    with pytest.raises(ValidationFailed) as failed:
        import_path(path, sqlite_url, actor="test", today=TODAY)
    (problem,) = failed.value.log.kept
    assert problem.sheet == "labs"
    assert problem.message == (
        "the sheet has more than 1,048,576 rows, the most jakreg reads from one sheet here"
    )
    with db.open_session(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(LabResult)) == labs_before


def test_inflated_size_and_ratio_are_checked_from_the_zip_directory(tmp_path: Path) -> None:
    path = row_bomb(tmp_path / "padded.xlsx", 2, padding=30 * 1024 * 1024)  # 30 MB of spaces
    assert path.stat().st_size < 200_000
    log = ProblemLog()
    assert not check_archive(path, log, ArchiveLimits(max_inflated_bytes=20 * 1024 * 1024))
    assert log.kept[0].message.startswith("the workbook unpacks to 30 MB, more than the 20 MB")
    log = ProblemLog()
    assert not check_archive(path, log, ArchiveLimits(max_ratio=100.0))
    message = log.kept[0].message
    assert message.startswith("the part xl/worksheets/sheet1.xml unpacks ")
    assert message.endswith("times its packed size (30 MB), which no real workbook does")
    # about 1,000 times: the CLI refuses it too
    assert not check_archive(path, ProblemLog(), CLI_LIMITS)


def test_ordinary_files_pass(tmp_path: Path) -> None:
    from jakreg.study import example_path

    assert check_archive(example_path(), ProblemLog(), ArchiveLimits(max_rows_per_sheet=1_000))
    assert check_archive(tmp_path / "x.csv", ProblemLog())  # not a zip spreadsheet: not judged
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert check_archive(broken, ProblemLog())  # left to the reader's own problem
