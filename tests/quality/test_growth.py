"""The shipped CDC 2000 LMS table against the percentiles CDC publishes in the same files.

CDC's wtage.csv and statage.csv carry P3, P50 and P97 next to L, M and S; the shipped file keeps them so
this test can check the z-score code against a second source: the z of P97 must equal
scipy.stats.norm.ppf(0.97) and the z of P3 norm.ppf(0.03).
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest
from scipy.stats import norm

from jakreg.quality.growth import Lms, lms_at, table


def _rows() -> list[dict[str, str]]:
    path = resources.files("jakreg.quality").joinpath("data/cdc2000_lms.csv")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_table_covers_both_sexes_and_measures_from_2_to_20_years() -> None:
    t = table()
    assert set(t) == {("weight_kg", 1), ("weight_kg", 2), ("height_cm", 1), ("height_cm", 2)}
    for ages, _ in t.values():
        assert ages[0] == 24
        assert ages[-1] == 240
        assert ages == sorted(ages)


@pytest.mark.parametrize("row", _rows()[::37])
def test_z_of_published_percentiles(row: dict[str, str]) -> None:
    lms = Lms(float(row["L"]), float(row["M"]), float(row["S"]))
    assert lms.z(float(row["P97"])) == pytest.approx(norm.ppf(0.97), abs=1e-6)
    assert lms.z(float(row["P3"])) == pytest.approx(norm.ppf(0.03), abs=1e-6)
    assert lms.z(float(row["P50"])) == pytest.approx(0.0, abs=1e-9)
    assert lms.value_at(float(norm.ppf(0.97))) == pytest.approx(float(row["P97"]), rel=1e-7)


def test_modified_z_is_two_at_the_z2_value_and_linear_beyond() -> None:
    lms = lms_at("weight_kg", "male", 100.0)
    assert lms is not None
    assert lms.modified_z(lms.value_at(2)) == pytest.approx(2.0)
    assert lms.modified_z(lms.value_at(-2)) == pytest.approx(-2.0)
    step = (lms.value_at(2) - lms.M) / 2
    assert lms.modified_z(lms.M + 8 * step) == pytest.approx(8.0)


def test_interpolates_between_table_ages() -> None:
    a, b = lms_at("height_cm", "female", 24.5), lms_at("height_cm", "female", 25.5)
    mid = lms_at("height_cm", "female", 25.0)
    assert a is not None
    assert b is not None
    assert mid is not None
    assert pytest.approx((a.M + b.M) / 2) == mid.M
    assert lms_at("height_cm", "female", 23.9) is None
    assert lms_at("height_cm", "female", 240.1) is None
