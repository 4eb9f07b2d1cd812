"""Each data quality rule at its boundary: the value just inside does not fire, just outside does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from jakreg.quality import checks
from jakreg.quality.catalogue import BY_ID, RULES
from jakreg.quality.checks import PatientRecords
from jakreg.quality.growth import lms_at

D = dt.date


def patient(**sheets: list[dict[str, Any]]) -> PatientRecords:
    base = {
        "id": 1,
        "patient_id": "P-1",
        "birth_year_month": "2012-05",
        "last_follow_up": D(2024, 1, 1),
    }
    p = PatientRecords(1, "P-1", "BCN", "female", "2012-05", "alive", D(2024, 1, 1), base)
    for sheet, rows in sheets.items():
        p.sheets[sheet] = [{"id": i + 1, **r} for i, r in enumerate(rows)]
    return p


def rules(found: list[checks.Finding]) -> list[str]:
    return [f.rule for f in found]


def test_every_rule_has_a_source_and_a_fix() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.source
        assert r.fix
        assert r.version >= 1


@pytest.mark.parametrize(("value", "fires"), [(-0.001, True), (0.0, False), (0.001, False)])
def test_lab_below_zero(value: float, fires: bool) -> None:
    p = patient(labs=[{"date": D(2021, 1, 1), "analyte": "alt", "value": value, "unit": "U/L"}])
    found = checks.impossible_values(p)
    assert rules(found) == (["lab_negative"] if fires else [])
    if fires:
        f = found[0]
        assert (f.patient_id, f.sheet, f.record_pk, f.field, f.value) == (
            "P-1",
            "labs",
            1,
            "value",
            value,
        )
        assert f.fix == BY_ID["lab_negative"].fix


@pytest.mark.parametrize(("kg", "fires"), [(0.0, True), (-1.0, True), (0.1, False)])
def test_weight_zero_or_below(kg: float, fires: bool) -> None:
    p = patient(body_measurements=[{"date": D(2021, 1, 1), "weight_kg": kg, "height_cm": None}])
    assert rules(checks.impossible_values(p)) == (["body_impossible"] if fires else [])


def test_required_blank_fires_and_filled_does_not() -> None:
    p = patient(doses=[{"date": D(2021, 1, 1), "course_no": 1, "weight_kg": None},
                       {"date": D(2021, 2, 1), "course_no": 1, "weight_kg": 30.0}])  # fmt: skip
    p.patient["last_follow_up"] = None
    found = checks.required_missing(p, {"patients": ("last_follow_up",), "doses": ("weight_kg",)})
    assert [(f.sheet, f.record_pk, f.field) for f in found] == [
        ("patients", 1, "last_follow_up"),
        ("doses", 1, "weight_kg"),
    ]


def _weight_at_modified_z(z: float, on: D) -> float:
    lms = lms_at("weight_kg", "female", checks.age_in_months("2012-05", on) or 0)
    assert lms is not None
    half = (lms.value_at(2) - lms.M) / 2 if z >= 0 else (lms.M - lms.value_at(-2)) / 2
    return lms.M + z * half


@pytest.mark.parametrize(
    ("z", "fires"), [(7.99, False), (8.01, True), (-4.99, False), (-5.01, True)]
)
def test_weight_for_age_at_the_cdc_limits(z: float, fires: bool) -> None:
    on = D(2021, 3, 1)  # 8.8 years
    kg = _weight_at_modified_z(z, on)
    p = patient(body_measurements=[{"date": on, "weight_kg": kg, "height_cm": None}])
    assert rules(checks.growth(p)) == (["weight_for_age"] if fires else [])


def test_growth_is_not_judged_outside_two_to_twenty_years() -> None:
    early = D(2013, 5, 1)  # 1 year old: CDC 2000 for 2-20 years only (WHO under 2 not shipped)
    p = patient(body_measurements=[{"date": early, "weight_kg": 200.0, "height_cm": None}])
    assert checks.growth(p) == []
    p.sex = "unknown"
    p.sheets["body_measurements"][0]["date"] = D(2021, 1, 1)
    assert checks.growth(p) == []


def test_height_for_age_upper_limit_is_four() -> None:
    on = D(2021, 3, 1)
    lms = lms_at("height_cm", "female", checks.age_in_months("2012-05", on) or 0)
    assert lms is not None
    half = (lms.value_at(2) - lms.M) / 2
    inside = patient(
        body_measurements=[{"date": on, "weight_kg": None, "height_cm": lms.M + 3.99 * half}]
    )
    outside = patient(
        body_measurements=[{"date": on, "weight_kg": None, "height_cm": lms.M + 4.01 * half}]
    )
    assert checks.growth(inside) == []
    assert rules(checks.growth(outside)) == ["height_for_age"]


def test_chronology() -> None:
    course = {"course_no": 1, "start_date": D(2021, 3, 1), "stop_date": D(2021, 2, 28)}
    p = patient(
        courses=[course],
        doses=[{"course_no": 1, "date": D(2021, 2, 28)}, {"course_no": 1, "date": D(2021, 3, 1)}],
        responses=[
            {"course_no": 1, "date": D(2021, 2, 1)},
            {"course_no": 1, "date": D(2021, 3, 1)},
        ],
    )
    found = checks.chronology(p)
    assert [(f.rule, f.sheet, f.record_pk) for f in found] == [
        ("stop_before_start", "courses", 1),
        ("dose_before_course", "doses", 1),
        ("response_before_course", "responses", 1),
    ]
    p.sheets["courses"][0]["stop_date"] = D(2021, 3, 1)  # stopping on the day it starts is possible
    assert rules(checks.chronology(p)) == ["dose_before_course", "response_before_course"]


def test_record_after_death() -> None:
    p = patient(labs=[{"date": D(2024, 1, 1), "analyte": "alt", "value": 1.0, "unit": "U/L"},
                      {"date": D(2024, 1, 2), "analyte": "alt", "value": 1.0, "unit": "U/L"}])  # fmt: skip
    assert checks.chronology(p) == []  # alive: last follow-up is not a death date
    p.vital_status = "deceased"
    found = checks.chronology(p)
    assert [(f.rule, f.record_pk) for f in found] == [("record_after_death", 2)]


def test_same_day_weights_that_disagree() -> None:
    p = patient(
        body_measurements=[{"date": D(2021, 1, 1), "weight_kg": 30.0, "height_cm": None}],
        doses=[{"date": D(2021, 1, 1), "course_no": 1, "weight_kg": 30.0},
               {"date": D(2021, 1, 2), "course_no": 1, "weight_kg": 31.0}],
    )  # fmt: skip
    assert checks.duplicates(p) == []
    p.sheets["doses"][0]["weight_kg"] = 30.5
    assert [(f.rule, f.sheet, f.record_pk) for f in checks.duplicates(p)] == [
        ("weight_disagrees", "doses", 1)
    ]


@pytest.mark.parametrize(
    ("after", "fires"), [(36.0, False), (36.01, True), (24.0, False), (23.99, True)]
)
def test_weight_change_over_twenty_percent(after: float, fires: bool) -> None:
    p = patient(body_measurements=[{"date": D(2021, 1, 1), "weight_kg": 30.0, "height_cm": None},
                                   {"date": D(2021, 4, 1), "weight_kg": after, "height_cm": None}])  # fmt: skip
    found = checks.weight_change(p)
    assert rules(found) == (["weight_change"] if fires else [])
    if fires:
        assert found[0].record_pk == 2


def test_unit_other_than_the_centres_usual() -> None:
    labs = [{"date": D(2021, 1, d), "analyte": "alt", "value": 1.0, "unit": u}
            for d, u in ((1, "U/L"), (2, "U/L"), (3, "µkat/L"))]  # fmt: skip
    p = patient(labs=labs)
    usual = checks.usual_units([p])
    assert usual == {("BCN", "alt"): "U/L"}
    assert [(f.rule, f.record_pk, f.value) for f in checks.unit_unusual(p, usual)] == [
        ("unit_unusual", 3, "µkat/L")
    ]


def test_finding_ids_are_stable_and_distinct() -> None:
    p = patient(labs=[{"date": D(2021, 1, 1), "analyte": "alt", "value": -1.0, "unit": "U/L"},
                      {"date": D(2021, 1, 2), "analyte": "alt", "value": -2.0, "unit": "U/L"}])  # fmt: skip
    first = [f.id for f in checks.impossible_values(p)]
    again = [f.id for f in checks.impossible_values(p)]
    assert first == again
    assert len(set(first)) == 2
