"""Access control in one place: every query for patient data goes through ``Scope``.

A ``Scope`` is the caller (``Principal``) plus a database session. ``Scope.select`` limits any query on a
patient-data table to the caller's centres; ``Scope.patient`` and ``Scope.record`` load one record or say it
does not exist (another centre's patient is indistinguishable from a missing one); ``Scope.values`` removes
what the caller may not see (local ids, for analysts and outside one's own centres); ``Scope.require_edit``
is the single write check (role, centre, lock). Routes never filter by centre themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from jakreg.model.sheets import SHEETS_BY_NAME, SheetSpec
from jakreg.store.audit import as_utc
from jakreg.store.audit_rows import BATCH_ACTIONS, RowChange, RowFilter, row_changes
from jakreg.store.repository import from_record
from jakreg.store.tables import TABLE_FOR_SHEET, AuditEvent, Base, Centre, Patient
from jakreg.store.users import Role, User
from jakreg.web import errors
from jakreg.web.errors import Forbidden, NotFound, RecordLocked
from jakreg.web.state import LazyDirectory, PointState

PATIENT_SHEETS: tuple[str, ...] = tuple(s for s in SHEETS_BY_NAME if s not in ("centres",))
CHILD_SHEETS: tuple[str, ...] = tuple(s for s in PATIENT_SHEETS if s != "patients")
IDENTIFYING_COLUMNS = frozenset({"local_id"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: name, role and centres (for centre roles)."""

    user_pk: int
    username: str
    role: Role
    centres: frozenset[str]

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.username, Role(user.role), frozenset(user.centres))

    @property
    def all_centres(self) -> bool:
        return self.role in (Role.admin, Role.analyst, Role.monitor)

    @property
    def can_edit(self) -> bool:
        return self.role in (Role.admin, Role.centre_editor)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def reads(self, centre: str) -> bool:
        return self.all_centres or centre in self.centres

    def edits(self, centre: str) -> bool:
        return self.role is Role.admin or (
            self.role is Role.centre_editor and centre in self.centres
        )

    def sees_local_ids(self, centre: str) -> bool:
        # Local ids stay at their centre: analysts never see them, centre users only their own.
        return self.role is Role.admin or (self.role in _CENTRE_ROLES and centre in self.centres)


_CENTRE_ROLES = (Role.centre_editor, Role.centre_viewer)


def sheet_spec(sheet: str) -> SheetSpec:
    spec = SHEETS_BY_NAME.get(sheet)
    if spec is None or sheet not in PATIENT_SHEETS:
        raise NotFound(errors.NO_SHEET.format(sheet=sheet, sheets=", ".join(CHILD_SHEETS)))
    return spec


