"""Spreadsheet formula injection: hostile text in every text column never becomes a formula.

xlsx: every text cell is stored as text (data_type 's'), value unchanged. CSV for people: a leading
=, +, -, @, tab or CR gets an apostrophe (OWASP CSV injection), which jakreg's own CSV readers remove,
so workbook <-> database and REDCap <-> database round trips stay lossless. Numbers are never altered.
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from jakreg.export.workbook import Workbook, template_book, write_csv_folder, write_xlsx
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.read import read_workbook
from jakreg.interop.redcap_records import export_redcap, read_redcap
from jakreg.model.cells import neutralise, unquote
from jakreg.model.introspect import allowed_values, base_type
from jakreg.model.sheets import SHEETS
from jakreg.report.tables import Table as ReportTable
from jakreg.study import database_tables, export_database, import_path, init_database
from tests.studydata import BASE, TODAY, write_study

HOSTILE = [
    '=HYPERLINK("http://evil.example/x","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
]
RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def text_columns() -> list[tuple[str, str]]:
    """(sheet, column) of every free-form text field of the model (str, not a vocabulary)."""
    return [
        (spec.name, name)
        for spec in SHEETS
        for name, field in spec.row.model_fields.items()
        if base_type(field.annotation) is str and allowed_values(field.annotation) is None
    ]


def hostile_tables() -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every sheet, one row per hostile value, that value in every text column; -1.5 elsewhere."""
    columns = text_columns()
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    for spec in SHEETS:
        header = spec.columns
        rows = [[value if (spec.name, c) in columns else -1.5 for c in header] for value in HOSTILE]
        tables[spec.name] = (header, rows)
    return tables


def test_every_sheet_has_text_columns_to_attack() -> None:
    sheets = {s for s, _ in text_columns()}
    assert sheets == {spec.name for spec in SHEETS}
    assert len(text_columns()) > 30


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=x", "''=x"),
        ("'x", "'x"),
        ("-2", "-2"),
        ("-0.53", "-0.53"),
        ("+1e-5", "+1e-5"),
        ("ruxolitinib", "ruxolitinib"),
        ("", ""),
    ],
)
def test_neutralise_and_unquote(value: str, written: str) -> None:
    assert neutralise(value) == written
    assert unquote(written) == value


@given(st.text())
def test_unquote_undoes_neutralise_for_any_text(value: str) -> None:
    assert unquote(neutralise(value)) == value
    safe = neutralise(value)
    assert not safe.startswith(RISKY_START) or float(safe) == float(safe)


def _book() -> Workbook:
    return template_book(hostile_tables())


def test_xlsx_export_writes_every_text_cell_as_text(tmp_path: Path) -> None:
    path = write_xlsx(_book(), tmp_path / "out.xlsx")
    wb = load_workbook(path)
    checked = 0
    for sheet, column in text_columns():
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        index = header.index(column)
        for row, value in zip(ws.iter_rows(min_row=2), HOSTILE, strict=True):
            cell = row[index]
            assert cell.data_type == "s", (sheet, column, value)
            # XML readers turn a bare CR into LF (XML 1.0, 2.11): still text, never a formula
            assert cell.value == value.replace("\r", "\n"), (sheet, column)
            checked += 1
        numbers = [row[header.index(c)].value for c in header if (sheet, c) not in text_columns()
                   for row in ws.iter_rows(min_row=2)]  # fmt: skip
        assert all(n == -1.5 for n in numbers)
    assert checked == len(text_columns()) * len(HOSTILE)
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_and_csv_exports_read_back_unchanged(tmp_path: Path) -> None:
    xlsx = write_xlsx(_book(), tmp_path / "out.xlsx")
    folder = tmp_path / "csv"
    write_csv_folder(_book(), folder)
    for source in (xlsx, folder):
        log = ProblemLog()
        raw = read_workbook(source, log)
        assert log.ok, log
        got = {s.name: [cells for _, cells in s.rows] for s in raw.sheets}
        for spec in SHEETS:
            header, rows = hostile_tables()[spec.name]
            for want, cells in zip(rows, got[spec.name], strict=True):
                for column, w, c in zip(header, want, cells, strict=True):
                    if isinstance(w, str):
                        w = w.replace("\r", "\n") if source == xlsx else w  # XML 1.0, 2.11
                        assert c == w, (source.name, spec.name, column)
                    else:
                        assert float(c) == w, (source.name, spec.name, column)


