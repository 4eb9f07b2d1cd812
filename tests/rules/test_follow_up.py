"""Time on drug, calendar months, censoring and age from a birth year-month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from jakreg.rules.follow_up import (
    InvalidDatesError,
    age_years,
    birth_date_assumed,
    months_between,
    time_on_drug,
)


def test_months_convention_examples() -> None:
    assert months_between(date(2019, 3, 15), date(2020, 9, 15)) == 18.0
    assert months_between(date(2019, 1, 15), date(2019, 2, 1)) == pytest.approx(17 / 31)
    assert months_between(date(2020, 1, 1), date(2020, 1, 1)) == 0.0


def _months_by_relativedelta(start: date, end: date) -> float:
    # the definition the arithmetic replaces (dateutil), as the second implementation
    rd = relativedelta(end, start)
    whole = rd.years * 12 + rd.months
    anchor = start + relativedelta(months=whole)
    nxt = start + relativedelta(months=whole + 1)
    return whole + (end - anchor).days / (nxt - anchor).days


@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)), st.integers(0, 4000))
def test_months_equal_dateutil(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    assert months_between(start, end) == _months_by_relativedelta(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2020, 1, 31), date(2020, 2, 29)), (date(2020, 1, 31), date(2020, 3, 30)),
     (date(2019, 1, 31), date(2019, 2, 28)), (date(2020, 2, 29), date(2021, 2, 28)),
     (date(2020, 3, 31), date(2020, 4, 30)), (date(2019, 12, 31), date(2020, 1, 1))],
)  # fmt: skip
def test_months_at_month_ends_equal_dateutil(start: date, end: date) -> None:
    assert months_between(start, end) == _months_by_relativedelta(start, end)


def test_age_from_birth_year_month() -> None:
    assert age_years("2011-01", date(2019, 7, 15)).years == 8.5
    assert age_years((2011, 1), date(2019, 7, 15)).years == 8.5
    assert birth_date_assumed("2011-01") == date(2011, 1, 15)
    with pytest.raises(InvalidDatesError):
        age_years("2011-13", date(2019, 7, 15))
    with pytest.raises(InvalidDatesError):
        age_years("Jan 2011", date(2019, 7, 15))


def test_stopped_before_cutoff_is_an_event() -> None:
    t = time_on_drug(date(2019, 3, 15), stop=date(2020, 9, 15), cutoff=date(2022, 1, 1))
    assert t.event
    assert not t.censored
    assert t.months == 18.0
    assert t.days == 550
    assert t.end_reason == "stopped"


def test_still_on_drug_is_censored_at_last_follow_up_or_cutoff() -> None:
    t = time_on_drug(date(2019, 3, 15), last_follow_up=date(2019, 9, 15), cutoff=date(2022, 1, 1))
    assert t.censored
    assert t.months == 6.0
    t2 = time_on_drug(date(2019, 3, 15), stop=date(2023, 1, 1), cutoff=date(2020, 3, 15))
    assert t2.censored
    assert t2.months == 12.0
    assert t2.end == date(2020, 3, 15)
    t3 = time_on_drug(date(2019, 3, 15), stop=date(2020, 3, 15), cutoff=date(2020, 3, 15))
    assert t3.event  # stopped on the cut-off day: seen


def test_impossible_dates_are_typed_errors() -> None:
    with pytest.raises(InvalidDatesError):
        time_on_drug(date(2020, 1, 1), stop=date(2019, 1, 1), cutoff=date(2021, 1, 1))
    with pytest.raises(InvalidDatesError):
        time_on_drug(date(2020, 1, 1), cutoff=date(2019, 1, 1))


@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(-600, 600))
def test_add_months_is_relativedelta(start: date, months: int) -> None:
    from jakreg.rules.follow_up import add_months

    assert add_months(start, months) == start + relativedelta(months=months)
