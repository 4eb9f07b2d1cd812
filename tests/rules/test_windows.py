"""Choosing 'before' and 'under' assessments, and saying why the others were not chosen."""

from __future__ import annotations

from datetime import date

import pytest

from jakreg.rules.base import RuleStatus
from jakreg.rules.windows import (
    LANDMARK_6_MONTHS,
    Assessment,
    InvalidCourseError,
    WindowRule,
    choose_assessments,
)

START = date(2020, 1, 1)
STOP = date(2021, 1, 1)


def a(id_: str, y: int, m: int, d: int, total: float | None = 10.0) -> Assessment:
    return Assessment(id_, date(y, m, d), total)


def test_default_rule_before_and_under_with_reasons() -> None:
    assessments = [
        a("old", 2019, 7, 5),  # 180 days before start
        a("b1", 2019, 11, 1),
        a("b2", 2019, 12, 15),
        a("u1", 2020, 6, 1),
        a("u2", 2020, 12, 1),
        a("after", 2021, 2, 1),
        a("blank", 2020, 7, 1, total=None),
    ]
    c = choose_assessments(START, STOP, assessments)
    assert c.before is not None
    assert c.before.id == "b2"
    assert c.under is not None
    assert c.under.id == "u2"
    assert c.not_chosen == {
        "old": "outside the 90-day window before start (180 days before)",
        "b1": "superseded by a later assessment before start (b2 on 2019-12-15)",
        "u1": "superseded by a later assessment on therapy (u2 on 2020-12-01)",
        "after": "after the course stopped (31 days after stop)",
        "blank": "no total recorded",
    }
    assert c.status is RuleStatus.CONFIGURABLE


def test_start_day_counts_as_before_by_default_and_is_configurable() -> None:
    on_start = [a("s", 2020, 1, 1)]
    assert choose_assessments(START, STOP, on_start).before == on_start[0]
    flipped = choose_assessments(
        START, STOP, on_start, WindowRule(start_day_counts_as_before=False)
    )
    assert flipped.before is None
    assert flipped.under == on_start[0]


def test_window_edges() -> None:
    edge = [a("e", 2019, 10, 3)]  # exactly 90 days before start: inside
    assert choose_assessments(START, STOP, edge).before == edge[0]
    outside = [a("o", 2019, 10, 2)]  # 91 days before
    c = choose_assessments(START, STOP, outside)
    assert c.before is None
    assert c.before_reason == "no assessment with a total within 90 days before start"
    on_stop = [a("x", 2021, 1, 1)]  # on the stop day: still on therapy
    assert choose_assessments(START, STOP, on_stop).under == on_stop[0]


def test_ongoing_course_and_cutoff() -> None:
    late = [a("l", 2023, 1, 1)]
    assert choose_assessments(START, None, late).under == late[0]
    c = choose_assessments(START, None, late, cutoff=date(2022, 1, 1))
    assert c.under is None
    assert c.not_chosen["l"] == "after the data cut-off (2022-01-01)"
    assert c.under_reason == "no assessment on therapy"


def test_landmark_mode() -> None:
    assessments = [a("m5", 2020, 6, 1), a("m7", 2020, 7, 15), a("m11", 2020, 12, 1)]
    c = choose_assessments(START, STOP, assessments, LANDMARK_6_MONTHS)
    assert c.under is not None
    assert c.under.id == "m7"
    assert c.not_chosen["m5"] == "further from the 6-month landmark than m7 (2020-07-15)"
    assert c.not_chosen["m11"].startswith("more than 60 days from the 6-month landmark")


def test_landmark_nearest_and_tie() -> None:
    assessments = [a("early", 2020, 6, 21), a("late", 2020, 7, 11)]  # 10 days either side
    c = choose_assessments(START, STOP, assessments, LANDMARK_6_MONTHS)
    assert c.under is not None
    assert c.under.id == "early"
    assert "further from the 6-month landmark than early" in c.not_chosen["late"]


def test_invalid_course() -> None:
    with pytest.raises(InvalidCourseError):
        choose_assessments(STOP, START, [])


@pytest.mark.parametrize("mode", ["last", "landmark"])
def test_same_date_choice_does_not_depend_on_list_order(mode: str) -> None:
    """Two assessments on one date: the id that sorts last wins in every order (it was the
    later-listed one, so reversing the list changed the result)."""
    import itertools

    rule = LANDMARK_6_MONTHS if mode == "landmark" else WindowRule()
    same_before = [a("b-x", 2019, 12, 20, 7.0), a("b-y", 2019, 12, 20, 9.0)]
    same_under = [a("u-x", 2020, 7, 1, 3.0), a("u-y", 2020, 7, 1, 5.0), a("u-a", 2020, 7, 1, 4.0)]
    chosen = set()
    for order in itertools.permutations(same_before + same_under):
        c = choose_assessments(START, STOP, list(order), rule)
        assert c.before is not None
        assert c.under is not None
        chosen.add((c.before.id, c.under.id, tuple(sorted(c.not_chosen.items()))))
    assert len(chosen) == 1
    [(before, under, _)] = chosen
    assert (before, under) == ("b-y", "u-y")
