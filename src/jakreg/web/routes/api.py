"""The JSON API under /api/v1: the same scoping, validation, locking and audit as the pages; token auth."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from jakreg.ingest.problems import ProblemLog, ValidationFailed
from jakreg.model.sheets import SHEETS_BY_NAME, SheetSpec
from jakreg.store.tables import Base, Patient
from jakreg.web.audit_view import AuditFilter, audit_rows
from jakreg.web.deps import Api
from jakreg.web.entry import (
    Checked,
    check_record,
    create_record,
    delete_record,
    fixed_columns,
    lock_patient,
    unlock_patient,
    update_record,
    with_pseudonym,
)
from jakreg.web.listing import PatientFilter, list_patients, patient_record, record_objects
from jakreg.web.routing import ApiRoute
from jakreg.web.scope import Scope
from jakreg.web.timeline import build_timeline

router = APIRouter(prefix="/api/v1", tags=["registry"], route_class=ApiRoute)

MAX_INT = 2**31 - 1
PatientId = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
]
RecordId = Annotated[int, Path(ge=1, le=MAX_INT)]


class SheetName(StrEnum):
    """A patient's record types (the workbook's sheets below patients)."""

    variants = "variants"
    manifestations = "manifestations"
    courses = "courses"
    doses = "doses"
    body_measurements = "body_measurements"
    assessments = "assessments"
    assessment_items = "assessment_items"
    labs = "labs"
    biomarkers = "biomarkers"
    adverse_events = "adverse_events"
    responses = "responses"
    hsct = "hsct"


class RecordIn(BaseModel):
    """A record's values by workbook column (as in the study workbook); ``version`` when updating."""

    values: dict[str, Any] = Field(
        description="Column -> value, as typed in the workbook (dates as YYYY-MM-DD)"
    )
    version: int | None = Field(
        None, ge=1, le=MAX_INT, description="The version you read; required for updates"
    )


class RecordOut(BaseModel):
    sheet: str
    id: int
    version: int
    values: dict[str, Any]


class PatientOut(BaseModel):
    patient_id: str
    centre: str
    version: int
    locked_by: str | None
    locked_at: dt.datetime | None
    values: dict[str, Any]
    records: dict[str, list[RecordOut]]


class PatientSummary(BaseModel):
    patient_id: str
    version: int
    locked_by: str | None
    drugs: str
    values: dict[str, Any]


class Me(BaseModel):
    username: str
    role: str
    centres: list[str]


class CentreOut(BaseModel):
    centre: str
    name: str
    country: str
    data_cutoff: dt.date | None


class TimelineEntryOut(BaseModel):
    date: dt.date
    kind: str
    title: str
    detail: str
    grade: int | None
    record_id: int | None


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_key: str
    patient_id: str | None
    centre: str | None
    before: str | None
    after: str | None
    hash: str


class ProblemOut(BaseModel):
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str
    severity: str


class ErrorOut(BaseModel):
    detail: str
    problems: list[ProblemOut] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": what}
    for status, what in (
        (401, "No or an invalid API token"),
        (403, "Your role or centre does not allow this"),
        (404, "No such record that you may see"),
        (409, "The record changed since you read it (stale version)"),
        (422, "The values do not pass the study's validation (problems listed)"),
        (423, "The patient is locked"),
    )
}


def _out(scope: Scope, sheet: str, obj: Base) -> RecordOut:
    return RecordOut(
        sheet=sheet,
        id=obj.id,  # type: ignore[attr-defined]
        version=obj.version,  # type: ignore[attr-defined]
        values=scope.values(sheet, obj),
    )


def _checked_or_422(checked: Checked) -> None:
    if not checked.ok:
        log = ProblemLog()
        for p in checked.problems:
            log.add(p)
        raise ValidationFailed(log)


def _require_version(body: RecordIn) -> int:
    if body.version is None:
        log = ProblemLog()
        from jakreg.ingest.problems import Problem

        log.add(Problem("api", None, None, "version", None, "a required value is missing",
                        "send the version you read (GET the record first)"))  # fmt: skip
        raise ValidationFailed(log)
    return body.version


@router.get("/me", response_model=Me, responses=ERRORS)
def me(scope: Api) -> Me:
    p = scope.principal
    return Me(username=p.username, role=p.role.value, centres=sorted(p.centres))


