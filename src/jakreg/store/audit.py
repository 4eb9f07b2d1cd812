"""The audit trail: typed events written through one function, in the caller's transaction, hash-chained."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from jakreg.store import audit_batch
from jakreg.store.bulk import BulkInsert
from jakreg.store.tables import AuditBatch, AuditEvent

GENESIS = "0" * 64


@dataclass(frozen=True)
class Change:
    """One event: who did what to which record, with the record before and after."""

    actor: str
    action: str  # create | update | delete | lock | unlock | login | export | ...
    entity: str  # the sheet name for patient data
    entity_key: str
    entity_pk: int | None = None
    patient_id: str | None = None
    centre: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    batch_pk: int | None = None


@dataclass(frozen=True)
class SliceChanges:
    """The creates or the updates of one written slice of a sheet, columnar: what an import audits."""

    entity: str
    action: str  # create | update
    actor: str
    batch_pk: int | None
    columns: list[str]
    pks: list[int]
    keys: list[str]
    patient_ids: list[str | None]
    centres: list[str | None]
    after: list[list[Any]]  # per column, every row's value: the full after-image
    before: list[dict[str, Any]] | None  # update: per row, the changed columns' values before

    def one_by_one(self) -> Iterator[Change]:
        """The same changes as per-row events hold them (an update's before-image in full)."""
        for i, row in enumerate(zip(*self.after, strict=True)):
            after = {c: _safe(v) for c, v in zip(self.columns, row, strict=True)}
            before = None
            if self.before is not None:
                before = {**after, **{c: _safe(v) for c, v in self.before[i].items()}}
            yield Change(
                self.actor, self.action, self.entity, self.keys[i], self.pks[i],
                self.patient_ids[i], self.centres[i], before, after, self.batch_pk,
            )  # fmt: skip


def _safe(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# made once: json.dumps with options builds a new encoder on every call
_encode_sorted = json.JSONEncoder(sort_keys=True, default=str).encode
_encode = json.JSONEncoder(default=str).encode
_encode_string = (
    json.encoder.encode_basestring_ascii
)  # what _encode writes for a str (ensure_ascii)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else _encode_sorted(value)


def as_utc(at: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; jakreg writes UTC only."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


# audit_event's columns but its id, in table order: the rows write_many hands to the driver
_ROW_ORDER = ("at", "actor", "action", "entity", "entity_pk", "entity_key", "patient_id", "centre",
              "before", "after", "batch_pk", "prev_hash", "hash")  # fmt: skip
_HASHED = ("at", "actor", "action", "entity", "entity_pk", "entity_key", "patient_id", "centre",
           "before", "after", "batch_pk")  # fmt: skip


def _hash(prev_hash: str, fields: dict[str, Any]) -> str:
    values = [prev_hash, as_utc(fields["at"]).isoformat(), *(fields[k] for k in _HASHED[1:])]
    return hashlib.sha256(_encode(values).encode()).hexdigest()


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 over the previous hash and every field of the event except its own id and hash."""
    return _hash(prev_hash, {k: getattr(event, k) for k in _HASHED})


class AuditWriter:
    """Appends events for one transaction; the chain head is read once, under a lock on PostgreSQL."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._head: str | None = None
        self._bulk: BulkInsert | None = None
        self.count = 0  # events written
        self.changes = 0  # row changes audited (a batch event holds many)

    def _last_hash(self) -> str:
        if self._head is None:
            if self.session.get_bind().dialect.name == "postgresql":
                self.session.execute(text("LOCK TABLE audit_event IN EXCLUSIVE MODE"))
            last = self.session.scalar(
                select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
            )
            self._head = last or GENESIS
        return self._head

    def write(self, change: Change, at: dt.datetime | None = None) -> AuditEvent:
        prev = self._last_hash()
        event = AuditEvent(
            at=(at or dt.datetime.now(dt.UTC)).replace(microsecond=0),
            actor=change.actor,
            action=change.action,
            entity=change.entity,
            entity_pk=change.entity_pk,
            entity_key=change.entity_key,
            patient_id=change.patient_id,
            centre=change.centre,
            before=_json(change.before),
            after=_json(change.after),
            batch_pk=change.batch_pk,
            prev_hash=prev,
        )
        event.hash = event_hash(prev, event)
        self.session.add(event)
        self._head = event.hash
        self.count += 1
        self.changes += 1
        return event

    def write_slice(self, changes: SliceChanges, at: dt.datetime | None = None) -> None:
        """Audit an import slice's creates or updates of one sheet as one batch event: the event's
        hashed summary holds the Merkle root of the row changes, ``audit_batch`` the rows themselves
        (jakreg.store.audit_batch)."""
        c = changes
        batch = audit_batch.build_batch(
            c.columns, c.pks, c.keys, c.patient_ids, c.centres, c.after, c.before
        )
        patients, centres = set(c.patient_ids), set(c.centres)
        event = self.write(
            Change(
                actor=c.actor, action=audit_batch.ACTIONS[c.action], entity=c.entity,
                entity_key=f"{batch.rows} row(s)",
                patient_id=patients.pop() if len(patients) == 1 else None,
                centre=centres.pop() if len(centres) == 1 else None,
                after=batch.summary, batch_pk=c.batch_pk,
            ),
            at=at,
        )  # fmt: skip
        self.session.flush()
        self.session.execute(
            insert(AuditBatch),
            [{"event_id": event.id, "entity": c.entity, "min_pk": batch.min_pk,
              "max_pk": batch.max_pk, "rows": batch.rows, "payload": batch.payload}],
        )  # fmt: skip
        self.changes += batch.rows - 1  # write counted the event as one

    def write_many(self, changes: list[Change], at: dt.datetime | None = None) -> None:
        """Append many events with one batched INSERT (imports); same chain as ``write``.

        The events share their time, so what every hash input has in common is encoded once
        (``_chained_hashes``); rows go to the driver as lists in column order."""
        if not changes:
            return
        self.session.flush()  # events written with ``write`` go first, in order
        when = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        prev = self._last_hash()
        if self._bulk is None:
            self._bulk = BulkInsert(self.session, AuditEvent.__table__, exclude=("id",))  # type: ignore[arg-type]
        bulk = self._bulk
        if [name for name, _default in bulk.fields] != list(_ROW_ORDER):
            raise RuntimeError("audit_event's columns are not in the order write_many builds")
        at_bound = bulk.bind("at", when)
        rows: list[list[Any]] = []
        for c, (before, after, digest_prev, digest) in zip(
            changes, _chained_hashes(prev, when, changes), strict=True
        ):
            rows.append(
                [at_bound, c.actor, c.action, c.entity, c.entity_pk, c.entity_key, c.patient_id,
                 c.centre, before, after, c.batch_pk, digest_prev, digest]
            )  # fmt: skip
            prev = digest
        bulk.run_rows(rows, bound=(bulk.index("at"),))
        self._head = prev
        self.count += len(rows)
        self.changes += len(rows)


def _chained_hashes(
    prev: str, when: dt.datetime, changes: list[Change]
) -> Iterator[tuple[str | None, str | None, str, str]]:
    """(before JSON, after JSON, previous hash, hash) per change: the very hashes ``_hash`` gives.

    ``_hash`` encodes the list [prev, at, actor, action, entity, entity_pk, entity_key, patient_id,
    centre, before, after, batch_pk] as JSON; here the part after ``prev`` up to ``entity`` is encoded
    once per (actor, action, entity) and joined as text with the same separators (", ")."""
    at_text = as_utc(when).isoformat()
    shared: dict[tuple[str, str, str], str] = {}
    for change in changes:
        before, after = _json(change.before), _json(change.after)
        key = (change.actor, change.action, change.entity)
        middle = shared.get(key)
        if middle is None:
            middle = shared[key] = _encode([at_text, *key])[1:-1]
        rest = _encode(
            [change.entity_pk, change.entity_key, change.patient_id, change.centre, before, after,
             change.batch_pk]
        )  # fmt: skip
        text_ = "[" + _encode_string(prev) + ", " + middle + ", " + rest[1:]
        digest = hashlib.sha256(text_.encode()).hexdigest()
        yield before, after, prev, digest
        prev = digest


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def verify_chain(session: Session) -> BrokenLink | None:
    """The first event whose hash or link does not hold, or None when the whole trail is intact."""
    # Ids may have gaps (a rolled-back transaction uses up sequence numbers on PostgreSQL), so a
    # deleted event shows as the next event's link pointing at a hash that is no longer there.
    prev = GENESIS
    # yield_per as an execution option streams (a server-side cursor on PostgreSQL); on the result
    # alone psycopg would fetch the whole trail into memory first
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=5000)
    for event in session.scalars(query):
        if event.prev_hash != prev:
            return BrokenLink(
                event.id,
                "its link to the previous event is broken (an event deleted or reordered?)",
            )
        if event_hash(prev, event) != event.hash:
            return BrokenLink(event.id, "its content does not match its hash (edited?)")
        if event.action in audit_batch.ROW_ACTION:
            problem = _check_batch(session, event)
            if problem is not None:
                return BrokenLink(event.id, problem)
        prev = event.hash
    return None


def _check_batch(session: Session, event: AuditEvent) -> str | None:
    """The batch event's stored rows against the Merkle root its hash covers."""
    stored = session.get(AuditBatch, event.id)
    if stored is None:
        return "its batch of row changes is missing (deleted?)"
    problem = audit_batch.check_batch(stored.payload, event.after)
    if problem is None:
        summary = json.loads(event.after or "{}")
        index = (stored.entity, stored.min_pk, stored.max_pk, stored.rows)
        if index != (event.entity, summary["min_pk"], summary["max_pk"], summary["rows"]):
            problem = (
                "its batch's index (entity, record ids, rows) does not match its hash (edited?)"
            )
    session.expunge(stored)  # the payload is not kept in the session while the trail streams
    return problem
