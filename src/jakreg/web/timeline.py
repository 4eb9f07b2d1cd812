"""A patient's history as one dated list: courses, doses, assessments, labs with CTCAE grades, adverse
events, responses, transplants. Pure: built from records, tested as data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jakreg.store.tables import (
    AdverseEvent,
    Assessment,
    Base,
    Dose,
    Hsct,
    LabResult,
    TreatmentCourse,
    TreatmentResponse,
)


@dataclass(frozen=True)
class Entry:
    date: dt.date
    kind: str  # the sheet it comes from
    title: str
    detail: str
    grade: int | None = None  # CTCAE grade, for labs and adverse events
    pk: int | None = None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _course(c: TreatmentCourse) -> list[Entry]:
    out = [
        Entry(c.start_date, "courses", f"Course {c.course_no} started: {c.drug}",
              _fmt(c.indication), pk=c.id)
    ]  # fmt: skip
    if c.stop_date is not None:
        detail = _fmt(c.stop_reason) + (f" ({c.stop_detail})" if c.stop_detail else "")
        out.append(Entry(c.stop_date, "courses", f"Course {c.course_no} stopped", detail, pk=c.id))
    return out


def _dose(d: Dose) -> Entry:
    per_kg = f"; {d.mg_per_kg_day:.2f} mg/kg/day" if d.mg_per_kg_day is not None else ""
    return Entry(
        d.date, "doses", f"Dose (course {d.course_no})",
        f"{_fmt(d.mg_per_dose)} mg × {_fmt(d.doses_per_day)}/day{per_kg}", pk=d.id,
    )  # fmt: skip


def _assessment(a: Assessment) -> Entry:
    return Entry(a.date, "assessments", f"{a.score} assessment",
                 f"total {_fmt(a.total)} ({a.assessor_role})", pk=a.id)  # fmt: skip


def _lab(lab: LabResult) -> Entry:
    graded = (
        f"; CTCAE {lab.ctcae_term} grade {lab.ctcae_grade}" if lab.ctcae_grade is not None else ""
    )
    return Entry(lab.date, "labs", f"Lab: {lab.analyte}",
                 f"{_fmt(lab.value)} {lab.unit}{graded}", lab.ctcae_grade, pk=lab.id)  # fmt: skip


def _adverse_event(ae: AdverseEvent) -> list[Entry]:
    out = [
        Entry(ae.onset_date, "adverse_events", f"Adverse event: {ae.term}",
              f"{ae.category}; serious {ae.serious}; {ae.attribution}", ae.grade, pk=ae.id)
    ]  # fmt: skip
    if ae.resolution_date is not None:
        out.append(Entry(ae.resolution_date, "adverse_events", f"Resolved: {ae.term}", "",
                         pk=ae.id))  # fmt: skip
    return out


def _response(r: TreatmentResponse) -> Entry:
    what = r.manifestation or "global"
    return Entry(r.date, "responses", f"Response (course {r.course_no}): {r.response}", what,
                 pk=r.id)  # fmt: skip


def _hsct(h: Hsct) -> Entry:
    return Entry(h.date, "hsct", "HSCT", _fmt(h.indication), pk=h.id)


def build_timeline(records: dict[str, list[Base]]) -> list[Entry]:
    """Every dated event of one patient, oldest first (same day: in sheet order)."""
    entries: list[Entry] = []
    for obj in records.get("courses", []):
        entries.extend(_course(obj))  # type: ignore[arg-type]
    entries.extend(_dose(o) for o in records.get("doses", []))  # type: ignore[arg-type]
    entries.extend(_assessment(o) for o in records.get("assessments", []))  # type: ignore[arg-type]
    entries.extend(_lab(o) for o in records.get("labs", []))  # type: ignore[arg-type]
    for obj in records.get("adverse_events", []):
        entries.extend(_adverse_event(obj))  # type: ignore[arg-type]
    entries.extend(_response(o) for o in records.get("responses", []))  # type: ignore[arg-type]
    entries.extend(_hsct(o) for o in records.get("hsct", []))  # type: ignore[arg-type]
    order = ["courses", "doses", "assessments", "labs", "adverse_events", "responses", "hsct"]
    return sorted(entries, key=lambda e: (e.date, order.index(e.kind)))
