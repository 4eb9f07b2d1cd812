"""Data entry: validate one record with the importer's own code, then create, update or delete it, audited.

Validation goes through jakreg.ingest exactly as a workbook row would (``validate_sheets`` then
``check_study`` against the database), so a form, the API and an import report the same problem in the
same words. Writes use the version column: a stale version is a StaleWrite (HTTP 409), never a lost update.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from jakreg.ingest.centre_view import CentreView
from jakreg.ingest.checks import Existing, check_study
from jakreg.ingest.problems import Problem, ProblemLog, Severity
from jakreg.ingest.read import RawSheet, RawWorkbook
from jakreg.ingest.validate import validate_sheets
from jakreg.model.rows import Row
from jakreg.model.sheets import SheetSpec
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.derive import DERIVATION_INPUTS, derive_patients
from jakreg.store.pseudonyms import UnknownCentre, allocate
from jakreg.store.repository import from_record, to_record
from jakreg.store.tables import (
    TABLE_FOR_SHEET,
    AssessmentItem,
    Base,
    Dose,
    Patient,
    TreatmentResponse,
)
from jakreg.web import errors
from jakreg.web.errors import BadInput, StaleWrite
from jakreg.web.scope import Scope, shown_time
from jakreg.web.state import PointState

FORM_FILE = "form"
CONTROL_CHARACTER = "the text holds a NUL character"
CONTROL_CHARACTER_FIX = (
    "retype the value; copy-paste from some programs brings invisible characters"
)

# Key columns that other rows refer to, or that identify the patient: fixed once the record exists.
FIXED_ON_EDIT: dict[str, frozenset[str]] = {
    "centres": frozenset({"centre"}),
    "patients": frozenset({"patient_id", "centre"}),
    "courses": frozenset({"patient_id", "course_no"}),
    "assessments": frozenset({"patient_id", "date", "score"}),
}
# Rows that hang off a record by a foreign key: deleting the record would delete them unaudited.
DEPENDENTS: dict[str, tuple[tuple[str, type[Base], tuple[str, ...]], ...]] = {
    "courses": (
        ("doses", Dose, ("course_no",)),
        ("responses", TreatmentResponse, ("course_no",)),
    ),
    "assessments": (("assessment items", AssessmentItem, ("date", "score")),),
}


def fixed_columns(sheet: str) -> frozenset[str]:
    return FIXED_ON_EDIT.get(sheet, frozenset({"patient_id"}))


@dataclass
class Checked:
    """A record's validation: the row when valid, and every problem, by field where one is named."""

    row: Row | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.row is not None and not any(p.severity is Severity.error for p in self.problems)

    def by_field(self, columns: list[str]) -> dict[str, list[Problem]]:
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            for column in _blamed(p, columns):
                out.setdefault(column, []).append(p)
        return out

    def general(self, columns: list[str]) -> list[Problem]:
        return [p for p in self.problems if not _blamed(p, columns)]

    def to_dict(self) -> dict[str, Any]:
        return {"problems": [p.to_dict() for p in self.problems]}


def _blamed(problem: Problem, columns: list[str]) -> list[str]:
    if problem.column is None:
        return []
    named = [c.strip() for c in problem.column.split(",")]
    hit = [c for c in named if c in columns and c != "patient_id"]
    return hit or [c for c in named if c in columns]


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else plain(v) for k, v in values.items()}


def row_values(row: Row) -> dict[str, Any]:
    return {name: plain(getattr(row, name)) for name in type(row).model_fields}


