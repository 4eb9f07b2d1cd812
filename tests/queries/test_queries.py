"""The query workflow on a real database: states, permissions, audit events and outbox events."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.queries import service
from jakreg.queries.permissions import ACTIONS, may
from jakreg.queries.service import QueryError
from jakreg.store import db
from jakreg.store.audit import verify_chain
from jakreg.store.tables import AuditEvent, LabResult, Patient
from jakreg.store.users import Role
from jakreg.store.workflow import DataQuery, OutboxEvent
from jakreg.web.scope import Principal
from tests.web.webdata import OTHER, OWN, OWN_PATIENT, seed

MONITOR = Principal(90, "mona", Role.monitor, frozenset())
EDITOR = Principal(91, "eddie", Role.centre_editor, frozenset({OWN}))
OTHER_EDITOR = Principal(92, "otto", Role.centre_editor, frozenset({OTHER}))
VIEWER = Principal(93, "vera", Role.centre_viewer, frozenset({OWN}))
ANALYST = Principal(94, "anna", Role.analyst, frozenset())


@pytest.fixture
def session(db_url: str, tmp_path: Path) -> Session:
    seed(db_url, tmp_path / "study")
    with db.open_session(db_url) as s:
        yield s  # type: ignore[misc]


def _raise(
    session: Session, who: Principal = MONITOR, text: str = "Is ALT really this high?"
) -> DataQuery:
    patient = session.scalars(select(Patient).where(Patient.patient_id == OWN_PATIENT)).one()
    lab = session.scalars(select(LabResult).where(LabResult.patient_pk == patient.id)).first()
    assert lab is not None
    return service.raise_query(session, who, patient=patient, centre=OWN, sheet="labs",
                               record_pk=lab.id, field="value", text=text)  # fmt: skip


def test_permission_table() -> None:
    expected = {
        Role.admin: set(ACTIONS),
        Role.monitor: {"read", "raise", "close", "reopen"},
        Role.centre_editor: {"read", "answer"},
        Role.centre_viewer: {"read"},
        Role.analyst: set(),
    }
    for role, actions in expected.items():
        assert {a for a in ACTIONS if may(role, a)} == actions
    assert not may("nobody", "read")
    with pytest.raises(ValueError, match="unknown query action"):
        may(Role.admin, "delete")


def test_raise_answer_close_reopen(session: Session) -> None:
    q = _raise(session)
    assert (q.state, q.version, q.raised_by) == ("open", 1, "mona")
    service.change_state(session, EDITOR, q, "answer", "Checked: typo, is 13", patient_id=OWN_PATIENT,
                         version=1)  # fmt: skip
    assert (q.state, q.version) == ("answered", 2)
    service.change_state(session, MONITOR, q, "close", "", patient_id=OWN_PATIENT)
    assert q.state == "closed"
    assert q.closed_at is not None
    service.change_state(
        session, MONITOR, q, "reopen", "Still 130 in the record", patient_id=OWN_PATIENT
    )
    assert q.state == "reopened"
    assert [m.action for m in q.messages] == ["raise", "answer", "close", "reopen"]
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "data_query")).all()
    assert [e.action for e in events] == [
        "query_raise",
        "query_answer",
        "query_close",
        "query_reopen",
    ]
    assert {e.patient_id for e in events} == {OWN_PATIENT}
    assert verify_chain(session) is None
    outbox = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(o.kind, o.audience, o.username) for o in outbox] == [
        ("query_raised", "centre", None),
        ("query_answered", "user", "mona"),
        ("query_closed", "centre", None),
        ("query_raised", "centre", None),
    ]
    assert all("130" not in o.summary and "typo" not in o.summary for o in outbox)


@pytest.mark.parametrize(
    ("who", "action", "message"),
    [
        (EDITOR, "raise", "your role (centre_editor) cannot raise data queries"),
        (ANALYST, "raise", "your role (analyst) cannot raise data queries"),
        (VIEWER, "raise", "your role (centre_viewer) cannot raise data queries"),
    ],
)
def test_who_may_not_raise(session: Session, who: Principal, action: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        _raise(session, who)
    assert caught.value.kind == "forbidden"


def test_who_may_not_answer_or_close(session: Session) -> None:
    q = _raise(session)
    with pytest.raises(QueryError, match=f"you cannot answer queries of centre {OWN}"):
        service.change_state(session, OTHER_EDITOR, q, "answer", "x", patient_id=OWN_PATIENT)
    with pytest.raises(QueryError, match="cannot answer data queries"):
        service.change_state(session, VIEWER, q, "answer", "x", patient_id=OWN_PATIENT)
    with pytest.raises(QueryError, match="cannot close data queries"):
        service.change_state(session, EDITOR, q, "close", "", patient_id=OWN_PATIENT)
    assert q.state == "open"


def test_state_stale_and_text_errors(session: Session) -> None:
    q = _raise(session)
    with pytest.raises(
        QueryError, match=r"is open; it cannot be reopened \(it must be answered or closed\)"
    ):
        service.change_state(session, MONITOR, q, "reopen", "x", patient_id=OWN_PATIENT)
    with pytest.raises(QueryError, match="changed since you loaded it") as stale:
        service.change_state(session, EDITOR, q, "answer", "x", patient_id=OWN_PATIENT, version=7)
    assert stale.value.kind == "stale"
    for text in ("", "   ", "x" * 2001):
        with pytest.raises(QueryError, match="the message must have 1 to 2000 characters") as bad:
            service.change_state(session, EDITOR, q, "answer", text, patient_id=OWN_PATIENT)
        assert bad.value.kind == "input"
    service.change_state(session, EDITOR, q, "answer", "x" * 2000, patient_id=OWN_PATIENT)
    with pytest.raises(QueryError, match="the message must have 1 to 2000 characters"):
        _raise(session, text="")


def test_field_must_belong_to_the_sheet(session: Session) -> None:
    patient = session.scalars(select(Patient).where(Patient.patient_id == OWN_PATIENT)).one()
    with pytest.raises(QueryError, match="'colour' is not a field of the labs sheet"):
        service.raise_query(session, MONITOR, patient=patient, centre=OWN, sheet="labs",
                            record_pk=1, field="colour", text="?")  # fmt: skip


def test_select_queries_is_centre_scoped(session: Session) -> None:
    _raise(session)
    session.flush()
    own = session.execute(service.select_queries(frozenset({OWN}))).all()
    other = session.execute(service.select_queries(frozenset({OTHER}))).all()
    everyone = session.execute(service.select_queries(None, state="open")).all()
    assert len(own) == 1
    assert other == []
    assert len(everyone) == 1
    data = service.to_dict(*own[0])
    assert data["patient_id"] == OWN_PATIENT
    assert data["messages"][0]["text"] == "Is ALT really this high?"
