"""Descriptive summaries: type 7 quartiles, SD with ddof = 1, missing values counted."""

import json
import math

import pytest

from jakreg.stats import describe_categorical, describe_continuous


def test_quartiles_type7_by_hand() -> None:
    """Type 7: position h = (n − 1)p + 1, linear between order statistics.

    For 1, 2, 3, 4: q1 at h = 1.75 → 1.75; median at h = 2.5 → 2.5; q3 at h = 3.25 → 3.25.
    """
    s = describe_continuous([4, 1, None, 3, 2])
    assert (s.q1, s.median, s.q3) == (1.75, 2.5, 3.25)
    assert (s.minimum, s.maximum, s.n, s.n_missing) == (1.0, 4.0, 4, 1)
    assert "type 7" in s.quantile_method


def test_mean_and_sample_sd_by_hand() -> None:
    """2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample SD sqrt(32 / 7)."""
    s = describe_continuous([2, 4, 4, 4, 5, 5, 7, 9])
    assert s.mean == 5.0
    assert s.sd == pytest.approx(math.sqrt(32 / 7), rel=1e-12)


def test_founding_study_ranges_are_reported() -> None:
    """The published 'median 15.99 (5.2–40)' form comes out of summary()."""
    s = describe_continuous([5.2, 15.99, 40.0])
    assert s.summary().startswith("median 15.99 (range 5.2–40;")


@pytest.mark.parametrize(
    ("values", "reason"),
    [([], "no values"), ([None, float("nan")], "no recorded values")],
)
def test_nothing_to_summarise_is_not_computable(values: list[float | None], reason: str) -> None:
    s = describe_continuous(values)
    assert not s.computable
    assert s.reason == reason
    assert s.n_missing == len(values)
    json.dumps(s.to_dict(), allow_nan=False)
    assert s.summary().startswith("not computable")


def test_single_value_has_no_sd() -> None:
    s = describe_continuous([7.5])
    assert (s.median, s.q1, s.q3, s.sd) == (7.5, 7.5, 7.5, None)
    assert s.reason == "SD needs at least 2 values"
    assert s.to_dict()["sd"] is None


def test_categorical_percentages_are_of_known_values() -> None:
    """9 ruxolitinib, 1 baricitinib, 2 unknown: 90% and 10% of the 10 known, not of 12."""
    values = ["ruxolitinib"] * 9 + ["baricitinib", None, None]
    s = describe_categorical(values, categories=["ruxolitinib", "baricitinib", "tofacitinib"])
    assert (s.n_known, s.n_missing) == (10, 2)
    assert [(c.category, c.count, c.percent_of_known) for c in s.counts] == [
        ("ruxolitinib", 9, 90.0),
        ("baricitinib", 1, 10.0),
        ("tofacitinib", 0, 0.0),
    ]
    assert s.summary()[0] == "ruxolitinib: 9/10 (90%)"


def test_categorical_unlisted_values_are_kept_and_all_missing_is_safe() -> None:
    s = describe_categorical(["a", "b"], categories=["a"])
    assert [c.category for c in s.counts] == ["a", "b"]
    empty = describe_categorical([None, None])
    assert (empty.n_known, empty.n_missing, empty.counts) == (0, 2, ())
    json.dumps(empty.to_dict(), allow_nan=False)
