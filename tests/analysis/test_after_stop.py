"""Outcomes after stopping, enumerated by hand."""

from __future__ import annotations

from jakreg.analysis.after_stop import (
    ALIVE_OFF,
    DIED,
    HSCT,
    RESTART,
    SWITCH,
    UNKNOWN,
    after_stop_section,
)
from tests.analysis.questions_build import CUTOFF, D, course, patient, views


def test_each_outcome_and_the_counts_by_reason() -> None:
    s = after_stop_section(views(
        patient("A", course(1, "ruxolitinib", D(2020, 1, 1), D(2020, 6, 1), "adverse_event"),
                course(2, "ruxolitinib", D(2020, 9, 1), D(2021, 1, 1), "no_response"),
                course(3, "baricitinib", D(2021, 2, 1))),
        patient("B", course(1, "ruxolitinib", D(2020, 1, 1), D(2020, 6, 1), "hsct"),
                course(2, "ruxolitinib", D(2021, 1, 1)), hsct=[D(2020, 7, 1)]),
        patient("C", course(1, "ruxolitinib", D(2020, 1, 1), D(2020, 6, 1), "adverse_event"),
                vital_status="deceased"),
        patient("D", course(1, "ruxolitinib", D(2020, 1, 1), D(2020, 6, 1), "other"),
                last_follow_up=D(2021, 6, 1)),
        patient("E", course(1, "ruxolitinib", D(2020, 1, 1), D(2020, 6, 1)),
                vital_status="unknown"),
        # A stop after the cut-off is not seen.
        patient("F", course(1, "ruxolitinib", D(2020, 1, 1), D(2024, 6, 1), "other")),
    ), CUTOFF)  # fmt: skip
    got = [(x.patient, x.course_no, x.reason, x.outcome) for x in s.stops]
    assert got == [
        ("A", 1, "adverse_event", RESTART),
        ("A", 2, "no_response", SWITCH),
        ("B", 1, "hsct", HSCT),
        ("C", 1, "adverse_event", DIED),
        ("D", 1, "other", ALIVE_OFF),
        ("E", 1, "not stated", UNKNOWN),
    ]
    assert s.stops[0].months_after_stop == 3.0
    d = s.to_dict()
    assert d["n_stops"] == 6
    assert d["by_reason"]["adverse_event"][RESTART] == 1
    assert d["by_reason"]["adverse_event"][DIED] == 1
    assert sum(d["by_reason"]["adverse_event"].values()) == 2


def test_no_stops() -> None:
    s = after_stop_section(views(patient("A", course(1, "ruxolitinib", D(2020, 1, 1)))), CUTOFF)
    assert s.to_dict()["by_reason"] == {}
