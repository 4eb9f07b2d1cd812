"""Safety signals in the database: derive from labs and AEs, list, acknowledge, close; all audited.

A signal's identity is (rule, record table, record row): re-deriving never duplicates a signal and never
reopens an acknowledged or closed one. A new critical signal queues a ``signal_critical`` notification
in the same transaction (names and counts only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.notify.outbox import enqueue
from jakreg.rules.signals import (
    AERecord,
    CourseRecord,
    LabRecord,
    RuleSet,
    SignalHit,
    default_rules,
    evaluate,
)
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.signal_tables import STATES, SafetySignal
from jakreg.store.tables import AdverseEvent, Centre, Dose, LabResult, Patient, TreatmentCourse

ENTITY = "safety_signal"
MAX_COMMENT = 2000


class SignalError(JakregError):
    """A signal action refused; ``kind`` is not_found, state, stale or input (stale maps to HTTP 409)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class DeriveSummary:
    evaluated_labs: int
    evaluated_adverse_events: int
    new: int
    new_critical: int
    already_known: int
    evaluated_courses: int = 0


@dataclass(frozen=True)
class SignalView:
    id: int
    pseudonym: str
    centre: str
    rule_id: str
    rule_version: str
    source: str
    record_table: str
    record_id: int
    value: str
    threshold: str
    text: str
    severity: str
    state: str
    version: int
    derived_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    acknowledged_comment: str | None
    closed_by: str | None
    closed_at: dt.datetime | None
    closed_comment: str | None


def _patients(session: Session, centres: Iterable[str] | None) -> dict[int, tuple[str, str]]:
    q = select(Patient.id, Patient.patient_id, Centre.centre).join(
        Centre, Centre.id == Patient.centre_pk
    )
    if centres is not None:
        q = q.where(Centre.centre.in_(list(centres)))
    return {pk: (pid, centre) for pk, pid, centre in session.execute(q)}


def _first_starts(session: Session) -> dict[int, dt.date]:
    q = select(TreatmentCourse.patient_pk, func.min(TreatmentCourse.start_date)).group_by(
        TreatmentCourse.patient_pk
    )
    return {row[0]: row[1] for row in session.execute(q)}


def collect_records(
    session: Session, *, centres: Iterable[str] | None = None
) -> tuple[list[LabRecord], list[AERecord], dict[int, tuple[str, str]]]:
    """Lab and AE records of the patients in scope as the pure rule engine reads them.

    Baseline (for the baseline-abnormal ALT/AST path): the patient's last value of the analyte on or
    before the first course's start date; it applies to values after that date only.
    """
    patients = _patients(session, centres)
    starts = _first_starts(session)
    lab_rows = [
        lab
        for lab in session.scalars(select(LabResult).order_by(LabResult.date, LabResult.id))
        if lab.patient_pk in patients
    ]
    base: dict[tuple[int, str], tuple[float, str]] = {}
    for lab in lab_rows:
        start = starts.get(lab.patient_pk)
        if start is not None and lab.date <= start:
            base[(lab.patient_pk, lab.analyte)] = (lab.value, lab.unit)  # by date: last wins
    labs: list[LabRecord] = []
    for lab in sorted(lab_rows, key=lambda r: r.id):
        start = starts.get(lab.patient_pk)
        b = base.get((lab.patient_pk, lab.analyte))
        use = b is not None and start is not None and lab.date > start and b[1] == lab.unit
        labs.append(
            LabRecord(
                record_id=lab.id,
                patient=patients[lab.patient_pk][0],
                date=lab.date,
                analyte=lab.analyte,
                value=lab.value,
                unit=lab.unit,
                lln=lab.lln,
                uln=lab.uln,
                baseline=b[0] if use and b is not None else None,
                clinician_grade=lab.clinician_grade,
                table="lab_result",
            )
        )
    aes: list[AERecord] = []
    for ae in session.scalars(select(AdverseEvent).order_by(AdverseEvent.id)):
        if ae.patient_pk not in patients:
            continue
        aes.append(
            AERecord(
                record_id=ae.id,
                patient=patients[ae.patient_pk][0],
                date=ae.onset_date,
                term=ae.term,
                grade=ae.grade,
                serious=ae.serious == "yes",
                table="adverse_event",
            )
        )
    return labs, aes, patients