def _cell(value: Any) -> Any:
    """A form or JSON value as a spreadsheet cell (what the importer's reader would hand over)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


def check_record(
    session: Session,
    spec: SheetSpec,
    values: dict[str, Any],
    *,
    centre: str | None,
    today: dt.date | None = None,
    editing: Base | None = None,
    existing: PointState | None = None,
) -> Checked:
    """Validate one record as the importer would, plus: its key is not taken by another record.

    ``existing``: the database as the checks see it (``Scope.existing()``: shares what the request
    has read already); default, point queries on ``session``."""
    log = ProblemLog()
    unknown = sorted(set(values) - set(spec.columns) - {"version", "csrf_token"})
    columns = list(spec.columns)
    cells = [_cell(values.get(c)) for c in columns]
    control = [c for c, v in zip(columns, cells, strict=True) if isinstance(v, str) and "\x00" in v]
    if control:
        # PostgreSQL cannot hold a NUL character in text; stop before any query sees it.
        return Checked(
            None,
            [Problem(FORM_FILE, spec.name, 2, c, None, CONTROL_CHARACTER, CONTROL_CHARACTER_FIX)
             for c in control],
        )  # fmt: skip
    raw = RawSheet(FORM_FILE, spec.name, list(columns), iter([(2, cells)]))
    rows = validate_sheets(RawWorkbook(Path(FORM_FILE), [raw]), log, today=today or dt.date.today())
    for name in unknown:
        log.add(Problem(FORM_FILE, spec.name, 2, name, None, "unknown column", "remove the column"))
    valid = rows.rows(spec.name)
    row = valid[0].row if valid else None
    if row is not None:
        _fits_columns(spec, row, log)
        state = existing or PointState(session)  # the keys this record touches, not whole tables
        view: Existing = state
        if state.visible is not None:  # a centre user: new pseudonyms of the centre's series only
            view = CentreView(state, state.visible, series_only=True)
        check_study(rows, log, view, centre=centre)
        if not (isinstance(view, CentreView) and _held_elsewhere(view, spec, row)):
            _key_free(state, spec, row, editing, log)
    return Checked(row, list(log.kept))


def _held_elsewhere(view: CentreView, spec: SheetSpec, row: Row) -> bool:
    """A new patient whose pseudonym another centre holds: refused by the checks in the words of any
    unusable pseudonym; "already exists" would confirm it."""
    if spec.name != "patients":
        return False
    values = row_values(row)
    return view.unavailable(str(values["patient_id"]), str(values["centre"]))


def with_pseudonym(scope: Scope, values: dict[str, Any]) -> dict[str, Any]:
    """A new patient's values, with the next pseudonym of its centre's series when none is given
    (jakreg.store.pseudonyms; the caller has checked that the caller edits the centre)."""
    if str(values.get("patient_id") or "").strip():
        return values
    try:
        allocated = allocate(scope.session, str(values.get("centre") or ""))
    except UnknownCentre:
        return values  # the checks say what is wrong with the centre
    return {**values, "patient_id": allocated}


def _fits_columns(spec: SheetSpec, row: Row, log: ProblemLog) -> None:
    """Text longer than its database column (PostgreSQL refuses it), in the importer's words."""
    table = TABLE_FOR_SHEET[spec.name].__table__
    for name in spec.columns:
        value = plain(getattr(row, name))
        column = table.c.get(name)
        length = getattr(getattr(column, "type", None), "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            log.add(
                Problem(FORM_FILE, spec.name, 2, name, value[:80], "the text is too long",
                        f"shorten it to at most {length} characters")
            )  # fmt: skip


def _key_free(
    state: PointState, spec: SheetSpec, row: Row, editing: Base | None, log: ProblemLog
) -> None:
    if spec.name == "centres":
        return  # the centre code is fixed on edit and checked by the reference rules on create
    session = state.session
    table = TABLE_FOR_SHEET[spec.name]
    record = to_record(spec, row_values(row), state.d) if _resolvable(spec, row, state) else None
    if record is None:
        return
    key_cols = [c for c in spec.key if c != "patient_id"]
    conditions = [getattr(table, c) == record[c] for c in key_cols]
    if spec.name == "patients":
        conditions = [Patient.patient_id == record["patient_id"]]
        key_cols = ["patient_id"]
    else:
        conditions.append(table.patient_pk == record["patient_pk"])  # type: ignore[attr-defined]
    stmt = select(func.count()).select_from(table).where(*conditions)
    if editing is not None:
        stmt = stmt.where(table.id != editing.id)  # type: ignore[attr-defined]
    if session.scalar(stmt):
        shown = ", ".join(key_cols)
        log.add(
            Problem(
                FORM_FILE,
                spec.name,
                2,
                shown,
                " / ".join(str(plain(getattr(row, c))) for c in key_cols),
                errors.KEY_TAKEN.format(sheet=spec.name, columns=shown),
                errors.KEY_TAKEN_FIX.format(columns=shown),
            )
        )


def _resolvable(spec: SheetSpec, row: Row, state: PointState) -> bool:
    if spec.name == "patients":
        return str(row_values(row)["centre"]) in state.d.centre_pk
    return str(row_values(row)["patient_id"]) in state.d.patient_pk


def _describe(spec: SheetSpec, values: dict[str, Any]) -> str:
    safe = json_safe(values)
    return " / ".join(str(safe.get(k)) for k in spec.key)


def _validated(checked: Checked) -> Row:
    if not checked.ok or checked.row is None:
        raise BadInput("; ".join(str(p) for p in checked.problems) or "the record is not valid")
    return checked.row


def create_record(scope: Scope, spec: SheetSpec, checked: Checked) -> Base:
    """Insert a validated record (the caller checked edit rights); audited; derived values updated."""
    row = _validated(checked)
    session = scope.session
    d = scope.directory
    d.reload()
    values = row_values(row)
    table = TABLE_FOR_SHEET[spec.name]
    obj = table(**to_record(spec, values, d))
    session.add(obj)
    session.flush()
    _audit(scope, spec, obj, "create", None, values)
    _derive(session, spec, obj)
    return obj


