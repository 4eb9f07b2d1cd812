"""Per-patient timelines (courses, dose changes, responses, adverse events, HSCT) for a swimmer plot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.analysis.treatment import course_doses


@dataclass(frozen=True)
class Bar:
    course_no: int
    drug: str
    start: dt.date
    end: dt.date
    ongoing: bool
    stop_reason: str | None
    dose_changes: tuple[dt.date, ...]


@dataclass(frozen=True)
class Mark:
    on: dt.date
    kind: str  # response | adverse_event | hsct
    label: str  # CR/PR/NR/NE, AE category and grade, "HSCT"


@dataclass(frozen=True)
class Lane:
    patient: str
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "courses": [
                {
                    "course_no": b.course_no,
                    "drug": b.drug,
                    "start": b.start.isoformat(),
                    "end": b.end.isoformat(),
                    "ongoing": b.ongoing,
                    "stop_reason": b.stop_reason,
                    "dose_changes": [d.isoformat() for d in b.dose_changes],
                }
                for b in self.bars
            ],
            "marks": [
                {"date": m.on.isoformat(), "kind": m.kind, "label": m.label} for m in self.marks
            ],
        }


def lanes(views: Sequence[PatientView], cutoff: dt.date) -> tuple[Lane, ...]:
    out: list[Lane] = []
    for v in sorted(views, key=lambda v: (v.first.start, v.patient_id)):
        bars = tuple(
            Bar(
                c.course_no,
                c.drug,
                c.start,
                c.time_on_drug.end,
                c.ongoing,
                c.stop_reason,
                tuple(d.on for d in course_doses(v, c, cutoff)[1:]),
            )
            for c in v.courses
        )
        marks: list[Mark] = []
        marks += [
            Mark(r.on, "response", r.response)
            for r in v.data.responses
            if r.manifestation is None and r.on <= cutoff
        ]
        marks += [
            Mark(e.onset, "adverse_event", f"{e.category} grade {e.grade or '?'}")
            for e in v.data.adverse_events
            if e.onset <= cutoff
        ]
        marks += [Mark(d, "hsct", "HSCT") for d in v.data.hsct if d <= cutoff]
        out.append(Lane(v.patient_id, bars, tuple(sorted(marks, key=lambda m: (m.on, m.kind)))))
    return tuple(out)
