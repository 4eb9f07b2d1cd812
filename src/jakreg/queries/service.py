"""Raising, answering, closing and reopening data queries; every state change audited and queued for e-mail.

The caller (the web layer) has already loaded the record through its scope, so a query can only be raised on
a record the caller may see; this module checks the role (``may``), the centre, the state and the text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.notify.outbox import Kind, enqueue
from jakreg.queries.permissions import may
from jakreg.store.audit import AuditWriter, Change, as_utc
from jakreg.store.tables import Patient
from jakreg.store.users import Role
from jakreg.store.workflow import DataQuery, QueryMessage

MAX_TEXT = 2000
STATES = ("open", "answered", "closed", "reopened")
# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "answer": (("open", "reopened"), "answered"),
    "close": (("open", "answered", "reopened"), "closed"),
    "reopen": (("answered", "closed"), "reopened"),
}

NOT_ALLOWED = "your role ({role}) cannot {action} data queries"
NOT_YOUR_CENTRE = "you cannot {action} queries of centre {centre}"
BAD_STATE = "query {id} is {state}; it cannot be {done} (it must be {allowed})"
BAD_TEXT = "the message must have 1 to {max} characters (it has {n})"
BAD_FIELD = "{field!r} is not a field of the {sheet} sheet; use one of: {fields}"
DONE = {"answer": "answered", "close": "closed", "reopen": "reopened"}


class QueryError(JakregError):
    """A query action refused; ``kind`` says why: forbidden, state or input."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class Actor(Protocol):
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def centres(self) -> frozenset[str]: ...


def _require(actor: Actor, action: str, centre: str) -> None:
    if not may(actor.role, action):
        raise QueryError(NOT_ALLOWED.format(role=actor.role.value, action=action), "forbidden")
    centre_bound = actor.role in (Role.centre_editor, Role.centre_viewer)
    if centre_bound and centre not in actor.centres:
        raise QueryError(NOT_YOUR_CENTRE.format(action=action, centre=centre), "forbidden")


def clean_text(text: str, *, required: bool = True) -> str:
    stripped = text.strip()
    if (required and not stripped) or len(stripped) > MAX_TEXT:
        raise QueryError(BAD_TEXT.format(max=MAX_TEXT, n=len(stripped)), "input")
    return stripped


def queryable_fields(sheet: str) -> list[str]:
    spec = SHEETS_BY_NAME[sheet]
    return [c for c in spec.columns if c not in ("patient_id", "local_id")]


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)


def _key(query: DataQuery, patient_id: str) -> str:
    return f"{patient_id}/{query.sheet}/{query.record_pk}/{query.field}#{query.id}"


def _audit(session: Session, actor: Actor, action: str, query: DataQuery, patient_id: str,
           before: str | None, text: str, at: dt.datetime) -> None:  # fmt: skip
    AuditWriter(session).write(
        Change(
            actor=actor.username,
            action=f"query_{action}",
            entity="data_query",
            entity_key=_key(query, patient_id),
            entity_pk=query.id,
            patient_id=patient_id,
            centre=query.centre,
            before=None if before is None else {"state": before},
            after={"state": query.state, "message": text, "finding_id": query.finding_id},
        ),
        at=at,
    )


def _summary(query: DataQuery, verb: str) -> str:
    return f"query {query.id} {verb} on {query.sheet} record {query.record_pk}, field {query.field}"


def raise_query(
    session: Session,
    actor: Actor,
    *,
    patient: Patient,
    centre: str,
    sheet: str,
    record_pk: int,
    field: str,
    text: str,
    finding_id: str | None = None,
    now: dt.datetime | None = None,
) -> DataQuery:
    """Open a query on one field of a record the caller has loaded through its scope."""
    _require(actor, "raise", centre)
    fields = queryable_fields(sheet)
    if field not in fields:
        raise QueryError(
            BAD_FIELD.format(field=field, sheet=sheet, fields=", ".join(fields)), "input"
        )
    body = clean_text(text)
    at = _now(now)
    query = DataQuery(
        patient_pk=patient.id, centre=centre, sheet=sheet, record_pk=record_pk, field=field,
        finding_id=finding_id, state="open", raised_by=actor.username, raised_at=at, version=1,
    )  # fmt: skip
    query.messages.append(QueryMessage(at=at, author=actor.username, action="raise", text=body))
    session.add(query)
    session.flush()
    _audit(session, actor, "raise", query, patient.patient_id, None, body, at)
    enqueue(session, Kind.query_raised, summary=_summary(query, "raised"), centre=centre,
            patient_id=patient.patient_id, link=f"/queries/{query.id}", at=at)  # fmt: skip
    return query