def update_record(scope: Scope, spec: SheetSpec, obj: Base, checked: Checked, version: int) -> Base:
    """Update a record if ``version`` is still its version; StaleWrite (409) otherwise."""
    row = _validated(checked)
    session = scope.session
    d = scope.directory
    d.reload()
    table = TABLE_FOR_SHEET[spec.name]
    before = from_record(spec, obj, d)
    values = row_values(row)
    for column in fixed_columns(spec.name):
        if column in values and values[column] != before[column]:
            raise BadInput(errors.FIXED_ON_EDIT.format(column=column))
    record = to_record(spec, values, d)
    pk: int = obj.id  # type: ignore[attr-defined]
    result = session.execute(
        update(table)
        .where(table.id == pk, table.version == version)  # type: ignore[attr-defined]
        .values(**record, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        _raise_stale(session, spec, table, pk, version)
    session.refresh(obj)
    if before != values:
        _audit(scope, spec, obj, "update", before, values)
    _derive(session, spec, obj)
    return obj


def delete_record(scope: Scope, spec: SheetSpec, obj: Base, version: int) -> None:
    session = scope.session
    d = scope.directory
    table = TABLE_FOR_SHEET[spec.name]
    pk: int = obj.id  # type: ignore[attr-defined]
    before = from_record(spec, obj, d)
    for label, child, columns in DEPENDENTS.get(spec.name, ()):
        same_parent = [getattr(child, c) == getattr(obj, c) for c in ("patient_pk", *columns)]
        n = session.scalar(select(func.count()).select_from(child).where(*same_parent))
        if n:
            raise BadInput(errors.HAS_DEPENDENTS.format(sheet=spec.name, dependents=label))
    result = session.execute(
        delete(table)
        .where(table.id == pk, table.version == version)  # type: ignore[attr-defined]
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        _raise_stale(session, spec, table, pk, version)
    session.expunge(obj)
    _audit(scope, spec, obj, "delete", before, None, pk=pk)
    _derive(session, spec, obj)


def _raise_stale(
    session: Session, spec: SheetSpec, table: type[Base], pk: int, version: int
) -> None:
    now = session.scalar(select(table.version).where(table.id == pk))  # type: ignore[attr-defined]
    if now is None:
        raise StaleWrite(errors.GONE.format(sheet=spec.name))
    raise StaleWrite(errors.STALE.format(sheet=spec.name, had=version, now=now))


def _audit(
    scope: Scope,
    spec: SheetSpec,
    obj: Base,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    pk: int | None = None,
) -> None:
    values = after if after is not None else before or {}
    if spec.name == "centres":
        pid, centre = None, str(values["centre"])
    elif spec.name == "patients":
        pid, centre = str(values["patient_id"]), str(values["centre"])
    else:
        pid = str(values["patient_id"])
        centre = scope.directory.patient_centre[scope.directory.patient_pk[pid]]
    AuditWriter(scope.session).write(
        Change(
            actor=scope.principal.username,
            action=action,
            entity=spec.name,
            entity_key=_describe(spec, values),
            entity_pk=pk if pk is not None else obj.id,  # type: ignore[attr-defined]
            patient_id=pid,
            centre=centre,
            before=None if before is None else json_safe(before),
            after=None if after is None else json_safe(after),
        )
    )


def _derive(session: Session, spec: SheetSpec, obj: Base) -> None:
    if spec.name in DERIVATION_INPUTS:
        session.flush()
        derive_patients(session, [obj.patient_pk])  # type: ignore[attr-defined]


# --- locking --------------------------------------------------------------------------------------


def lock_patient(scope: Scope, patient: Patient) -> None:
    """An editor of the patient's centre, or an admin, makes the patient read-only for everyone."""
    scope.require_edit_centre(scope.centre_of(patient))
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = scope.session.execute(
        update(Patient)
        .where(Patient.id == patient.id, Patient.locked_by.is_(None))
        .values(locked_by=scope.principal.username, locked_at=at)
        .execution_options(synchronize_session=False)
    )
    scope.session.refresh(patient)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleWrite(
            errors.ALREADY_LOCKED.format(
                patient_id=patient.patient_id,
                by=patient.locked_by,
                at=shown_time(patient.locked_at),
            )
        )
    _lock_event(scope, patient, "lock", None, {"locked_by": patient.locked_by, "locked_at": at})


def unlock_patient(scope: Scope, patient: Patient) -> None:
    scope.require_admin()
    if patient.locked_by is None:
        raise StaleWrite(errors.NOT_LOCKED.format(patient_id=patient.patient_id))
    before = {"locked_by": patient.locked_by, "locked_at": patient.locked_at}
    patient.locked_by = None
    patient.locked_at = None
    scope.session.flush()
    _lock_event(scope, patient, "unlock", before, None)


def _lock_event(
    scope: Scope,
    patient: Patient,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    AuditWriter(scope.session).write(
        Change(
            actor=scope.principal.username,
            action=action,
            entity="patients",
            entity_key=patient.patient_id,
            entity_pk=patient.id,
            patient_id=patient.patient_id,
            centre=scope.centre_of(patient),
            before=None if before is None else json_safe(before),
            after=None if after is None else json_safe(after),
        )
    )


SHEET_TITLES: dict[str, str] = {
    "centres": "Centre",
    "patients": "Patient",
    "variants": "Variant",
    "manifestations": "Manifestation",
    "courses": "Treatment course",
    "doses": "Dose",
    "body_measurements": "Body measurement",
    "assessments": "Assessment",
    "assessment_items": "Assessment item",
    "labs": "Lab result",
    "biomarkers": "Biomarker",
    "adverse_events": "Adverse event",
    "responses": "Response",
    "hsct": "HSCT",
}
