"""Mosteller BSA, mg/kg/day with the nearest measurement, cumulative mg, azole flag."""

from __future__ import annotations

import math
from datetime import date

import pytest

from jakreg.rules.base import InvalidValueError
from jakreg.rules.dosing import (
    BodyMeasurement,
    DoseRecord,
    ExposureRule,
    InvalidDatesError,
    MeasurementRule,
    azole_comedication,
    body_surface_area,
    bsa_mosteller,
    cumulative_exposure,
    dose_intensity,
)


def test_mosteller() -> None:
    # sqrt(180 × 80 / 3600) = sqrt(4) = 2 exactly
    assert bsa_mosteller(180, 80) == 2.0
    assert body_surface_area(120, 30).value == pytest.approx(math.sqrt(1.0))
    with pytest.raises(InvalidValueError):
        bsa_mosteller(0, 80)
    with pytest.raises(InvalidValueError):
        bsa_mosteller(180, float("inf"))


MEAS = [
    BodyMeasurement(date(2020, 1, 1), weight_kg=20, height_cm=110),
    BodyMeasurement(date(2020, 3, 1), weight_kg=22, height_cm=None),
    BodyMeasurement(date(2020, 9, 1), weight_kg=25, height_cm=118),
]


def test_nearest_weight_and_height_within_window() -> None:
    d = dose_intensity(DoseRecord(date(2020, 2, 20), 5, 2), MEAS)
    assert d.mg_per_day == 10
    assert d.weight_kg == 22  # 10 days after beats 50 days before
    assert d.weight_from == "measurement of 2020-03-01 (10 days after)"
    assert d.height_cm == 110  # nearest height within 90 days
    assert d.mg_per_kg_per_day == pytest.approx(10 / 22)
    assert d.mg_per_m2_per_day == pytest.approx(10 / math.sqrt(110 * 22 / 3600))


def test_tie_prefers_the_earlier_measurement() -> None:
    meas = [BodyMeasurement(date(2020, 1, 1), 20), BodyMeasurement(date(2020, 1, 21), 24)]
    assert dose_intensity(DoseRecord(date(2020, 1, 11), 5, 2), meas).weight_kg == 20


def test_weight_on_the_dose_record_wins() -> None:
    d = dose_intensity(DoseRecord(date(2020, 2, 20), 5, 2, weight_kg=21), MEAS)
    assert d.weight_kg == 21
    assert d.weight_from == "dose record"


def test_dose_without_usable_weight_is_flagged_not_guessed() -> None:
    d = dose_intensity(DoseRecord(date(2021, 6, 1), 5, 2), MEAS)
    assert d.flagged
    assert d.mg_per_kg_per_day is None
    assert d.mg_per_m2_per_day is None
    assert "mg/kg/day not derived: no weight within 90 days of the dose" in d.reason


def test_window_is_configurable() -> None:
    d = dose_intensity(DoseRecord(date(2021, 6, 1), 5, 2), MEAS, MeasurementRule(window_days=365))
    assert d.weight_kg == 25


def test_cumulative_exposure_integrates_between_records() -> None:
    doses = [DoseRecord(date(2020, 1, 1), 5, 2), DoseRecord(date(2020, 1, 11), 10, 2)]
    c = cumulative_exposure(
        doses, start=date(2020, 1, 1), stop=date(2020, 1, 21), cutoff=date(2021, 1, 1)
    )
    assert c.total_mg == 10 * 10 + 20 * 10
    assert c.days == 20
    counted = cumulative_exposure(
        doses,
        start=date(2020, 1, 1),
        stop=date(2020, 1, 21),
        cutoff=date(2021, 1, 1),
        rule=ExposureRule(count_stop_day=True),
    )
    assert counted.total_mg == 320


def test_cumulative_exposure_runs_to_cutoff_when_still_on_drug() -> None:
    doses = [DoseRecord(date(2020, 1, 1), 5, 2)]
    c = cumulative_exposure(doses, start=date(2020, 1, 1), stop=None, cutoff=date(2020, 1, 31))
    assert c.total_mg == 300
    c2 = cumulative_exposure(
        doses, start=date(2020, 1, 1), stop=date(2020, 6, 1), cutoff=date(2020, 1, 31)
    )
    assert c2.total_mg == 300  # a stop after the cut-off is not seen


def test_cumulative_exposure_with_gap_before_first_record_is_not_guessed() -> None:
    doses = [DoseRecord(date(2020, 1, 11), 5, 2)]
    c = cumulative_exposure(
        doses, start=date(2020, 1, 1), stop=date(2020, 1, 21), cutoff=date(2021, 1, 1)
    )
    assert c.total_mg is None
    assert c.covered_mg == 100
    assert c.uncovered_days == 10
    assert c.reason == "10 of 20 days have no dose record before them: total not derived"


def test_cumulative_exposure_rejects_stop_before_start() -> None:
    with pytest.raises(InvalidDatesError):
        cumulative_exposure(
            [], start=date(2020, 1, 2), stop=date(2020, 1, 1), cutoff=date(2021, 1, 1)
        )


@pytest.mark.parametrize(
    ("names", "matched"),
    [
        (["Itraconazole 100 mg"], ("itraconazole",)),
        (["POSACONAZOLE", "fluconazole"], ("fluconazole", "posaconazole")),
        (["isavuconazonium sulfate"], ("isavuconazonium",)),
        (["amphotericin B", "caspofungin"], ()),
        (["co-trimoxazole"], ()),
    ],
)
def test_azole_flag(names: list[str], matched: tuple[str, ...]) -> None:
    f = azole_comedication(names)
    assert f.matched == matched
    assert f.flagged is bool(matched)
    if matched:
        assert "no dose advice" in f.note


def test_azole_list_is_configurable() -> None:
    assert azole_comedication(["clotrimazole troche"], azoles=("clotrimazole",)).flagged
