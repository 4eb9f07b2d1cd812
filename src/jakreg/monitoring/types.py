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


# The counting rules the monitor, the dashboard and the report share (one definition each).
DUE_DAYS = 30  # "visits due in the next 30 days"


def due_soon(s: VisitStatus, as_of: dt.date) -> bool:
    """Due in the next DUE_DAYS days: due, upcoming or partial, with a window still open on ``as_of``
    or opening within DUE_DAYS of it."""
    return (
        s.status in ("due", "upcoming", "partial")
        and s.window_end >= as_of
        and s.window_start <= as_of + dt.timedelta(days=DUE_DAYS)
    )


def on_drug(start: dt.date, stop: dt.date | None, as_of: dt.date) -> bool:
    """A course is running on ``as_of``: started on or before it, not stopped by it."""
    return start <= as_of and (stop is None or stop > as_of)


def completeness_pct(done: int, partial: int, overdue: int) -> float | None:
    """done / (done + partial + overdue) in percent, one decimal; None when no visit counts."""
    base = done + partial + overdue
    return round(100 * done / base, 1) if base else None
