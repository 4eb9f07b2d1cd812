"""What the monitoring functions return (plain dataclasses; the CLI and web render them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

STATUSES = ("done", "partial", "due", "upcoming", "overdue", "not_applicable")


@dataclass(frozen=True)
class VisitStatus:
    pseudonym: str
    centre: str
    course_id: int  # the course number within the patient
    drug: str
    visit: str
    label: str
    planned: dt.date
    window_start: dt.date
    window_end: dt.date
    status: str  # one of STATUSES
    missing: tuple[str, ...]  # required items with no record in the window
    protocol_version: str  # "name version (effective date)"
    reason: str = ""  # for not_applicable: course stopped / death / HSCT on DATE

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies every field (10x slower over 100k visits)
        return {
            "pseudonym": self.pseudonym, "centre": self.centre, "course_id": self.course_id,
            "drug": self.drug, "visit": self.visit, "label": self.label,
            "planned": self.planned.isoformat(), "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(), "status": self.status,
            "missing": list(self.missing), "protocol_version": self.protocol_version,
            "reason": self.reason,
        }  # fmt: skip


@dataclass(frozen=True)
class CentreSummary:
    centre: str
    patients_on_drug: int
    due_next_30_days: int
    overdue: int
    done: int
    partial: int
    completeness_pct: float | None  # done / (done + partial + overdue); None when no visit counts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
