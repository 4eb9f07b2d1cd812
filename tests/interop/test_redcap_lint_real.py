"""The dictionary linter on dictionaries real REDCap servers made: no false errors, real errors located."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jakreg.ingest.problems import Severity
from jakreg.interop.redcap_dictionary import COLUMNS, write_dictionary
from jakreg.interop.redcap_lint import (
    API_COLUMNS,
    VALIDATION_TYPES,
    header_form,
    lint_dictionary,
)
from jakreg.interop.redcap_records import read_redcap, write_redcap
from jakreg.store import db
from jakreg.study import database_tables, import_path, init_database
from tests.interop.conftest import check_converted
from tests.studydata import TODAY, write_study

REAL = Path(__file__).parent / "data" / "real_redcap"
DICTIONARIES = sorted(
    p for p in REAL.rglob("*.csv") if "dictionary" in p.name or "metadata" in p.name
)
VALIDATION_TYPES_PROJECT = REAL / "redcapr" / "validation-types-1" / "dictionary.csv"


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _write(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_the_collection_has_both_header_forms() -> None:
    forms = {header_form(_rows(p)[0]) for p in DICTIONARIES}
    assert forms == {COLUMNS, API_COLUMNS}
    assert len(DICTIONARIES) >= 25


@pytest.mark.parametrize("path", DICTIONARIES, ids=lambda p: str(p.relative_to(REAL)))
def test_real_redcap_dictionary_has_no_errors(path: Path) -> None:
    errors = [str(p) for p in lint_dictionary(path) if p.severity is Severity.error]
    assert errors == []


def test_every_validation_type_of_the_real_menu_is_known() -> None:
    rows = _rows(VALIDATION_TYPES_PROJECT)[1:]
    used = {r[7] for r in rows if r[3] == "text" and r[7]}
    assert {"number_3dp_comma_decimal", "time_hh_mm_ss", "phone_australia", "mrn_generic"} <= used
    assert used <= VALIDATION_TYPES
    assert {(r[3], r[7]) for r in rows if r[3] != "text" and r[7]} == {("file", "signature")}
    slider = next(r for r in rows if r[3] == "slider")
    assert (slider[8], slider[9]) == ("-1", "101")


@pytest.mark.parametrize(
    ("field", "column", "value", "message"),
    [
        ("v_integer", 7, "integr", "not a REDCap validation type"),
        ("f_signature", 7, "integer", "a file field takes only the signature validation"),
        ("f_slider", 8, "low", "a slider limit must be a whole number"),
        ("f_slider", 9, "-5", "the slider maximum is not above its minimum"),
        ("f_radio", 7, "integer", "a radio field takes no validation type"),
        ("v_date_ymd", 8, "2020-13-01", "the limit does not fit the date_ymd validation"),
        ("f_text", 8, "3", "a minimum or maximum without a validation type"),
    ],
)
def test_real_errors_are_located(
    tmp_path: Path, field: str, column: int, value: str, message: str
) -> None:
    rows = _rows(VALIDATION_TYPES_PROJECT)
    number = next(i for i, r in enumerate(rows, start=1) if r[0] == field)
    rows[number - 1][column] = value
    problems = lint_dictionary(_write(tmp_path / "dictionary.csv", rows))
    errors = [p for p in problems if p.severity is Severity.error]
    assert [(p.file, p.row, p.column, p.value, p.message) for p in errors] == [
        ("dictionary.csv", number, COLUMNS[column], value, message)
    ]
    assert errors[0].fix


def test_api_form_names_its_own_columns(tmp_path: Path) -> None:
    rows = _rows(REAL / "redcapr" / "decimal-comma-and-dot" / "metadata.csv")
    rows[2][3] = "textbox"
    problems = lint_dictionary(_write(tmp_path / "metadata.csv", rows))
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "field_type", "textbox")]


def test_labels_with_line_breaks_and_today_limits_pass(tmp_path: Path) -> None:
    rows = _rows(VALIDATION_TYPES_PROJECT)
    date = next(r for r in rows if r[0] == "v_date_ymd")
    date[4] = "Date of the visit\n(as on the letter)"
    date[9] = "today"
    assert lint_dictionary(_write(tmp_path / "dictionary.csv", rows)) == []


def test_records_import_reads_the_api_form_of_the_dictionary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(url)
    import_path(write_study(tmp_path / "s"), url, actor="test", today=TODAY)
    with db.open_session(url) as session:
        tables = dict(database_tables(session))
    folder = tmp_path / "rc"
    write_redcap(tables, folder)
    rows = _rows(folder / "data_dictionary.csv")
    rows[0] = list(API_COLUMNS)  # as PyCap's export_metadata(format_type="csv") writes it
    (folder / "data_dictionary.csv").unlink()
    _write(folder / "metadata.csv", rows)
    assert lint_dictionary(folder / "metadata.csv") == []
    checked = check_converted(folder, read_redcap, today=TODAY)
    assert checked.log.ok, [str(p) for p in checked.log.kept]
    assert len(checked.rows.rows("patients")) == 1


def test_generated_dictionary_still_passes(tmp_path: Path) -> None:
    assert lint_dictionary(write_dictionary(tmp_path / "data_dictionary.csv")) == []
