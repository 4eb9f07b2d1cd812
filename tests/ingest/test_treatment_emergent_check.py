"""An adverse event assigned to a course that began after its onset: a located warning (issue 18.2)."""

from __future__ import annotations

from pathlib import Path

from jakreg.study import check_path
from tests.studydata import TODAY, with_rows, write_study

AE = {
    "patient_id": "BCN-01",
    "course_no": 1,
    "term": "Lung infection",
    "category": "infection",
    "onset_date": "2021-02-10",  # course 1 starts 2021-03-01
    "grade": 3,
    "serious": "yes",
    "attribution": "probable",
}


def test_onset_before_the_course_is_a_located_warning(tmp_path: Path) -> None:
    checked = check_path(write_study(tmp_path / "s", with_rows("adverse_events", AE)), today=TODAY)
    assert checked.log.ok
    [warning] = checked.log.kept
    assert warning.severity.value == "warning"
    assert str(warning) == (
        "adverse_events.csv, sheet adverse_events, row 2, column onset_date: the onset is before "
        "course 1 began (2021-03-01), so the event is not counted as treatment-emergent (under "
        "therapy) (value '2021-02-10'). Fix: check the onset date and the course_no; leave "
        "course_no blank for an event that began before therapy"
    )


def test_onset_on_the_start_day_or_blank_course_is_not_warned(tmp_path: Path) -> None:
    on_start = {**AE, "onset_date": "2021-03-01"}
    no_course = {**AE, "course_no": ""}
    sheets = with_rows("adverse_events", on_start, no_course)
    checked = check_path(write_study(tmp_path / "s", sheets), today=TODAY)
    assert checked.log.kept == []
