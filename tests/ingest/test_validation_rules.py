"""Every validation rule, with the exact text a user reads (file, sheet, row, column, value, fix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jakreg.study import check_path
from tests.studydata import BASE, TODAY, edited, with_rows, write_study

CASES: list[tuple[str, dict[str, list[dict[str, Any]]], str]] = [
    (
        "enum",
        edited("patients", 0, sex="F"),
        "patients.csv, sheet patients, row 2, column sex: not an allowed value (value 'F'). "
        "Fix: use one of: female, male, other, unknown",
    ),
    (
        "required value",
        edited("courses", 0, drug=None),
        "courses.csv, sheet courses, row 2, column drug: a required value is missing. Fix: fill in "
        "drug (one of: ruxolitinib, baricitinib, tofacitinib, itacitinib, upadacitinib, "
        "filgotinib, abrocitinib, other)",
    ),
    (
        "full birth date",
        edited("patients", 0, birth_year_month="2012-05-17"),
        "patients.csv, sheet patients, row 2, column birth_year_month: a full birth date is not "
        "stored in jakreg (value '2012-05-17'). Fix: write the year and month only, as YYYY-MM "
        "(e.g. 2011-01)",
    ),
    (
        "cohort birth month",
        edited("patients", 0, birth_year_month=None),
        "patients.csv, sheet patients, row 2, column birth_year_month: a cohort patient needs a "
        "birth year and month. Fix: fill in birth_year_month as YYYY-MM",
    ),
    (
        "lost to follow-up without a date",
        edited("patients", 0, lost_to_follow_up="yes", last_follow_up=None),
        "patients.csv, sheet patients, row 2, column last_follow_up: a patient lost to follow-up "
        "needs the date of the last follow-up. Fix: fill in last_follow_up with the "
        "last date the patient was seen",
    ),
    (
        "lost to follow-up and deceased",
        edited("patients", 0, lost_to_follow_up="yes", vital_status="deceased"),
        "patients.csv, sheet patients, row 2, column lost_to_follow_up: a deceased patient is not "
        "lost to follow-up (value 'yes'). Fix: set lost_to_follow_up to no (last_follow_up is the "
        "date of death)",
    ),
    (
        "lost to follow-up vocabulary",
        edited("patients", 0, lost_to_follow_up="maybe"),
        "patients.csv, sheet patients, row 2, column lost_to_follow_up: not an allowed value "
        "(value 'maybe'). Fix: use one of: yes, no",
    ),
    (
        "literature citation",
        edited("patients", 0, source="literature"),
        "patients.csv, sheet patients, row 2, column citation: a literature case needs its "
        "citation. Fix: fill in citation with PMID:… or DOI:…",
    ),
    (
        "citation form",
        edited("patients", 0, source="literature", citation="35486339"),
        "patients.csv, sheet patients, row 2, column citation: not a citation jakreg understands "
        "(value '35486339'). Fix: write PMID:12345678 or DOI:10.1007/s10875-022-01257-x",
    ),
    (
        "pseudonym form",
        edited("patients", 0, patient_id="Maria Garcia"),
        "patients.csv, sheet patients, row 2, column patient_id: not in the expected form "
        "(value 'Maria Garcia'). Fix: use letters, digits, '.', '_' or '-' (at most 32, no "
        "spaces); never a name",
    ),
    (
        "stop before start",
        edited("courses", 0, stop_date="2021-01-01", stop_reason="hsct"),
        "courses.csv, sheet courses, row 2, column stop_date: the stop date (2021-01-01) is before "
        "the start (2021-03-01) (value '2021-01-01'). Fix: check both dates; the stop must be on "
        "or after the start",
    ),
    (
        "stop without reason",
        edited("courses", 0, stop_date="2021-05-01"),
        "courses.csv, sheet courses, row 2, column stop_reason: a stopped course needs its stop "
        "reason. Fix: fill in stop_reason",
    ),
    (
        "reason without stop",
        edited("courses", 0, stop_reason="remission"),
        "courses.csv, sheet courses, row 2, column stop_reason: a stop reason is given but no stop "
        "date (value 'remission'). Fix: fill in stop_date, or clear stop_reason if the course is "
        "ongoing",
    ),
    (
        "other needs detail",
        edited("courses", 0, stop_date="2021-05-01", stop_reason="other"),
        "courses.csv, sheet courses, row 2, column stop_detail: stop reason 'other' needs a "
        "detail. Fix: say why in stop_detail (no identifiers)",
    ),
    (
        "date form",
        edited("courses", 0, start_date="01/03/2021"),
        "courses.csv, sheet courses, row 2, column start_date: not a date (value '01/03/2021'). "
        "Fix: write the date as YYYY-MM-DD (e.g. 2021-03-15)",
    ),
    (
        "impossible date",
        edited("courses", 0, start_date="2021-02-30"),
        "courses.csv, sheet courses, row 2, column start_date: not a calendar date (value "
        "'2021-02-30'). Fix: write a real date as YYYY-MM-DD",
    ),
    (
        "future date",
        edited("courses", 0, start_date="2030-01-01"),
        "courses.csv, sheet courses, row 2, column start_date: the date 2030-01-01 is in the "
        "future (value '2030-01-01'). Fix: check the year; jakreg records what has happened",
    ),
    (
        "number",
        edited("doses", 0, mg_per_dose="5 mg"),
        "doses.csv, sheet doses, row 2, column mg_per_dose: not a number (value '5 mg'). Fix: "
        "write a number only (e.g. 12.5), without units or text",
    ),
    (
        "range",
        edited("doses", 0, doses_per_day="0"),
        "doses.csv, sheet doses, row 2, column doses_per_day: the value is out of range (value "
        "'0'). Fix: use a value greater than 0",
    ),
    (
        "whole number",
        edited("courses", 0, course_no="first"),
        "courses.csv, sheet courses, row 2, column course_no: not a whole number (value 'first'). "
        "Fix: write a whole number (e.g. 2)",
    ),
    (
        "dose outside course",
        edited("doses", 0, date="2020-01-01"),
        "doses.csv, sheet doses, row 2, column date: the date is outside course 1 (2021-03-01 to "
        "ongoing) (value '2020-01-01'). Fix: check the date and the course_no",
    ),
    (
        "before birth",
        edited("assessments", 0, date="2010-01-01"),
        "assessments.csv, sheet assessments, row 2, column date: the date is before the "
        "patient's birth (2012-05) (value '2010-01-01'). Fix: check the year, and the patient's "
        "birth_year_month",
    ),
    (
        "after death",
        edited("patients", 0, vital_status="deceased", last_follow_up="2021-06-01"),
        "assessments.csv, sheet assessments, row 3, column date: the date is after the deceased "
        "patient's last follow-up (2021-06-01) (value '2021-09-01'). Fix: check the date, and "
        "the patient's last_follow_up",
    ),
    (
        "unknown unit",
        edited("labs", 0, unit="mg/dL"),
        "labs.csv, sheet labs, row 2, column unit: this unit is not known for alt (value "
        "'mg/dL'). Fix: use one of: U/L, IU/L, µkat/L",
    ),
    (
        "unknown analyte",
        edited("labs", 0, analyte="alat"),
        "labs.csv, sheet labs, row 2, column analyte: not an analyte jakreg knows (value 'alat'). "
        "Fix: use one of: alp, alt, ast, bilirubin, cholesterol, ck, creatinine, crp, ggt, "
        "haemoglobin, iga, igg, igm, lymphocytes, neutrophils, platelets, triglycerides, wbc",
    ),
    (
        "reference range order",
        edited("labs", 0, lln="50"),
        "labs.csv, sheet labs, row 2, column lln: the lower limit (50) is above the upper limit "
        "(40) (value '50'). Fix: check the reference range columns",
    ),
    (
        "HPO id unknown",
        edited("manifestations", 0, hpo_id="HP:9999999", hpo_label=None),
        "manifestations.csv, sheet manifestations, row 2, column hpo_id: this HPO id is not in "
        "the packaged Human Phenotype Ontology (value 'HP:9999999'). Fix: look the term up at "
        "hpo.jax.org and copy its id (HP: and 7 digits)",
    ),
    (
        "HPO id form",
        edited("manifestations", 0, hpo_id="0002728"),
        "manifestations.csv, sheet manifestations, row 2, column hpo_id: not in the expected form "
        "(value '0002728'). Fix: write the HPO id as HP: and 7 digits (e.g. HP:0002728)",
    ),
    (
        "HPO label",
        edited("manifestations", 0, hpo_label="Candidiasis"),
        "manifestations.csv, sheet manifestations, row 2, column hpo_label: the label does not "
        "match HP:0002728, which is 'Chronic mucocutaneous candidiasis' (value 'Candidiasis'). "
        "Fix: write 'Chronic mucocutaneous candidiasis', leave the label blank, or correct the id",
    ),
    (
        "HGVS c.",
        edited("variants", 0, hgvs_c="c.821G>Z"),
        "variants.csv, sheet variants, row 2, column hgvs_c: not valid HGVS syntax (failed "
        "regular expression validation) (value 'c.821G>Z'). Fix: write it like c.821G>A",
    ),
    (
        "HGVS p. prefix",
        edited("variants", 0, hgvs_p="R274Q"),
        "variants.csv, sheet variants, row 2, column hgvs_p: a p. change must start with 'p.' "
        "(value 'R274Q'). Fix: write it like p.Arg274Gln or p.(Arg274Gln)",
    ),
    (
        "variant needs a change",
        edited("variants", 0, hgvs_c=None, hgvs_p=None),
        "variants.csv, sheet variants, row 2, column hgvs_c: a variant needs its cDNA or protein "
        "change. Fix: fill in hgvs_c (e.g. c.821G>A) or hgvs_p (e.g. p.Arg274Gln)",
    ),
    (
        "unknown reference",
        with_rows("variants", {"patient_id": "XX-9", "hgvs_c": "c.1A>G"}),
        "variants.csv, sheet variants, row 3, column patient_id: refers to patients XX-9, which "
        "is neither in the file nor in the database (value 'XX-9'). Fix: add it to the patients "
        "sheet first, or correct the reference",
    ),
    (
        "unknown course",
        edited("responses", 0, course_no="2"),
        "responses.csv, sheet responses, row 2, column patient_id, course_no: refers to courses "
        "BCN-01 / 2, which is neither in the file nor in the database (value 'BCN-01 / 2'). Fix: "
        "add it to the courses sheet first, or correct the reference",
    ),
    (
        "unknown manifestation",
        edited("responses", 0, manifestation="HP:0001973"),
        "responses.csv, sheet responses, row 2, column patient_id, manifestation: refers to "
        "manifestations BCN-01 / HP:0001973, which is neither in the file nor in the database "
        "(value 'BCN-01 / HP:0001973'). Fix: add it to the manifestations sheet first, or "
        "correct the reference",
    ),
    (
        "duplicate",
        with_rows("labs", dict(BASE["labs"][0])),
        "labs.csv, sheet labs, row 4, column patient_id, date, analyte: duplicate of row 2 (value "
        "'BCN-01 / 2021-02-20 / alt'). Fix: keep one row per patient_id, date, analyte",
    ),
    (
        "identifier in free text",
        edited("courses", 0, indication="started 12/03/2021"),
        "courses.csv, sheet courses, row 2, column indication: free text looks like it holds an "
        "identifier (a full date) (value 'started 12/03/2021'). Fix: remove dates, record numbers "
        "and contact details; use the dated columns instead",
    ),
    (
        "record number in free text",
        edited("courses", 0, indication="see record 4455667"),
        "courses.csv, sheet courses, row 2, column indication: free text looks like it holds an "
        "identifier (a long number (a record or phone number?)) (value 'see record 4455667'). "
        "Fix: remove dates, record numbers and contact details; use the dated columns instead",
    ),
    (
        "local id twice",
        with_rows(
            "patients",
            {
                "patient_id": "BCN-02",
                "centre": "BCN",
                "local_id": "H-7",
                "sex": "male",
                "birth_year_month": "2015-01",
            },
        ),
        "patients.csv, sheet patients, row 3, column local_id: the same local id is given to "
        "BCN-01 in row 2 (value 'H-7'). Fix: one local id belongs to one patient",
    ),
    (
        "country",
        edited("centres", 0, country="Spain"),
        "centres.csv, sheet centres, row 2, column country: not in the expected form (value "
        "'Spain'). Fix: use the two-letter ISO 3166-1 code in capitals (e.g. ES, DE, BR)",
    ),
]


# Edits that rightly break other rows too (the children still name the old key, or share the date).
CASCADES = {"pseudonym form", "whole number", "after death"}


@pytest.mark.parametrize(("name", "sheets", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_reports_exact_problem(
    tmp_path: Path, name: str, sheets: dict[str, list[dict[str, Any]]], expected: str
) -> None:
    checked = check_path(write_study(tmp_path / "study", sheets), today=TODAY)
    shown = [str(p) for p in checked.log.kept]
    assert shown[0] == expected
    if name not in CASCADES:
        assert shown == [expected]
    assert not checked.log.ok


def test_base_study_is_clean(tmp_path: Path) -> None:
    checked = check_path(write_study(tmp_path / "study"), today=TODAY)
    assert checked.log.kept == []
    assert checked.rows.n_rows == sum(len(v) for v in BASE.values())


def test_domain_mismatch_is_a_warning_not_an_error(tmp_path: Path) -> None:
    checked = check_path(
        write_study(tmp_path / "s", edited("variants", 0, domain="sh2")), today=TODAY
    )
    assert checked.log.ok
    [warning] = checked.log.kept
    assert warning.severity.value == "warning"
    assert "coiled_coil" in warning.message


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    sheets = edited("patients", 0, sex="F", vital_status="zombie")
    sheets["labs"][1]["unit"] = "furlongs"
    checked = check_path(write_study(tmp_path / "s", sheets), today=TODAY)
    assert {(p.sheet, p.column) for p in checked.log.kept} == {
        ("patients", "sex"),
        ("patients", "vital_status"),
        ("labs", "unit"),
    }


def test_rows_referring_to_an_invalid_row_are_not_blamed_again(tmp_path: Path) -> None:
    checked = check_path(write_study(tmp_path / "s", edited("patients", 0, sex="F")), today=TODAY)
    assert len(checked.log.kept) == 1


def test_case_and_spacing_of_choices_are_forgiven(tmp_path: Path) -> None:
    sheets = edited("courses", 0, drug=" Ruxolitinib ")
    checked = check_path(write_study(tmp_path / "s", sheets), today=TODAY)
    assert checked.log.ok
    assert checked.rows.rows("courses")[0].row.drug.value == "ruxolitinib"  # type: ignore[attr-defined]


def test_centre_scope(tmp_path: Path) -> None:
    checked = check_path(write_study(tmp_path / "s"), today=TODAY, centre="MAD")
    messages = {p.message for p in checked.log.kept}
    assert "this import is limited to centre MAD" in messages
    assert "patient BCN-01 belongs to centre BCN, not MAD" in messages


def test_unknown_and_missing_columns(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    (folder / "hsct.csv").write_text("patient_id,dat,indication\nBCN-01,2022-01-01,x\n")
    checked = check_path(folder, today=TODAY)
    assert [str(p) for p in checked.log.kept] == [
        "hsct.csv, sheet hsct, row 1, column dat: unknown column. Fix: rename it to 'date'",
        "hsct.csv, sheet hsct, row 1, column date: a required column is missing. Fix: add a "
        "column headed 'date'",
    ]


def test_unknown_sheet(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    (folder / "patient.csv").write_text("patient_id\nBCN-01\n")
    checked = check_path(folder, today=TODAY)
    assert [str(p) for p in checked.log.kept] == [
        "patient.csv, sheet patient: unknown sheet. Fix: rename it to 'patients'"
    ]