class Scope:
    """The caller's view of the database."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self._directory: LazyDirectory | None = None
        self._read: list[Patient] = []

    @property
    def directory(self) -> LazyDirectory:
        if self._directory is None:
            self._directory = LazyDirectory(self.session)
        return self._directory

    # --- the one scoping function ---------------------------------------------------------------

    def select(self, table: type[Base]) -> Select[Any]:
        """``select(table)`` limited to the caller's centres; every patient-data read starts here."""
        return _scoped_select(table, self._centres_key)

    @property
    def visible_centres(self) -> frozenset[str] | None:
        """The centres whose patients the caller may know exist; None for every centre."""
        return self._centres_key

    @property
    def _centres_key(self) -> frozenset[str] | None:
        """What the scoping depends on: None for every centre, else the caller's centres."""
        return None if self.principal.all_centres else self.principal.centres

    def audit_select(self) -> Select[Any]:
        """Audit events the caller may read: admins all, centre users their centres', analysts and monitors
        none."""
        if self.principal.role is Role.analyst:
            raise Forbidden(errors.NO_AUDIT_ACCESS)
        if self.principal.role is Role.monitor:  # events hold local ids, which monitors never see
            raise Forbidden(errors.NO_AUDIT_ACCESS_MONITOR)
        stmt: Select[Any] = select(AuditEvent)
        if not self.principal.is_admin:
            # an import's batch event names no centre when its rows span several: audit_changes
            # keeps the caller's rows of it
            stmt = stmt.where(
                or_(
                    AuditEvent.centre.in_(sorted(self.principal.centres)),
                    AuditEvent.action.in_(BATCH_ACTIONS) & AuditEvent.centre.is_(None),
                )
            )
        return stmt

    def audit_changes(self, stmt: Select[Any], rows: RowFilter, limit: int) -> list[RowChange]:
        """The row changes of ``stmt`` (from audit_select) the caller may read, newest first: per-row
        events and the caller's centres' rows of batch events."""
        centres = None if self.principal.is_admin else frozenset(self.principal.centres)
        return row_changes(
            self.session, stmt, replace(rows, centres=centres), limit=limit, newest_first=True
        )

    # --- loading one record ---------------------------------------------------------------------

    def centres(self) -> list[Centre]:
        return list(self.session.scalars(self.select(Centre).order_by(Centre.centre)))

    def visible_centre_codes(self) -> list[str]:
        if self.principal.all_centres:
            return [c.centre for c in self.centres()]
        return sorted(self.principal.centres)

    def patient(self, patient_id: str) -> Patient:
        found = self.session.execute(
            _patient_by_id(self._centres_key), {"patient_id": patient_id}
        ).first()
        if found is None:
            raise NotFound(errors.NO_PATIENT.format(patient_id=patient_id))
        patient, centre = found
        self.directory.remember_centre(patient.centre_pk, centre)  # no second query for its code
        self.directory.remember_patient(patient.id, patient.patient_id, patient.centre_pk)
        self._read.append(patient)
        return patient  # type: ignore[no-any-return]

    def existing(self) -> PointState:
        """What the database holds, for the importer's checks (``entry.check_record``): by point
        queries, sharing this scope's directory and the patients it has read; for a centre user, only
        the caller's centres (``PointState.visible``), so no answer tells of another centre's patients."""
        state = PointState(self.session, self.directory, known=self._read)
        state.visible = self.visible_centres
        return state

    def record(self, sheet: str, pk: int, patient: Patient) -> Base:
        spec = sheet_spec(sheet)
        table = TABLE_FOR_SHEET[spec.name]
        found: Base | None = self.session.scalar(
            self.select(table).where(
                table.id == pk,  # type: ignore[attr-defined]
                table.patient_pk == patient.id,  # type: ignore[attr-defined]
            )
        )
        if found is None:
            raise NotFound(
                errors.NO_RECORD.format(sheet=sheet, pk=pk, patient_id=patient.patient_id)
            )
        return found

    def records(self, sheet: str, patient: Patient) -> list[Base]:
        table = TABLE_FOR_SHEET[sheet_spec(sheet).name]
        stmt = _records_of_patient(table, self._centres_key)
        return list(self.session.scalars(stmt, {"patient_pk": patient.id}))

    def record_rows(self, sheet: str, patient: Patient) -> list[tuple[Row[Any], dict[str, Any]]]:
        """A patient's records of one sheet, read-only: (row, workbook values) per record.

        For pages and API answers that only show records: plain rows (attributes as on the ORM object,
        ``row.id``, ``row.version``, ...) cost a third of ORM objects, and the values are taken by
        position. They equal ``values(sheet, obj)`` (tests/web/test_pure.py checks it)."""
        table = TABLE_FOR_SHEET[sheet_spec(sheet).name]
        rows = self.session.execute(
            _record_rows_of_patient(table, self._centres_key), {"patient_pk": patient.id}
        ).all()
        layout = _row_layout(sheet)
        pid = patient.patient_id
        return [(row, {c: pid if i is None else row[i] for c, i in layout}) for row in rows]

    def centre_of(self, patient: Patient) -> str:
        return self.directory.centre_code[patient.centre_pk]

    # --- what the caller may see ----------------------------------------------------------------

    def values(self, sheet: str, obj: Base) -> dict[str, Any]:
        """The record as workbook values, without what the caller may not see."""
        spec = SHEETS_BY_NAME[sheet]
        values = from_record(spec, obj, self.directory)
        if sheet == "patients" and not self.principal.sees_local_ids(values["centre"]):
            for column in IDENTIFYING_COLUMNS:
                values.pop(column, None)
        return values

    # --- the one write check ----------------------------------------------------------------------

    def require_editor(self) -> None:
        if not self.principal.can_edit:
            raise Forbidden(errors.ROLE_CANNOT_EDIT.format(role=self.principal.role.value))

    def require_edit_centre(self, centre: str) -> None:
        self.require_editor()
        if not self.principal.edits(centre):
            raise Forbidden(errors.CENTRE_NOT_YOURS.format(centre=centre))

    def require_edit(self, patient: Patient) -> None:
        """May the caller change this patient's records now? Role, centre, then the lock."""
        self.require_edit_centre(self.centre_of(patient))
        if patient.locked_by is not None:
            raise RecordLocked(
                errors.LOCKED.format(
                    patient_id=patient.patient_id,
                    by=patient.locked_by,
                    at=shown_time(patient.locked_at),
                )
            )

    def require_admin(self) -> None:
        if not self.principal.is_admin:
            raise Forbidden(errors.ADMIN_ONLY)