def change_state(
    session: Session,
    actor: Actor,
    query: DataQuery,
    action: str,
    text: str,
    *,
    patient_id: str,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> DataQuery:
    """Answer, close or reopen a query; a stale ``version`` is refused (someone acted first)."""
    if action not in TRANSITIONS:
        raise QueryError(f"unknown query action {action!r}", "input")
    _require(actor, action, query.centre)
    allowed, to = TRANSITIONS[action]
    if version is not None and version != query.version:
        raise QueryError(
            f"query {query.id} changed since you loaded it (version {query.version}, "
            f"yours {version}); reload and try again",
            "stale",
        )
    if query.state not in allowed:
        raise QueryError(
            BAD_STATE.format(
                id=query.id, state=query.state, done=DONE[action], allowed=" or ".join(allowed)
            ),
            "state",
        )
    body = clean_text(text, required=action != "close")
    at = _now(now)
    before = query.state
    query.state = to
    query.version += 1
    if action == "answer":
        query.answered_at = at
    if action == "close":
        query.closed_at = at
    query.messages.append(QueryMessage(at=at, author=actor.username, action=action, text=body))
    session.flush()
    _audit(session, actor, action, query, patient_id, before, body, at)
    if action == "answer":
        enqueue(session, Kind.query_answered, summary=_summary(query, "answered"),
                centre=query.centre, patient_id=patient_id, link=f"/queries/{query.id}",
                username=query.raised_by, at=at)  # fmt: skip
    elif action == "close":
        enqueue(session, Kind.query_closed, summary=_summary(query, "closed"), centre=query.centre,
                patient_id=patient_id, link=f"/queries/{query.id}", at=at)  # fmt: skip
    else:
        enqueue(session, Kind.query_raised, summary=_summary(query, "reopened"),
                centre=query.centre, patient_id=patient_id, link=f"/queries/{query.id}", at=at)  # fmt: skip
    return query


def select_queries(
    centres: frozenset[str] | None, *, state: str | None = None, patient_pk: int | None = None
) -> Select[Any]:
    """Queries with their patient's pseudonym, limited to ``centres`` (None: every centre)."""
    stmt: Any = select(DataQuery, Patient.patient_id).join(
        Patient, Patient.id == DataQuery.patient_pk
    )
    if centres is not None:
        stmt = stmt.where(DataQuery.centre.in_(sorted(centres)))
    if state:
        stmt = stmt.where(DataQuery.state == state)
    if patient_pk is not None:
        stmt = stmt.where(DataQuery.patient_pk == patient_pk)
    ordered: Select[Any] = stmt.order_by(DataQuery.id)
    return ordered


def to_dict(query: DataQuery, patient_id: str) -> dict[str, Any]:
    def shown(at: dt.datetime | None) -> str | None:
        return None if at is None else as_utc(at).isoformat()

    return {
        "id": query.id, "patient_id": patient_id, "centre": query.centre, "sheet": query.sheet,
        "record_pk": query.record_pk, "field": query.field, "finding_id": query.finding_id,
        "state": query.state, "version": query.version, "raised_by": query.raised_by,
        "raised_at": shown(query.raised_at), "answered_at": shown(query.answered_at),
        "closed_at": shown(query.closed_at),
        "messages": [{"at": shown(m.at), "author": m.author, "action": m.action, "text": m.text}
                     for m in query.messages],
    }  # fmt: skip
