"""Safety signals on a real database (SQLite, and PostgreSQL when configured): derive, ack, close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.monitoring.signals import (
    SignalError,
    acknowledge_signal,
    close_signal,
    collect_courses,
    derive_signals,
    list_signals,
    open_critical_count,
)
from jakreg.rules.signals import evaluate
from jakreg.store import db
from jakreg.store.audit import verify_chain
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import AdverseEvent, AuditEvent, Dose, LabResult, Patient, TreatmentCourse
from jakreg.store.workflow import OutboxEvent
from tests.web.webdata import OTHER, OTHER_PATIENT, OWN, OWN_PATIENT, seed


@pytest.fixture
def session(db_url: str, tmp_path: Path) -> Iterator[Session]:
    seed(db_url, tmp_path / "study")
    with db.open_session(db_url) as s:
        yield s


def _pk(session: Session, pid: str) -> int:
    return session.scalars(select(Patient.id).where(Patient.patient_id == pid)).one()


def _lab(session: Session, pid: str, analyte: str, value: float, unit: str, day: int) -> int:
    row = LabResult(patient_pk=_pk(session, pid), date=dt.date(2099, 1, day), analyte=analyte,
                    value=value, unit=unit, version=1)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _ae(session: Session, pid: str, term: str, grade: int | None, serious: str = "no") -> int:
    row = AdverseEvent(patient_pk=_pk(session, pid), term=term, category="other",
                       onset_date=dt.date(2099, 2, 1), grade=grade, serious=serious,
                       attribution="unknown", action_taken="unknown", version=1)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _mine(session: Session, table: str, pk: int) -> list[SafetySignal]:
    return list(
        session.scalars(
            select(SafetySignal).where(
                SafetySignal.record_table == table, SafetySignal.record_pk == pk
            )
        )
    )


def test_derive_is_idempotent_and_audited(session: Session) -> None:
    anc = _lab(session, OWN_PATIENT, "neutrophils", 900, "cells/µL", 1)
    fine = _lab(session, OWN_PATIENT, "neutrophils", 1000, "cells/µL", 2)
    first = derive_signals(session, user="mona")
    [sig] = [s for s in _mine(session, "lab_result", anc) if s.rule_id == "anc_low"]
    assert _mine(session, "lab_result", fine) == []
    assert (sig.state, sig.severity, sig.version, sig.centre) == ("open", "critical", 1, OWN)
    assert "meets threshold ANC < 1.0" in sig.text
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "safety_signal", AuditEvent.entity_pk == sig.id
        )
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].patient_id == OWN_PATIENT
    total = session.query(SafetySignal).count()
    assert first.new == total
    again = derive_signals(session, user="mona")
    assert again.new == 0
    assert again.already_known == first.new
    assert session.query(SafetySignal).count() == total
    assert verify_chain(session) is None


def test_new_critical_signal_queues_outbox_event_without_values(session: Session) -> None:
    _lab(session, OWN_PATIENT, "haemoglobin", 7.9, "g/dL", 3)
    before = session.query(OutboxEvent).filter(OutboxEvent.kind == "signal_critical").count()
    summary = derive_signals(session, user="mona")
    assert summary.new_critical >= 1
    events = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.kind == "signal_critical", OutboxEvent.patient_id == OWN_PATIENT
        )
    ).all()
    assert len(events) >= 1
    ev = events[-1]
    assert "hb_low" in ev.summary
    assert "7.9" not in ev.summary
    assert ev.link == f"/patients/{OWN_PATIENT}"
    assert ev.centre == OWN
    # re-deriving queues nothing new
    n = session.query(OutboxEvent).filter(OutboxEvent.kind == "signal_critical").count()
    assert n > before
    derive_signals(session, user="mona")
    assert session.query(OutboxEvent).filter(OutboxEvent.kind == "signal_critical").count() == n


def test_ack_then_close_never_reopened(session: Session) -> None:
    ae = _ae(session, OWN_PATIENT, "Herpes zoster", 2)
    derive_signals(session, user="mona")
    [sig] = _mine(session, "adverse_event", ae)
    assert sig.rule_id == "herpes_zoster"
    view = acknowledge_signal(session, sig.id, user="eddie", comment="seen", expected_version=1)
    assert (view.state, view.version, view.acknowledged_by) == ("acknowledged", 2, "eddie")
    assert view.pseudonym == OWN_PATIENT
    derive_signals(session, user="mona")
    [again] = _mine(session, "adverse_event", ae)
    assert (again.id, again.state) == (sig.id, "acknowledged")
    with pytest.raises(SignalError, match="changed since you loaded it") as stale:
        close_signal(session, sig.id, user="mona", comment="done", expected_version=1)
    assert stale.value.kind == "stale"
    closed = close_signal(session, sig.id, user="mona", comment="resolved", expected_version=2)
    assert (closed.state, closed.closed_by, closed.version) == ("closed", "mona", 3)
    with pytest.raises(SignalError, match="is closed") as bad:
        acknowledge_signal(session, sig.id, user="eddie", comment="x")
    assert bad.value.kind == "state"
    derive_signals(session, user="mona")
    assert [s.state for s in _mine(session, "adverse_event", ae)] == ["closed"]
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity == "safety_signal", AuditEvent.entity_pk == sig.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "acknowledge", "close"]
    assert verify_chain(session) is None


def test_ack_needs_comment_and_unknown_id_is_clear(session: Session) -> None:
    ae = _ae(session, OWN_PATIENT, "Pulmonary embolism", 3, serious="yes")
    derive_signals(session, user="mona")
    sigs = {s.rule_id: s for s in _mine(session, "adverse_event", ae)}
    assert set(sigs) == {"thrombosis", "ae_grade3", "ae_serious"}
    with pytest.raises(SignalError, match="needs a comment"):
        acknowledge_signal(session, sigs["thrombosis"].id, user="eddie", comment="  ")
    assert sigs["thrombosis"].state == "open"
    with pytest.raises(SignalError, match="does not exist") as missing:
        acknowledge_signal(session, 987654, user="eddie", comment="x")
    assert missing.value.kind == "not_found"


def test_scoping_and_counts(session: Session) -> None:
    own = _ae(session, OWN_PATIENT, "Deep vein thrombosis", 2)
    other = _ae(session, OTHER_PATIENT, "Deep vein thrombosis", 2)
    derive_signals(session, centres=[OWN], user="mona")
    assert len(_mine(session, "adverse_event", own)) == 1
    assert _mine(session, "adverse_event", other) == []  # another centre untouched
    views = list_signals(session, centres=[OWN])
    assert views
    assert {v.centre for v in views} == {OWN}
    assert list_signals(session, centres=[OTHER]) == []
    n_own = open_critical_count(session, centres=[OWN])
    assert n_own == sum(1 for v in views if v.state == "open" and v.severity == "critical")
    assert n_own >= 1
    assert open_critical_count(session, centres=[OTHER]) == 0
    [sig] = _mine(session, "adverse_event", own)
    acknowledge_signal(session, sig.id, user="eddie", comment="seen")
    assert open_critical_count(session, centres=[OWN]) == n_own - 1
    assert [v.id for v in list_signals(session, states=["acknowledged"])] == [sig.id]
    with pytest.raises(SignalError, match="unknown signal state"):
        list_signals(session, states=["resolved"])


def test_acknowledge_permission() -> None:
    from jakreg.queries.permissions import may
    from jakreg.store.users import Role

    allowed = {r for r in Role if may(r, "acknowledge_signal")}
    assert allowed == {Role.admin, Role.monitor, Role.centre_editor}
    assert not may("nobody", "acknowledge_signal")


def test_baseline_abnormal_path_from_the_database(session: Session) -> None:
    # Seeded BCN-01: course 1 starts 2021-03-01; ALT 30 U/L (ULN 40) on 2021-02-20, 130 on 2021-04-01.
    # With a normal baseline, 130 > 3×40 = 120 meets alt_high.
    derive_signals(session, user="mona")
    seeded = session.scalars(
        select(LabResult.id).where(
            LabResult.patient_pk == _pk(session, OWN_PATIENT),
            LabResult.date == dt.date(2021, 4, 1),
        )
    ).one()
    assert "alt_high" in {s.rule_id for s in _mine(session, "lab_result", seeded)}
    # An abnormal baseline (60 > ULN 40, the last value before the start) moves the threshold to 3×60 = 180.
    pk = _pk(session, OWN_PATIENT)
    session.add(LabResult(patient_pk=pk, date=dt.date(2021, 2, 25), analyte="alt", value=60,
                          unit="U/L", uln=40, version=1))  # fmt: skip
    below = LabResult(patient_pk=pk, date=dt.date(2099, 1, 5), analyte="alt", value=180,
                      unit="U/L", uln=40, version=1)  # fmt: skip
    above = LabResult(patient_pk=pk, date=dt.date(2099, 1, 6), analyte="alt", value=181,
                      unit="U/L", uln=40, version=1)  # fmt: skip
    session.add_all([below, above])
    session.flush()
    derive_signals(session, user="mona")
    assert "alt_high" not in {s.rule_id for s in _mine(session, "lab_result", below.id)}
    [hit] = [s for s in _mine(session, "lab_result", above.id) if s.rule_id == "alt_high"]
    assert hit.threshold == "> 3× baseline (180 U/L)"


def test_azole_course_rule_from_the_database(session: Session) -> None:
    pk = _pk(session, OWN_PATIENT)
    course = session.scalars(
        select(TreatmentCourse).where(TreatmentCourse.patient_pk == pk).order_by(TreatmentCourse.id)
    ).first()
    assert course is not None
    course.drug, course.azole_comedication = "ruxolitinib", "yes"
    for d in session.scalars(select(Dose).where(Dose.patient_pk == pk)):
        session.delete(d)
    session.flush()
    for day, mg, per_day in ((1, 5.0, 2.0), (20, 10.0, 1.0)):  # 10 mg/day both times: one level
        session.add(Dose(patient_pk=pk, course_no=course.course_no, date=course.start_date
                         + dt.timedelta(days=day), mg_per_dose=mg, doses_per_day=per_day, version=1))  # fmt: skip
    session.flush()
    summary = derive_signals(session, user="monitor")
    assert summary.evaluated_courses >= 1
    (sig,) = _mine(session, "treatment_course", course.id)
    assert sig.rule_id == "azole_no_dose_change"
    assert sig.value.endswith("2 dose record(s) all 10 mg/day")
    # with a dose change in the course the rule no longer meets; the stored signal stays (a signal is
    # closed by a person, never removed by re-deriving)
    session.add(Dose(patient_pk=pk, course_no=course.course_no, date=course.start_date
                     + dt.timedelta(days=40), mg_per_dose=5.0, doses_per_day=1.0, version=1))  # fmt: skip
    session.flush()
    patients = {pk: (OWN_PATIENT, OWN)}
    (rec,) = [c for c in collect_courses(session, patients) if c.record_id == course.id]
    assert rec.daily_mg == (10.0, 10.0, 5.0)
    assert not [h for h in evaluate(courses=[rec]) if h.rule_id == "azole_no_dose_change"]
    derive_signals(session, user="monitor")
    assert len(_mine(session, "treatment_course", course.id)) == 1