# Built statements, by table and scope: building a SELECT with its joins costs more than running it on
# SQLite, and a request runs a dozen. Statements are immutable; the values are bound parameters.


@lru_cache(maxsize=1024)
def _scoped_select(table: type[Base], centres: frozenset[str] | None) -> Select[Any]:
    return _scoped(select(table), table, centres)


def _scoped(stmt: Select[Any], table: type[Base], centres: frozenset[str] | None) -> Select[Any]:
    if table is Patient:
        stmt = stmt.join(Centre, Centre.id == Patient.centre_pk)
    elif table is Centre:
        pass
    else:
        stmt = stmt.join(Patient, Patient.id == table.patient_pk).join(  # type: ignore[attr-defined]
            Centre, Centre.id == Patient.centre_pk
        )
    if centres is not None:
        stmt = stmt.where(Centre.centre.in_(sorted(centres)))
    return stmt


@lru_cache(maxsize=1024)
def _patient_by_id(centres: frozenset[str] | None) -> Select[Any]:
    both: Any = select(Patient, Centre.centre)
    stmt = _scoped(both, Patient, centres)
    return stmt.where(Patient.patient_id == bindparam("patient_id"))


def _in_key_order(table: type[Base]) -> list[Any]:
    sheet = next(s for s, t in TABLE_FOR_SHEET.items() if t is table)
    order = [getattr(table, c) for c in SHEETS_BY_NAME[sheet].key if hasattr(table, c)]
    return [*order, table.id]  # type: ignore[attr-defined]


# One patient's records. For a caller who sees every centre there is no centre condition, so the joins
# that carry it are left out (a third of PostgreSQL's planning time per query).


@lru_cache(maxsize=1024)
def _records_of_patient(table: type[Base], centres: frozenset[str] | None) -> Select[Any]:
    stmt: Select[Any] = select(table)
    return _of_patient(stmt if centres is None else _scoped(stmt, table, centres), table)


@lru_cache(maxsize=1024)
def _record_rows_of_patient(table: type[Base], centres: frozenset[str] | None) -> Select[Any]:
    stmt: Select[Any] = select(*table.__table__.columns)
    return _of_patient(stmt if centres is None else _scoped(stmt, table, centres), table)


def _of_patient(stmt: Select[Any], table: type[Base]) -> Select[Any]:
    return stmt.where(
        table.patient_pk == bindparam("patient_pk")  # type: ignore[attr-defined]
    ).order_by(*_in_key_order(table))


@lru_cache(maxsize=64)
def _row_layout(sheet: str) -> tuple[tuple[str, int | None], ...]:
    """(column, its position in the table's row) per workbook column; None: the patient's pseudonym."""
    names = [c.name for c in TABLE_FOR_SHEET[sheet].__table__.columns]
    return tuple(
        (c, None if c == "patient_id" else names.index(c)) for c in SHEETS_BY_NAME[sheet].columns
    )


def shown_time(at: dt.datetime | None) -> str:
    return "" if at is None else as_utc(at).strftime("%Y-%m-%d %H:%M UTC")