def collect_courses(session: Session, patients: dict[int, tuple[str, str]]) -> list[CourseRecord]:
    """The courses of the patients in scope with their azole flag and daily doses (mg/day) by date."""
    daily: dict[tuple[int, int], list[float]] = {}
    for pk, course_no, mg, per_day in session.execute(
        select(Dose.patient_pk, Dose.course_no, Dose.mg_per_dose, Dose.doses_per_day)
        .order_by(Dose.patient_pk, Dose.course_no, Dose.date)
    ):  # fmt: skip
        if pk in patients:
            daily.setdefault((pk, course_no), []).append(round(mg * per_day, 6))
    courses: list[CourseRecord] = []
    for c in session.scalars(select(TreatmentCourse).order_by(TreatmentCourse.id)):
        if c.patient_pk not in patients:
            continue
        courses.append(
            CourseRecord(
                record_id=c.id, patient=patients[c.patient_pk][0], date=c.start_date,
                course_no=c.course_no, drug=c.drug, azole=c.azole_comedication == "yes",
                daily_mg=tuple(daily.get((c.patient_pk, c.course_no), ())),
                table="treatment_course",
            )
        )  # fmt: skip
    return courses


def derive_signals(
    session: Session,
    *,
    centres: Iterable[str] | None = None,
    user: str,
    rules: RuleSet | None = None,
    now: dt.datetime | None = None,
) -> DeriveSummary:
    """Evaluate every rule over the records in scope and store the new hits (audited, in one transaction)."""
    labs, aes, patients = collect_records(session, centres=centres)
    courses = collect_courses(session, patients)
    by_pid = {pid: (pk, centre) for pk, (pid, centre) in patients.items()}
    hits = evaluate(labs, aes, courses, rules=rules or default_rules())
    known: set[tuple[str, str, int]] = {
        (r[0], r[1], r[2])
        for r in session.execute(
            select(SafetySignal.rule_id, SafetySignal.record_table, SafetySignal.record_pk)
        )
    }
    at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    audit = AuditWriter(session)
    new: list[tuple[SafetySignal, SignalHit]] = []
    for hit in hits:
        if hit.key in known:
            continue
        known.add(hit.key)
        pk, centre = by_pid[hit.patient]
        row = SafetySignal(
            patient_pk=pk, centre=centre, rule_id=hit.rule_id, rule_version=hit.rule_version,
            source=hit.source, record_table=hit.record_table, record_pk=hit.record_id,
            value=hit.value, threshold=hit.threshold, text=hit.text, severity=hit.severity,
            state="open", derived_at=at, version=1,
        )  # fmt: skip
        session.add(row)
        new.append((row, hit))
    session.flush()
    for row, hit in new:
        audit.write(
            Change(
                actor=user, action="create", entity=ENTITY, entity_key=_key(row),
                entity_pk=row.id, patient_id=hit.patient, centre=row.centre, after=_snapshot(row),
            ),
            at=at,
        )  # fmt: skip
    critical = [(row, hit) for row, hit in new if row.severity == "critical"]
    per_patient: dict[str, list[SafetySignal]] = {}
    for row, hit in critical:
        per_patient.setdefault(hit.patient, []).append(row)
    for pid, rows in per_patient.items():
        names = sorted({r.rule_id for r in rows})
        enqueue(
            session,
            "signal_critical",
            summary=f"{len(rows)} new critical safety signal(s): {', '.join(names)}"[:300],
            centre=rows[0].centre,
            patient_id=pid,
            link=f"/patients/{pid}",
            at=at,
        )
    return DeriveSummary(
        evaluated_labs=len(labs),
        evaluated_adverse_events=len(aes),
        evaluated_courses=len(courses),
        new=len(new),
        new_critical=len(critical),
        already_known=len(hits) - len(new),
    )


def _key(row: SafetySignal) -> str:
    return f"{row.rule_id}:{row.record_table}:{row.record_pk}"


def _snapshot(row: SafetySignal) -> dict[str, object]:
    return {
        "rule_id": row.rule_id, "rule_version": row.rule_version, "record_table": row.record_table,
        "record_pk": row.record_pk, "severity": row.severity, "state": row.state,
        "version": row.version, "acknowledged_by": row.acknowledged_by,
        "acknowledged_comment": row.acknowledged_comment, "closed_by": row.closed_by,
        "closed_comment": row.closed_comment,
    }  # fmt: skip


