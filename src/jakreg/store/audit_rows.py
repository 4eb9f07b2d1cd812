"""The audit trail row change by row change: per-row events and the rows of batch events, read alike.

Every reader of "who changed this record, when, from what" (replay, ``jakreg audit log``, the web's audit
page and API) goes through here, so none of them decodes a batch payload itself. A per-row event is one
``RowChange``; a batch event (jakreg.store.audit_batch) is one ``RowChange`` per row it holds, with the
event's id, time, actor and hash, the row's own action, record, patient and centre, its full after-image
and, for an update, its before-image (the columns that did not change are the same before and after).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from jakreg.store import audit_batch
from jakreg.store.audit import _json
from jakreg.store.tables import AuditBatch, AuditEvent

BATCH_ACTIONS = tuple(audit_batch.ROW_ACTION)


@dataclass(slots=True)  # not frozen: replay builds one per row change, and frozen init is slow
class RowChange:
    """One change to one record (or one login, export, ...), whichever kind of event holds it."""

    id: int  # the event's id (every row of a batch event shares it)
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_pk: int | None
    entity_key: str
    patient_id: str | None
    centre: str | None
    batch_pk: int | None
    hash: str  # the event's hash
    row: int | None = None  # the row's position in its batch event; None for a per-row event
    stored_before: str | None = None  # a per-row event's JSON text, as stored
    stored_after: str | None = None
    batch_before: dict[str, Any] | None = None  # a batch row's images, as its payload holds them
    batch_after: dict[str, Any] | None = None

    @property
    def before_values(self) -> dict[str, Any] | None:
        """The before-image (None for a create); parsed from the text each time it is asked for."""
        return _parsed(self.stored_before) if self.row is None else self.batch_before

    @property
    def after_values(self) -> dict[str, Any] | None:
        return _parsed(self.stored_after) if self.row is None else self.batch_after

    @property
    def before(self) -> str | None:
        """The before-image as JSON text (what a per-row event stores)."""
        return self.stored_before if self.row is None else _json(self.batch_before)

    @property
    def after(self) -> str | None:
        return self.stored_after if self.row is None else _json(self.batch_after)


def _parsed(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _single(e: AuditEvent) -> RowChange:
    return RowChange(
        e.id, e.at, e.actor, e.action, e.entity, e.entity_pk, e.entity_key, e.patient_id, e.centre,
        e.batch_pk, e.hash, None, e.before, e.after,
    )  # fmt: skip


def _batch(
    session: Session, e: AuditEvent, keep: Callable[[audit_batch.BatchRow], bool] | None = None
) -> list[RowChange]:
    stored = session.get(AuditBatch, e.id)
    if stored is None:
        return []  # jakreg audit verify names it
    data = audit_batch.decode(stored.payload)
    session.expunge(stored)
    action = audit_batch.ROW_ACTION[e.action]
    out = []
    for i, r in enumerate(audit_batch.batch_rows(data)):
        if keep is not None and not keep(r):
            continue
        before = None if r.before is None else {**r.after, **r.before}
        change = RowChange(
            e.id, e.at, e.actor, action, e.entity, r.pk, r.key, r.patient_id, r.centre,
            e.batch_pk, e.hash, i, None, None, before, r.after,
        )  # fmt: skip
        out.append(change)
    return out


@dataclass(frozen=True)
class RowFilter:
    """Conditions on a row change that a batch event can only answer row by row."""

    action: str = ""
    patient_id: str = ""
    centre: str = ""
    centres: frozenset[str] | None = None  # None: every centre

    def where(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` (over audit_event) narrowed to events that may hold a matching row: per-row events
        that match, and batch events whose summary columns do not rule them out."""
        is_batch = AuditEvent.action.in_(BATCH_ACTIONS)
        if self.action:
            batch_action = audit_batch.ACTIONS.get(self.action)
            stmt = stmt.where(
                AuditEvent.action == self.action
                if batch_action is None
                else AuditEvent.action.in_((self.action, batch_action))
            )
        for column, value in (
            (AuditEvent.patient_id, self.patient_id),
            (AuditEvent.centre, self.centre),
        ):
            if value:
                stmt = stmt.where(or_(column == value, _blank_batch(is_batch, column)))
        if self.centres is not None:
            stmt = stmt.where(
                or_(
                    AuditEvent.centre.in_(sorted(self.centres)),
                    _blank_batch(is_batch, AuditEvent.centre),
                )
            )
        return stmt

    def keeps(self, r: audit_batch.BatchRow) -> bool:
        return (
            (not self.patient_id or r.patient_id == self.patient_id)
            and (not self.centre or r.centre == self.centre)
            and (self.centres is None or r.centre in self.centres)
        )