@router.get("/centres", response_model=list[CentreOut], responses=ERRORS)
def centres(scope: Api) -> list[CentreOut]:
    return [
        CentreOut(centre=c.centre, name=c.name, country=c.country, data_cutoff=c.data_cutoff)
        for c in scope.centres()
        if scope.principal.reads(c.centre)
    ]


@router.get("/patients", response_model=list[PatientSummary], responses=ERRORS)
def patients(
    scope: Api,
    q: Annotated[str, Query(max_length=64)] = "",
    centre: Annotated[str, Query(max_length=16)] = "",
    source: Annotated[str, Query(max_length=16)] = "",
    vital_status: Annotated[str, Query(max_length=16)] = "",
    drug: Annotated[str, Query(max_length=20)] = "",
    locked: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
) -> list[PatientSummary]:
    rows = list_patients(scope, PatientFilter(q, centre, source, vital_status, drug, locked))
    return [
        PatientSummary(
            patient_id=r["patient_id"], version=r.pop("version"), locked_by=r.pop("locked_by"),
            drugs=r.pop("drugs"), values=r,
        )
        for r in rows
    ]  # fmt: skip


@router.post("/patients", status_code=201, response_model=RecordOut, responses=ERRORS)
def create_patient(scope: Api, body: RecordIn) -> RecordOut:
    spec = SHEETS_BY_NAME["patients"]
    centre = str(body.values.get("centre", ""))
    scope.require_edit_centre(centre)
    values = with_pseudonym(scope, body.values)  # none given: the server allocates one
    checked = check_record(scope.session, spec, values, centre=centre, existing=scope.existing())
    _checked_or_422(checked)
    obj = create_record(scope, spec, checked)
    scope.session.commit()
    return _out(scope, "patients", obj)


@router.get("/patients/{patient_id}", response_model=PatientOut, responses=ERRORS)
def get_patient(scope: Api, patient_id: PatientId) -> PatientOut:
    record = patient_record(scope, patient_id)
    p = record.patient
    return PatientOut(
        patient_id=p.patient_id,
        centre=record.centre,
        version=p.version,
        locked_by=p.locked_by,
        locked_at=p.locked_at,
        values=record.values,
        records={
            sheet: [RecordOut(sheet=sheet, id=o.id, version=o.version, values=v) for o, v in rows]
            for sheet, rows in record.records.items()
        },
    )  # fmt: skip


@router.put("/patients/{patient_id}", response_model=RecordOut, responses=ERRORS)
def update_patient(scope: Api, patient_id: PatientId, body: RecordIn) -> RecordOut:
    patient = scope.patient(patient_id)
    return _update(scope, "patients", patient, patient, body)


def _update(scope: Scope, sheet: str, patient: Patient, obj: Base, body: RecordIn) -> RecordOut:
    """Validate an edit with the importer's checks, then write it if its version is current."""
    spec = SHEETS_BY_NAME[sheet]
    scope.require_edit(patient)
    version = _require_version(body)
    values = _with_fixed(scope, spec, obj, body.values)
    checked = check_record(
        scope.session, spec, values, centre=scope.centre_of(patient), editing=obj,
        existing=scope.existing(),
    )  # fmt: skip
    _checked_or_422(checked)
    update_record(scope, spec, obj, checked, version)
    scope.session.commit()
    return _out(scope, sheet, obj)


def _with_fixed(scope: Scope, spec: SheetSpec, obj: Base, values: dict[str, Any]) -> dict[str, Any]:
    """Key columns that cannot change are taken from the record, whatever was sent."""
    current = scope.values(spec.name, obj)
    out = dict(values)
    for column in fixed_columns(spec.name):
        out[column] = current[column]
    return out


@router.post("/patients/{patient_id}/lock", response_model=PatientSummary, responses=ERRORS)
def lock(scope: Api, patient_id: PatientId) -> PatientSummary:
    patient = scope.patient(patient_id)
    lock_patient(scope, patient)
    scope.session.commit()
    return _summary(scope, patient)


@router.post("/patients/{patient_id}/unlock", response_model=PatientSummary, responses=ERRORS)
def unlock(scope: Api, patient_id: PatientId) -> PatientSummary:
    patient = scope.patient(patient_id)
    unlock_patient(scope, patient)
    scope.session.commit()
    return _summary(scope, patient)


def _summary(scope: Scope, patient: Patient) -> PatientSummary:
    return PatientSummary(
        patient_id=patient.patient_id, version=patient.version, locked_by=patient.locked_by,
        drugs="", values=scope.values("patients", patient),
    )  # fmt: skip


