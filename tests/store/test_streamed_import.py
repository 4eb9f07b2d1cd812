"""A streamed import: sheets go through in slices, written as they pass; keys given twice are found
wherever they are (within a slice, across slices, against rows written before an error), and any error
rolls everything back. Slices of two rows make every case cross a slice boundary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jakreg.ingest import pipeline
from jakreg.ingest.checks import DUPLICATES_BY_DATABASE
from jakreg.ingest.problems import ValidationFailed
from jakreg.store.db import open_session
from jakreg.store.tables import AuditEvent, BodyMeasurement, ImportBatch, LabResult
from jakreg.study import check_path, import_path
from tests.studydata import BASE, TODAY, write_study


@pytest.fixture(autouse=True)
def tiny_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "SLICE_ROWS", 2)


def _lab(day: int, analyte: str = "alt") -> dict[str, Any]:
    date = dt.date(2021, 5, 1) + dt.timedelta(days=day)
    return {"patient_id": "BCN-01", "date": date.isoformat(), "analyte": analyte, "value": 30 + day,
            "unit": "U/L", "uln": 40}  # fmt: skip


def _study(labs: list[dict[str, Any]], **sheets: list[dict[str, Any]]) -> dict[str, Any]:
    copy = {k: [dict(r) for r in v] for k, v in BASE.items()}
    copy["labs"] = copy["labs"] + labs
    copy.update(sheets)
    return copy


def _counts(url: str) -> tuple[int, int, int, int]:
    with open_session(url) as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (LabResult, BodyMeasurement, AuditEvent, ImportBatch)
        )


def _errors(
    exc: pytest.ExceptionInfo[ValidationFailed],
) -> list[tuple[str | None, int | None, str]]:
    return [(p.sheet, p.row, p.message) for p in exc.value.log.kept]


# BASE has 2 labs (rows 2-3); the added labs are rows 4-11.
LABS = [_lab(d) for d in range(8)]
TWICE = [*LABS, LABS[0], LABS[5], LABS[5]]  # rows 12 (of 4), 13 and 14 (of 9)
EXPECTED = [
    ("labs", 12, "duplicate of row 4"),
    ("labs", 13, "duplicate of row 9"),
    ("labs", 14, "duplicate of row 9"),
]


def test_labs_is_checked_by_the_database() -> None:
    assert "labs" in DUPLICATES_BY_DATABASE
    assert "patients" not in DUPLICATES_BY_DATABASE  # other sheets refer to it


def test_sliced_import_writes_every_row_once(db_url: str, tmp_path: Path) -> None:
    summary = import_path(write_study(tmp_path / "s", _study(LABS)), db_url, actor="t", today=TODAY)
    assert summary.sheets["labs"].created == 10
    assert _counts(db_url)[0] == 10
    again = import_path(write_study(tmp_path / "s", _study(LABS)), db_url, actor="t", today=TODAY)
    assert again.total("created") == again.total("updated") == 0


def test_keys_given_twice_across_slices_into_an_empty_database(db_url: str, tmp_path: Path) -> None:
    before = _counts(db_url)
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", _study(TWICE)), db_url, actor="t", today=TODAY)
    assert _errors(exc) == EXPECTED
    assert _counts(db_url) == before


def test_keys_given_twice_when_the_rows_are_already_stored(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a", _study(LABS)), db_url, actor="t", today=TODAY)
    before = _counts(db_url)
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "b", _study(TWICE)), db_url, actor="t", today=TODAY)
    assert _errors(exc) == EXPECTED
    assert _counts(db_url) == before


def test_an_earlier_error_does_not_hide_keys_given_twice(db_url: str, tmp_path: Path) -> None:
    # an error in the labs sheet itself (row 6) stops the writing mid-sheet: row 12 repeats a row
    # written before it, rows 13-14 repeat one kept in memory after it
    labs = [dict(r) for r in TWICE]
    labs[2]["value"] = "high"
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", _study(labs)), db_url, actor="t", today=TODAY)
    assert _errors(exc) == [("labs", 6, "not a number"), *EXPECTED]
    assert _counts(db_url) == (0, 0, 0, 0)


def test_an_error_in_an_earlier_sheet_too(db_url: str, tmp_path: Path) -> None:
    measures = [{"patient_id": "BCN-01", "date": "2021-03-01", "weight_kg": -5, "height_cm": 140}]
    study = _study(TWICE, body_measurements=measures)
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", study), db_url, actor="t", today=TODAY)
    assert _errors(exc) == [("body_measurements", 2, "the value is out of range"), *EXPECTED]
    assert _counts(db_url) == (0, 0, 0, 0)


def test_validate_and_import_report_the_same(db_url: str, tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", _study(TWICE))
    checked = check_path(folder, today=TODAY, keep_rows=False)
    with pytest.raises(ValidationFailed) as exc:
        import_path(folder, db_url, actor="t", today=TODAY)
    assert [(p.sheet, p.row, p.message) for p in checked.log.kept] == _errors(exc)
    assert checked.rows.count("labs") == len(BASE["labs"]) + len(TWICE)
    assert checked.rows.rows("labs") == []


def test_a_reference_to_nothing_is_reported_after_its_patient_was_written(
    db_url: str, tmp_path: Path
) -> None:
    # the patient and course 1 are written before the doses are checked; a dose of course 2 is
    # looked up in the database, which must see the new patient too (not crash on it)
    study = _study([])
    study["doses"] = [*study["doses"], {**study["doses"][0], "course_no": 2}]
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", study), db_url, actor="t", today=TODAY)
    assert [(s, m.split(",")[0]) for s, _r, m in _errors(exc)] == [
        ("doses", "refers to courses BCN-01 / 2")
    ]
    assert _counts(db_url) == (0, 0, 0, 0)


def _response(day: int, manifestation: str | None = None) -> dict[str, Any]:
    date = dt.date(2021, 4, 1) + dt.timedelta(days=day)
    row = {"patient_id": "BCN-01", "course_no": 1, "date": date.isoformat(), "response": "PR"}
    return row | ({"manifestation": manifestation} if manifestation else {})


def test_keys_with_a_blank_part_given_twice_are_found_too(db_url: str, tmp_path: Path) -> None:
    # a global response (manifestation blank) twice: a unique index never sees two NULLs as equal,
    # so the checker keeps these keys; the others are the database's
    responses = [_response(d) for d in range(4)] + [_response(1), _response(2, "HP:0002728")]
    responses += [_response(2, "HP:0002728")]
    study = _study([], responses=responses)
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", study), db_url, actor="t", today=TODAY)
    assert _errors(exc) == [
        ("responses", 6, "duplicate of row 3"),
        ("responses", 8, "duplicate of row 7"),
    ]
    assert _counts(db_url) == (0, 0, 0, 0)


def _item(assessment: dict[str, Any], item: str) -> dict[str, Any]:
    return {"patient_id": "BCN-01", "date": assessment["date"], "item": item, "value": 1}


@pytest.mark.parametrize("earlier_error", [False, True])
def test_references_to_a_sheet_left_to_the_database(
    db_url: str, tmp_path: Path, earlier_error: bool
) -> None:
    # assessment items refer to assessments, whose keys are not kept while the import writes: an
    # item's assessment is looked up in the database, or among the keys kept after an error
    assessments = [
        {"patient_id": "BCN-01", "date": f"2021-0{m}-10", "total": 3.0} for m in range(2, 8)
    ]
    if earlier_error:
        assessments[3]["total"] = -1  # row 5: stops the writing in the middle of the sheet
    items = [_item(a, "skin") for a in assessments]
    items.append({"patient_id": "BCN-01", "date": "2021-08-10", "item": "skin", "value": 1})
    study = _study([], assessments=assessments, assessment_items=items)
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", study), db_url, actor="t", today=TODAY)
    found = [(s, r, m.split(",")[0]) for s, r, m in _errors(exc)]
    assert found == [
        *([("assessments", 5, "the value is out of range")] if earlier_error else []),
        ("assessment_items", 8, "refers to assessments BCN-01 / 2021-08-10 / IDDA"),
    ]
    assert _counts(db_url) == (0, 0, 0, 0)


def test_hpo_lookup_in_a_helper_process_answers_as_in_process() -> None:
    from jakreg.ingest.vocabularies import HpoLookup, hpo_terms

    ids = {"HP:0002728", "HP:0000001", "HP:9999999"}
    lookup = HpoLookup(isolated=True)
    lookup.isolated = True  # even where this process has loaded the ontology already
    try:
        assert lookup.terms(ids) == hpo_terms(ids)
        assert lookup.terms({"HP:9999999"}) == {"HP:9999999": None}
        helper = lookup._helper
        assert helper is not None
    finally:
        lookup.close()
    assert helper.poll() == 0  # ended with the sheet


def test_a_large_input_checks_hpo_in_a_helper_process(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jakreg.study
    from jakreg.ingest import vocabularies

    monkeypatch.setattr(jakreg.study, "HPO_HELPER_ABOVE_BYTES", 0)
    started: list[bool] = []
    close = vocabularies.HpoLookup.close

    def noted_close(self: vocabularies.HpoLookup) -> None:
        started.append(self._helper is not None)
        close(self)

    monkeypatch.setattr(vocabularies.HpoLookup, "close", noted_close)
    study = _study([])
    study["manifestations"] = [{**study["manifestations"][0], "hpo_label": "Not the label"}]
    with pytest.raises(ValidationFailed) as exc:
        import_path(write_study(tmp_path / "s", study), db_url, actor="t", today=TODAY)
    assert [(s, r, m.split(",")[0]) for s, r, m in _errors(exc)] == [
        ("manifestations", 2, "the label does not match HP:0002728")
    ]
    assert any(started) == (vocabularies._ontology.cache_info().currsize == 0)