def test_csv_export_neutralises_every_text_cell_and_leaves_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    write_csv_folder(_book(), folder)
    columns = text_columns()
    for spec in SHEETS:
        with (folder / f"{spec.name}.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for cells in reader:
                for column, cell in zip(header, cells, strict=True):
                    if (spec.name, column) in columns:
                        assert cell.startswith("'"), (spec.name, column, cell)
                    else:
                        assert cell == "-1.5"


def test_report_csv_tables_neutralise_text_and_keep_numbers() -> None:
    table = ReportTable("t", "T", ("text", "count", "value", "shown"),
                        tuple((v, -3, -0.25, "-0.53") for v in HOSTILE))  # fmt: skip
    rows = list(csv.reader(io.StringIO(table.to_csv(), newline="")))[1:]
    for value, (text, count, number, shown) in zip(HOSTILE, rows, strict=True):
        assert text == "'" + value
        assert (count, number, shown) == ("-3", "-0.25", "-0.53")


# --- through the database ------------------------------------------------------------------------

# Text columns of the small study whose values are free (the others are checked against a vocabulary
# or a format: HGVS, HPO ids, units, pseudonyms), each given a hostile value.
FREE = {
    ("centres", "name"): '=HYPERLINK("http://evil.example/x","click")',
    ("patients", "local_id"): "+cmd|' /C calc'!A0",
    ("courses", "stop_detail"): "-2+3",
    ("courses", "indication"): "'=already quoted",
    ("courses", "prior_therapies"): "@SUM(A1:A2)",
    ("courses", "concomitant_therapies"): "-fluconazole",
}


def _hostile_study(folder: Path) -> Path:
    sheets = {k: [dict(r) for r in v] for k, v in BASE.items()}
    for (sheet, column), value in FREE.items():  # the CSV input carries jakreg's guard
        sheets[sheet][0][column] = neutralise(value)
    return write_study(folder, sheets)


def _values(url: str) -> dict[tuple[str, str], Any]:
    from jakreg.store import db

    with db.open_session(url) as session:
        tables = database_tables(session, centre="BCN", include_local_ids=True)
    out = {}
    for sheet, column in FREE:
        header, rows = tables[sheet]
        out[(sheet, column)] = rows[0][header.index(column)]
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "redcap"])
def test_round_trip_through_the_database_is_lossless(
    sqlite_url: str, tmp_path: Path, fmt: str
) -> None:
    import_path(_hostile_study(tmp_path / "in"), sqlite_url, actor="test", today=TODAY)
    assert _values(sqlite_url) == FREE
    out = tmp_path / ("out.xlsx" if fmt == "xlsx" else "out")
    if fmt == "redcap":
        export_redcap(out, sqlite_url, centre="BCN")
    else:
        export_database(out, sqlite_url, fmt=fmt, centre="BCN", include_local_ids=True)
    if fmt == "xlsx":
        wb = load_workbook(out)
        assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    else:
        for f in out.glob("*.csv"):
            if f.name != "data_dictionary.csv":
                for cells in csv.reader(io.StringIO(f.read_text(), newline="")):
                    assert not any(c.startswith(("=", "+", "@")) for c in cells), f.name
    second = f"sqlite:///{tmp_path / 'second.db'}"
    init_database(second)
    reader = functools.partial(read_redcap, centre=None) if fmt == "redcap" else None
    import_path(out, second, actor="test", today=TODAY, reader=reader)
    want = dict(FREE)
    if fmt == "redcap":
        want[("patients", "local_id")] = None  # local ids never leave a centre through REDCap
    assert _values(second) == want


def test_report_tables_written_from_the_database_carry_no_live_formula(
    sqlite_url: str, tmp_path: Path
) -> None:
    from jakreg.report.build import write_report

    sheets = {k: [dict(r) for r in v] for k, v in BASE.items()}
    sheets["courses"][0]["indication"] = neutralise('=HYPERLINK("http://evil.example/x","click")')
    import_path(write_study(tmp_path / "in", sheets), sqlite_url, actor="test", today=TODAY)
    files = write_report(sqlite_url, tmp_path / "report", literature=False)
    cells = [
        (f.name, cell)
        for f in sorted((files.out / "tables").glob("*.csv"))
        for row in csv.reader(io.StringIO(f.read_text(encoding="utf-8"), newline=""))
        for cell in row
    ]
    hostile = [(name, c) for name, c in cells if "HYPERLINK" in c]
    assert hostile  # the indication is in a report table ...
    assert all(
        c == '\'=HYPERLINK("http://evil.example/x","click")' for _, c in hostile
    )  # ... inert
    live = [(n, c) for n, c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert live == []
    negative = [c for _, c in cells if c.startswith("-")]
    assert [c for c in negative if not _is_number(c)] == []  # only plain numbers keep a leading -


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
