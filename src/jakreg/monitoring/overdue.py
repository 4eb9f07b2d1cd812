"""Overdue visits into the notification outbox (`jakreg.notify`): one event per overdue visit, queued once."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.monitoring.types import VisitStatus
from jakreg.notify.outbox import enqueue
from jakreg.store.workflow import OutboxEvent


def overdue_summary(s: VisitStatus) -> str:
    """Names and dates only (the outbox refuses measured values)."""
    return (f"visit {s.label} of course {s.course_id} ({s.drug}) overdue: its window closed on "
            f"{s.window_end.isoformat()}")  # fmt: skip


def queue_overdue_visits(session: Session, statuses: Iterable[VisitStatus]) -> int:
    """Queue a `visit_overdue` event for the centre's users for every overdue visit not queued before;
    the number queued. Runs in the caller's transaction; a second run with the same state queues nothing."""
    overdue = [s for s in statuses if s.status == "overdue"]
    if not overdue:
        return 0
    query = select(OutboxEvent.patient_id, OutboxEvent.summary).where(
        OutboxEvent.kind == "visit_overdue"
    )
    known = {(patient, summary) for patient, summary in session.execute(query)}
    queued = 0
    for s in overdue:
        summary = overdue_summary(s)
        if (s.pseudonym, summary) in known:
            continue
        enqueue(session, "visit_overdue", summary=summary, centre=s.centre, patient_id=s.pseudonym,
                link=f"/patients/{s.pseudonym}")  # fmt: skip
        known.add((s.pseudonym, summary))
        queued += 1
    return queued
