"""Files that are not what they claim: each gets a clear problem, never a traceback."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.study import check_path
from tests.studydata import BASE, TODAY, write_study


def _messages(path: Path) -> list[str]:
    return [str(p) for p in check_path(path, today=TODAY).log.kept]


def test_missing_path(tmp_path: Path) -> None:
    assert _messages(tmp_path / "nope.xlsx") == [
        f"{tmp_path / 'nope.xlsx'}: the file or folder does not exist. Fix: check the path"
    ]


def test_not_a_workbook(tmp_path: Path) -> None:
    fake = tmp_path / "study.xlsx"
    fake.write_bytes(b"%PDF-1.4 this is a PDF renamed to xlsx\n" * 20)
    [message] = _messages(fake)
    assert message.startswith("study.xlsx: this is not a readable spreadsheet (")
    assert message.endswith("Fix: open it in your spreadsheet program and save it as .xlsx")


def test_unknown_extension(tmp_path: Path) -> None:
    doc = tmp_path / "study.docx"
    doc.write_text("x")
    assert _messages(doc) == [
        "study.docx: jakreg cannot read .docx. Fix: give a study workbook (.xlsx) or a folder of "
        "CSV files named after the sheets"
    ]


def test_empty_csv_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert _messages(tmp_path / "empty") == [
        "empty: the folder holds no CSV files. Fix: put one CSV file per sheet in it "
        "(patients.csv, courses.csv, ...)"
    ]
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "patients.csv").write_text("")
    assert _messages(tmp_path / "one") == [
        "patients.csv, sheet patients: the file is empty. Fix: add the header row"
    ]


def test_wrong_encoding(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    (folder / "hsct.csv").write_bytes(
        "patient_id,date,indication\nBCN-01,2022-01-01,rejección\n".encode("cp1252")
    )
    assert _messages(folder) == [
        "hsct.csv, sheet hsct, row 2: the file is not UTF-8 (byte 0xf3 on line 2) (value "
        "'BCN-01,2022-01-01,rejecci\ufffdn'). Fix: save the sheet as 'CSV UTF-8' (Excel: Save As "
        "> CSV UTF-8)"
    ]


def test_binary_csv(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "labs.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    assert _messages(folder) == [
        "labs.csv, sheet labs: this is not a text CSV file (it holds binary data). Fix: export "
        "the sheet as 'CSV UTF-8' from your spreadsheet program"
    ]


def test_byte_order_mark_and_semicolons_with_decimal_commas(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    text = (folder / "doses.csv").read_text().replace(",", ";").replace("5;2", "2,5;2")
    (folder / "doses.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    checked = check_path(folder, today=TODAY)
    assert checked.log.kept == []
    assert checked.rows.rows("doses")[0].row.mg_per_dose == 2.5  # type: ignore[attr-defined]


def _xlsx(path: Path, edit: str) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in BASE.items():
        ws = wb.create_sheet(name)
        columns = SHEETS_BY_NAME[name].columns
        ws.append(columns)
        for row in rows:
            ws.append([row.get(c) for c in columns])
    if edit == "formula":
        wb["doses"]["D2"] = "=2+3"
    if edit == "merged":
        wb["patients"].merge_cells("E2:F2")
    if edit == "dates":
        wb["courses"]["D2"] = dt.datetime(2021, 3, 1)
        wb["patients"]["E2"] = dt.datetime(2012, 5, 1)  # Excel's reading of a typed "2012-05"
    wb.save(path)
    return path


def test_xlsx_round_trip_types(tmp_path: Path) -> None:
    checked = check_path(_xlsx(tmp_path / "s.xlsx", "dates"), today=TODAY)
    assert checked.log.kept == []
    assert checked.rows.rows("patients")[0].row.birth_year_month == "2012-05"  # type: ignore[attr-defined]


def test_formula_cells(tmp_path: Path) -> None:
    assert _messages(_xlsx(tmp_path / "s.xlsx", "formula")) == [
        "s.xlsx, sheet doses, row 2, column mg_per_dose: the cell holds a formula. Fix: replace "
        "the formula by its value (copy, then paste as values)"
    ]


def test_merged_cells(tmp_path: Path) -> None:
    messages = _messages(_xlsx(tmp_path / "s.xlsx", "merged"))
    assert messages[0] == (
        "s.xlsx, sheet patients, row 2: the sheet has merged cells (value 'E2:F2'). Fix: unmerge "
        "them and write the value in every cell"
    )


def test_a_million_rows_are_handled_without_a_traceback(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    with (folder / "labs.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(SHEETS_BY_NAME["labs"].columns)
        for i in range(1_000_000):
            writer.writerow(
                ["BCN-01", "2021-04-01", "alt", "x" if i % 2 else "20", "U/L", "", "40", ""]
            )
    checked = check_path(folder, today=TODAY, max_problems=100)
    assert checked.log.n_errors >= 500_000
    assert len(checked.log.kept) == 100
    assert checked.log.n_omitted == checked.log.n_errors - 100


@pytest.mark.parametrize("junk", [b"", b"\n\n\n", b",,,\n,,,\n", b'"unclosed,quote\n'])
def test_junk_csv_never_raises(tmp_path: Path, junk: bytes) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "patients.csv").write_bytes(junk)
    checked = check_path(folder, today=TODAY)
    assert not checked.log.ok


def test_wrong_encoding_deep_in_a_large_file(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    good = "".join(f"BCN-01,2022-01-01,row {i}\n" for i in range(100_000))  # about 2.6 MB
    (folder / "hsct.csv").write_bytes(
        b"patient_id,date,indication\n" + good.encode() + "BCN-01,2022-01-02,é\n".encode("cp1252")
    )
    [problem] = check_path(folder, today=TODAY).log.kept
    assert problem.row == 100_002
    assert problem.message == "the file is not UTF-8 (byte 0xe9 on line 100002)"
    assert problem.value == "BCN-01,2022-01-02,\ufffd"