def _blank_batch(is_batch: ColumnElement[bool], column: Any) -> ColumnElement[bool]:
    # a batch event names a patient or centre only when all its rows share it
    return and_(is_batch, column.is_(None))


def row_changes(
    session: Session,
    stmt: Select[Any],
    rows: RowFilter | None = None,
    *,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[RowChange]:
    """The row changes of the events ``stmt`` selects (in its order) that pass ``rows``; at most
    ``limit``. Events are read in pages, so a limit stops reading early."""
    f = rows or RowFilter()
    stmt = f.where(stmt)
    out: list[RowChange] = []
    page = 500
    offset = 0
    while True:
        events = list(session.scalars(stmt.limit(page).offset(offset)))
        for e in events:
            if e.action in audit_batch.ROW_ACTION:
                got = _batch(session, e, f.keeps)
                out.extend(reversed(got) if newest_first else got)
            else:
                out.append(_single(e))
            if limit is not None and len(out) >= limit:
                return out[:limit]
        if len(events) < page:
            return out
        offset += page


def record_changes(session: Session, entity: str, lo: int, hi: int) -> list[RowChange]:
    """Every change to the records ``lo``..``hi`` of one entity, in record id then trail order.
    Indexed both ways: per-row events by (entity, entity_pk, id), batches by (entity, min_pk, max_pk)."""
    table = AuditEvent.__table__
    per_row = session.execute(  # plain rows (the event's columns by name): no ORM objects to build
        select(*table.columns)
        .where(table.c.entity == entity, table.c.entity_pk.between(lo, hi))
        .order_by(table.c.entity_pk, table.c.id)
    )
    out = [_single(e) for e in per_row]  # type: ignore[arg-type]  # same attributes as AuditEvent
    ids = session.scalars(
        select(AuditBatch.event_id).where(
            AuditBatch.entity == entity, AuditBatch.min_pk <= hi, AuditBatch.max_pk >= lo
        )
    ).all()
    for event_id in ids:
        event = session.get(AuditEvent, event_id)
        if event is not None and event.action in audit_batch.ROW_ACTION:
            out.extend(_batch(session, event, lambda r: lo <= r.pk <= hi))
    if ids:
        out.sort(key=lambda c: (c.entity_pk, c.id, c.row or 0))
    return out


def record_history(session: Session, entity: str, pk: int) -> list[RowChange]:
    """Who changed one record, when, from what: its changes, oldest first."""
    return record_changes(session, entity, pk, pk)


def record_range(session: Session, entity: str) -> tuple[int, int] | None:
    """The smallest and largest record id the trail holds for an entity; None when it holds none."""
    lo1, hi1 = session.execute(
        select(func.min(AuditEvent.entity_pk), func.max(AuditEvent.entity_pk)).where(
            AuditEvent.entity == entity
        )
    ).one()
    lo2, hi2 = session.execute(
        select(func.min(AuditBatch.min_pk), func.max(AuditBatch.max_pk)).where(
            AuditBatch.entity == entity
        )
    ).one()
    los = [v for v in (lo1, lo2) if v is not None]
    his = [v for v in (hi1, hi2) if v is not None]
    return (min(los), max(his)) if los else None


def count_changes(session: Session) -> int:
    """Row changes in the trail: per-row events plus the rows of batch events."""
    single = session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action.not_in(BATCH_ACTIONS))
    )
    batched = session.scalar(select(func.coalesce(func.sum(AuditBatch.rows), 0)))
    return int(single or 0) + int(batched or 0)
