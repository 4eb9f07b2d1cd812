"""The patient list and one patient's full record, read through the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from jakreg.store.tables import Centre, Patient, TreatmentCourse
from jakreg.store.users import Role
from jakreg.web.scope import CHILD_SHEETS, Scope

LIST_LIMIT = 500


@dataclass(frozen=True)
class PatientFilter:
    q: str = ""
    centre: str = ""
    source: str = ""
    vital_status: str = ""
    drug: str = ""
    locked: str = ""  # "" | yes | no


@dataclass
class PatientRecord:
    """A patient and every record, read-only: the records are rows (``Scope.record_rows``), not ORM
    objects; each has the table's columns as attributes."""

    patient: Patient
    values: dict[str, Any]
    records: dict[str, list[tuple[Any, dict[str, Any]]]] = field(default_factory=dict)

    @property
    def centre(self) -> str:
        return str(self.values["centre"])


def list_patients(scope: Scope, f: PatientFilter) -> list[dict[str, Any]]:
    stmt = scope.select(Patient)
    if f.q.strip():
        q = f.q.strip()
        match: ColumnElement[bool] = Patient.patient_id.ilike(f"%{_escape_like(q)}%", escape="\\")
        # Local ids are searchable only where the caller may see them: own centres (admins: all).
        if scope.principal.role is Role.admin:
            match = or_(match, Patient.local_id == q)
        elif scope.principal.role not in (Role.analyst, Role.monitor):
            match = or_(
                match,
                and_(Patient.local_id == q, Centre.centre.in_(sorted(scope.principal.centres))),
            )
        stmt = stmt.where(match)
    if f.centre:
        stmt = stmt.where(Centre.centre == f.centre)
    if f.source:
        stmt = stmt.where(Patient.source == f.source)
    if f.vital_status:
        stmt = stmt.where(Patient.vital_status == f.vital_status)
    if f.drug:
        stmt = stmt.where(
            exists(
                select(TreatmentCourse.id).where(
                    TreatmentCourse.patient_pk == Patient.id, TreatmentCourse.drug == f.drug
                )
            )
        )
    if f.locked == "yes":
        stmt = stmt.where(Patient.locked_by.is_not(None))
    elif f.locked == "no":
        stmt = stmt.where(Patient.locked_by.is_(None))
    patients = scope.session.scalars(stmt.order_by(Patient.patient_id).limit(LIST_LIMIT)).all()
    drugs: dict[int, list[str]] = {}
    if patients:
        for pk, drug in scope.session.execute(
            select(TreatmentCourse.patient_pk, TreatmentCourse.drug)
            .where(TreatmentCourse.patient_pk.in_([p.id for p in patients]))
            .order_by(TreatmentCourse.course_no)
        ):
            drugs.setdefault(pk, []).append(drug)
    out = []
    for p in patients:
        values = scope.values("patients", p)
        values["drugs"] = ", ".join(drugs.get(p.id, []))
        values["locked_by"] = p.locked_by
        values["version"] = p.version
        out.append(values)
    return out


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patient_record(scope: Scope, patient_id: str) -> PatientRecord:
    patient = scope.patient(patient_id)
    record = PatientRecord(patient, scope.values("patients", patient))
    for sheet in CHILD_SHEETS:
        record.records[sheet] = list(scope.record_rows(sheet, patient))
    return record


def record_objects(record: PatientRecord) -> dict[str, list[Any]]:
    return {sheet: [o for o, _ in rows] for sheet, rows in record.records.items()}