def list_signals(
    session: Session,
    *,
    centres: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
    patient_pks: Iterable[int] | None = None,
) -> list[SignalView]:
    """Signals in scope, newest first within critical-before-warning order.

    ``patient_pks``: only these patients' signals (by primary key; the patient page)."""
    q = select(SafetySignal, Patient.patient_id).join(
        Patient, Patient.id == SafetySignal.patient_pk
    )
    if patient_pks is not None:
        q = q.where(SafetySignal.patient_pk.in_(sorted(set(patient_pks))))
    if centres is not None:
        q = q.where(SafetySignal.centre.in_(list(centres)))
    if states is not None:
        wanted = list(states)
        bad = [s for s in wanted if s not in STATES]
        if bad:
            raise SignalError(
                f"unknown signal state {bad[0]!r}; use one of: {', '.join(STATES)}", "input"
            )
        q = q.where(SafetySignal.state.in_(wanted))
    q = q.order_by(SafetySignal.severity, SafetySignal.id)
    return [_view(r[0], r[1]) for r in session.execute(q)]


def _view(row: SafetySignal, pid: str) -> SignalView:
    return SignalView(
        id=row.id, pseudonym=pid, centre=row.centre, rule_id=row.rule_id,
        rule_version=row.rule_version, source=row.source, record_table=row.record_table,
        record_id=row.record_pk, value=row.value, threshold=row.threshold, text=row.text,
        severity=row.severity, state=row.state, version=row.version, derived_at=row.derived_at,
        acknowledged_by=row.acknowledged_by, acknowledged_at=row.acknowledged_at,
        acknowledged_comment=row.acknowledged_comment, closed_by=row.closed_by,
        closed_at=row.closed_at, closed_comment=row.closed_comment,
    )  # fmt: skip


def _comment(comment: str | None, *, required: bool) -> str | None:
    text = (comment or "").strip()
    if required and not text:
        raise SignalError(
            "acknowledging a signal needs a comment (what was done or checked)", "input"
        )
    if len(text) > MAX_COMMENT:
        raise SignalError(f"the comment must have at most {MAX_COMMENT} characters", "input")
    return text or None


def _transition(
    session: Session,
    signal_id: int,
    *,
    user: str,
    comment: str | None,
    expected_version: int | None,
    allowed: tuple[str, ...],
    to: str,
    now: dt.datetime | None,
) -> SignalView:
    row = session.get(SafetySignal, signal_id)
    if row is None:
        raise SignalError(f"safety signal {signal_id} does not exist", "not_found")
    if expected_version is not None and expected_version != row.version:
        raise SignalError(
            f"safety signal {signal_id} changed since you loaded it (version {row.version}, "
            f"yours {expected_version}); reload and try again",
            "stale",
        )
    if row.state not in allowed:
        raise SignalError(
            f"safety signal {signal_id} is {row.state}; it cannot become {to} "
            f"(it must be {' or '.join(allowed)})",
            "state",
        )
    text = _comment(comment, required=to == "acknowledged")
    at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    before = _snapshot(row)
    row.state = to
    row.version += 1
    if to == "acknowledged":
        row.acknowledged_by, row.acknowledged_at, row.acknowledged_comment = user, at, text
    else:
        row.closed_by, row.closed_at, row.closed_comment = user, at, text
    pid = session.scalar(select(Patient.patient_id).where(Patient.id == row.patient_pk))
    session.flush()
    AuditWriter(session).write(
        Change(
            actor=user, action="acknowledge" if to == "acknowledged" else "close", entity=ENTITY,
            entity_key=_key(row), entity_pk=row.id, patient_id=pid, centre=row.centre,
            before=before, after=_snapshot(row),
        ),
        at=at,
    )  # fmt: skip
    return _view(row, pid or "")


def acknowledge_signal(
    session: Session,
    signal_id: int,
    *,
    user: str,
    comment: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> SignalView:
    """open → acknowledged (who, when, comment); audited. Stale version → SignalError(kind="stale")."""
    return _transition(
        session, signal_id, user=user, comment=comment, expected_version=expected_version,
        allowed=("open",), to="acknowledged", now=now,
    )  # fmt: skip


def close_signal(
    session: Session,
    signal_id: int,
    *,
    user: str,
    comment: str | None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> SignalView:
    """open or acknowledged → closed; audited. Stale version → SignalError(kind="stale")."""
    return _transition(
        session, signal_id, user=user, comment=comment, expected_version=expected_version,
        allowed=("open", "acknowledged"), to="closed", now=now,
    )  # fmt: skip


def open_critical_count(session: Session, *, centres: Iterable[str] | None = None) -> int:
    """How many critical signals are still open (exit status 3 of ``jakreg monitor``)."""
    q = select(func.count(SafetySignal.id)).where(
        SafetySignal.state == "open", SafetySignal.severity == "critical"
    )
    if centres is not None:
        q = q.where(SafetySignal.centre.in_(list(centres)))
    return int(session.scalar(q) or 0)
