"""Small hand-made patients for the open-question analyses (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jakreg.analysis.data import (
    AdverseEventData,
    AssessmentData,
    CourseData,
    DoseData,
    LabData,
    PatientData,
    ResponseData,
)
from jakreg.analysis.prepare import PatientView, view_patients

D = dt.date
CUTOFF = D(2024, 1, 1)


def course(no: int, drug: str, start: dt.date, stop: dt.date | None = None,
           reason: str | None = None, azole: str = "no") -> CourseData:  # fmt: skip
    return CourseData(no, drug, start, stop, reason if stop else None, None, None, None, None,
                      azole)  # fmt: skip


def ae(onset: dt.date, term: str = "Nausea", category: str = "other", grade: int | None = 1,
       serious: str = "no", course_no: int | None = None) -> AdverseEventData:  # fmt: skip
    return AdverseEventData(course_no, term, category, onset, grade, serious, "possible")


def lab(on: dt.date, term: str, grade: int, analyte: str = "x") -> LabData:
    return LabData(on, analyte, term, grade, "5.0", None)


def dose(no: int, on: dt.date, kg: float | None, m2: float | None = None) -> DoseData:
    return DoseData(no, on, 5.0, 2.0, kg, m2)


def idda(on: dt.date, total: float | None, version: str = "1") -> AssessmentData:
    return AssessmentData(on, "IDDA", version, total)


def response(no: int, on: dt.date, value: str) -> ResponseData:
    return ResponseData(no, on, None, value)


def patient(pid: str, *courses: CourseData, centre: str = "C1",
            last_follow_up: dt.date | None = None, **rows: Any) -> PatientData:  # fmt: skip
    return PatientData(
        patient_id=pid,
        centre=centre,
        sex="female",
        birth_year_month="2010-01",
        source="registry",
        citation=None,
        last_follow_up=last_follow_up,
        vital_status=rows.pop("vital_status", "alive"),
        courses=tuple(courses),
        **{k: tuple(v) for k, v in rows.items()},
    )


def views(*patients: PatientData, cutoff: dt.date = CUTOFF) -> tuple[PatientView, ...]:
    return view_patients(patients, cutoff)[0]
