"""REDCap: the generated dictionary passes the linter, the linter catches broken dictionaries, and a
workbook -> REDCap -> workbook round trip keeps every value (centres travel in centres.csv)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from jakreg.ingest.problems import ValidationFailed
from jakreg.interop.redcap_dictionary import COLUMNS, repeating_instruments, write_dictionary
from jakreg.interop.redcap_lint import lint_dictionary
from jakreg.interop.redcap_records import read_redcap, write_redcap
from jakreg.store import db
from jakreg.study import database_tables, example_path, import_path, init_database
from tests.interop.conftest import check_converted, import_converted
from tests.studydata import TODAY, write_study


def _tables(url: str, local_ids: bool = False) -> dict[str, object]:
    with db.open_session(url) as session:
        return dict(database_tables(session, include_local_ids=local_ids))


def _edit_dictionary(path: Path, edit: object) -> Path:
    rows = list(csv.reader(path.read_text().splitlines()))
    edit(rows)  # type: ignore[operator]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())
    return path


def test_generated_dictionary_passes_the_linter(tmp_path: Path) -> None:
    path = write_dictionary(tmp_path / "data_dictionary.csv")
    assert lint_dictionary(path) == []
    rows = list(csv.reader(path.read_text().splitlines()))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1][:4] == ["record_id", "patient", rows[1][2], "text"]
    identifiers = [r[0] for r in rows[1:] if r[10] == "y"]
    assert identifiers == ["local_id"]
    assert "courses" in repeating_instruments()
    assert "patient" not in repeating_instruments()


def test_linter_tolerates_bom_and_header_spacing(tmp_path: Path) -> None:
    path = write_dictionary(tmp_path / "d.csv")
    text = path.read_text().replace("Form Name", " form  name ", 1)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert lint_dictionary(path) == []


def test_linter_reports_broken_rules(tmp_path: Path) -> None:
    def breaks(rows: list[list[str]]) -> None:
        rows[3][3] = "dropdownn"  # bad field type
        rows[4][11] = "[no_such_field] = '1'"  # branching to a missing field
        rows[5][5] = "yes Yes | no No"  # bad choices
        rows[9][7] = "date_ymdd"  # bad validation
        rows.append(["extra", "patient", "", "text", "x"] + [""] * 13)  # patient form again

    path = _edit_dictionary(write_dictionary(tmp_path / "d.csv"), breaks)
    messages = {(p.row, p.message) for p in lint_dictionary(path)}
    assert (4, "not a REDCap field type") in messages
    assert (5, "the branching logic refers to [no_such_field], which is not a field") in messages
    assert (6, "the choices are not in the form 'code, label | code, label'") in messages
    assert (10, "not a REDCap validation type") in messages
    assert any(m == "the fields of this form are not contiguous" for _, m in messages)


def test_example_round_trips_through_redcap(tmp_path: Path) -> None:
    first = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(first)
    import_path(example_path(), first, actor="test")
    write_redcap(_tables(first), tmp_path / "rc")  # type: ignore[arg-type]
    second = f"sqlite:///{tmp_path / 'b.db'}"
    init_database(second)
    import_converted(tmp_path / "rc", read_redcap, second, today=TODAY)
    assert _tables(second) == _tables(first)


def test_redcap_server_export_with_bom_labels_checkboxes_and_extra_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(url)
    import_path(write_study(tmp_path / "s"), url, actor="test", today=TODAY)
    folder = tmp_path / "rc"
    write_redcap(_tables(url), folder)  # type: ignore[arg-type]
    records = folder / "records.csv"
    rows = list(csv.reader(records.read_text().splitlines()))
    header = rows[0]
    sex = header.index("sex")
    rows[1][sex] = "Female"  # a label export
    rows[1][header.index("redcap_data_access_group")] = "BCN"  # a DAG label
    header[sex] = "sex___female"  # as if sex were a checkbox
    for r in rows[2:]:
        r[sex] = "0"
    rows[1][sex] = "1"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    records.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    checked = check_converted(folder, read_redcap, today=TODAY)
    assert checked.log.ok, [str(p) for p in checked.log.kept]
    patient = checked.rows.rows("patients")[0].row
    assert (patient.sex.value, patient.centre) == ("female", "BCN")  # type: ignore[attr-defined]

    header.append("favourite_colour")
    rows[0] = header
    for r in rows[1:]:
        r.append("")
    rows[3][-1] = "blue"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    records.write_text(buf.getvalue())
    second = f"sqlite:///{tmp_path / 'b.db'}"
    init_database(second)
    with pytest.raises(ValidationFailed) as failed:
        import_converted(folder, read_redcap, second, today=TODAY)
    problem = failed.value.log.kept[0]
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "records.csv", 4, "favourite_colour", "blue")  # fmt: skip
    assert problem.message == "an unknown field: jakreg does not know it"
    assert _tables(second)["patients"] == (_tables(second)["patients"][0], [])  # nothing written


def test_validation_problems_name_the_redcap_row_and_field(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(url)
    import_path(write_study(tmp_path / "s"), url, actor="test", today=TODAY)
    folder = tmp_path / "rc"
    write_redcap(_tables(url), folder)  # type: ignore[arg-type]
    records = folder / "records.csv"
    records.write_text(records.read_text().replace("ruxolitinib", "aspirin"))
    checked = check_converted(folder, read_redcap, today=TODAY)
    bad = [p for p in checked.log.kept if p.column == "crs_drug"]
    assert [(p.file, p.sheet, p.value) for p in bad] == [("records.csv", "courses", "aspirin")]
