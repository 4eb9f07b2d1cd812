"""The audit trail as the caller may read it, filtered; the scoping is Scope.audit_select."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jakreg.store.audit_rows import RowChange, RowFilter
from jakreg.store.tables import AuditEvent
from jakreg.web.scope import Scope

AUDIT_LIMIT = 500
BAD_DATE = "{what} is not a date; write it as YYYY-MM-DD"


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    entity: str = ""
    patient_id: str = ""
    centre: str = ""
    since: str = ""
    until: str = ""


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def audit_rows(scope: Scope, f: AuditFilter) -> tuple[list[RowChange], str]:
    """Row changes newest first (an import's batch events row by row), at most AUDIT_LIMIT; the
    second value names a filter that could not be read."""
    stmt = scope.audit_select()
    problem = ""
    if f.actor:
        stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.entity:
        stmt = stmt.where(AuditEvent.entity == f.entity)
    # action, patient and centre: a batch event answers them per row
    rows = RowFilter(action=f.action, patient_id=f.patient_id, centre=f.centre)
    for text, after in ((f.since, True), (f.until, False)):
        if not text:
            continue
        day = _day(text)
        if day is None:
            problem = BAD_DATE.format(what=repr(text))
            continue
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
        if after:
            stmt = stmt.where(AuditEvent.at >= start)
        else:
            stmt = stmt.where(AuditEvent.at < start + dt.timedelta(days=1))
    stmt = stmt.order_by(AuditEvent.id.desc())
    return scope.audit_changes(stmt, rows, AUDIT_LIMIT), problem