@router.get(
    "/patients/{patient_id}/timeline", response_model=list[TimelineEntryOut], responses=ERRORS
)
def timeline(scope: Api, patient_id: PatientId) -> list[TimelineEntryOut]:
    record = patient_record(scope, patient_id)
    return [
        TimelineEntryOut(date=e.date, kind=e.kind, title=e.title, detail=e.detail,
                         grade=e.grade, record_id=e.pk)
        for e in build_timeline(record_objects(record))
    ]  # fmt: skip


@router.get("/patients/{patient_id}/{sheet}", response_model=list[RecordOut], responses=ERRORS)
def list_records(scope: Api, patient_id: PatientId, sheet: SheetName) -> list[RecordOut]:
    patient = scope.patient(patient_id)
    return [_out(scope, sheet.value, o) for o in scope.records(sheet.value, patient)]


@router.post(
    "/patients/{patient_id}/{sheet}", status_code=201, response_model=RecordOut, responses=ERRORS
)
def create_child(scope: Api, patient_id: PatientId, sheet: SheetName, body: RecordIn) -> RecordOut:
    spec = SHEETS_BY_NAME[sheet.value]
    patient = scope.patient(patient_id)
    scope.require_edit(patient)
    values = dict(body.values)
    values["patient_id"] = patient.patient_id
    checked = check_record(
        scope.session, spec, values, centre=scope.centre_of(patient), existing=scope.existing()
    )
    _checked_or_422(checked)
    obj = create_record(scope, spec, checked)
    scope.session.commit()
    return _out(scope, sheet.value, obj)


@router.get(
    "/patients/{patient_id}/{sheet}/{record_id}", response_model=RecordOut, responses=ERRORS
)
def get_child(
    scope: Api, patient_id: PatientId, sheet: SheetName, record_id: RecordId
) -> RecordOut:
    patient = scope.patient(patient_id)
    return _out(scope, sheet.value, scope.record(sheet.value, record_id, patient))


@router.put(
    "/patients/{patient_id}/{sheet}/{record_id}", response_model=RecordOut, responses=ERRORS
)
def update_child(
    scope: Api, patient_id: PatientId, sheet: SheetName, record_id: RecordId, body: RecordIn
) -> RecordOut:
    patient = scope.patient(patient_id)
    obj = scope.record(sheet.value, record_id, patient)
    return _update(scope, sheet.value, patient, obj, body)


@router.delete("/patients/{patient_id}/{sheet}/{record_id}", status_code=204, responses=ERRORS)
def delete_child(
    scope: Api,
    patient_id: PatientId,
    sheet: SheetName,
    record_id: RecordId,
    version: Annotated[int, Query(ge=1, le=MAX_INT)],
) -> Response:
    spec = SHEETS_BY_NAME[sheet.value]
    patient = scope.patient(patient_id)
    obj = scope.record(sheet.value, record_id, patient)
    scope.require_edit(patient)
    delete_record(scope, spec, obj, version)
    scope.session.commit()
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditEventOut], responses=ERRORS)
def audit(
    scope: Api,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=20)] = "",
    entity: Annotated[str, Query(max_length=40)] = "",
    patient_id: Annotated[str, Query(max_length=32)] = "",
    centre: Annotated[str, Query(max_length=16)] = "",
    since: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
    until: Annotated[str, Query(max_length=10, description="YYYY-MM-DD")] = "",
) -> list[AuditEventOut]:
    rows, _problem = audit_rows(
        scope, AuditFilter(actor, action, entity, patient_id, centre, since, until)
    )
    return [
        AuditEventOut(
            id=e.id, at=e.at, actor=e.actor, action=e.action, entity=e.entity,
            entity_key=e.entity_key, patient_id=e.patient_id, centre=e.centre,
            before=e.before, after=e.after, hash=e.hash,
        )
        for e in rows
    ]  # fmt: skip


class AuditHeadOut(BaseModel):
    """The trail's head: save it as a file and check it later with ``jakreg audit verify --anchor``."""

    events: int
    head_event_id: int | None
    head_hash: str
    written_at: str
    written_for: str
    format: str


@router.get("/audit/head", response_model=AuditHeadOut, responses=ERRORS)
def audit_head(scope: Api) -> AuditHeadOut:
    """The audit trail's event count and last hash (admins), for an anchor kept outside the server."""
    from jakreg.store.anchor import head

    scope.require_admin()
    return AuditHeadOut(**head(scope.session, "server").to_dict())
