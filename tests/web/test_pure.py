"""The pure parts of the server, as data: form fields from the row classes, the timeline."""

from __future__ import annotations

import datetime as dt

from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.store.tables import AdverseEvent, LabResult, TreatmentCourse
from jakreg.web.entry import SHEET_TITLES
from jakreg.web.forms import field_views, form_values
from jakreg.web.routes.api import SheetName
from jakreg.web.scope import CHILD_SHEETS
from jakreg.web.timeline import build_timeline


def test_every_sheet_has_a_title_and_an_api_name() -> None:
    assert set(SHEET_TITLES) == set(SHEETS_BY_NAME)
    assert [s.value for s in SheetName] == list(CHILD_SHEETS)


def test_form_fields_follow_the_row_class() -> None:
    views = {v.name: v for v in field_views(SHEETS_BY_NAME["courses"], {"course_no": 1.0})}
    assert list(views) == SHEETS_BY_NAME["courses"].columns
    assert views["drug"].kind == "select"
    assert "ruxolitinib" in views["drug"].options
    assert views["start_date"].kind == "date"
    assert views["start_date"].required
    assert views["course_no"].value == "1"
    assert views["indication"].kind == "textarea"
    dose = {v.name: v for v in field_views(SHEETS_BY_NAME["doses"], {})}
    assert dose["weight_kg"].unit == "kg"


def test_blank_form_fields_are_blank_cells() -> None:
    spec = SHEETS_BY_NAME["labs"]
    assert form_values({"date": " ", "value": "3", "other": "x"}, spec) == {"value": "3"}


def test_timeline_orders_events_and_carries_grades() -> None:
    day = dt.date(2021, 3, 1)
    course = TreatmentCourse(id=1, course_no=1, drug="ruxolitinib", start_date=day,
                             stop_date=dt.date(2021, 6, 1), stop_reason="adverse_event")  # fmt: skip
    lab = LabResult(id=2, date=dt.date(2021, 4, 1), analyte="alt", value=130.0, unit="U/L",
                    ctcae_term="ALT increased", ctcae_grade=2)  # fmt: skip
    ae = AdverseEvent(id=3, term="Lung infection", category="infection", serious="yes",
                      attribution="possible", onset_date=day, grade=3)  # fmt: skip
    entries = build_timeline({"courses": [course], "labs": [lab], "adverse_events": [ae]})
    assert [(e.date.isoformat(), e.kind, e.grade) for e in entries] == [
        ("2021-03-01", "courses", None),
        ("2021-03-01", "adverse_events", 3),
        ("2021-04-01", "labs", 2),
        ("2021-06-01", "courses", None),
    ]
    assert entries[-1].title == "Course 1 stopped"
