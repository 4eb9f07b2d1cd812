"""Access control in one place: every query for patient data goes through ``Scope``.

A ``Scope`` is the caller (``Principal``) plus a database session. ``Scope.select`` limits any query on a
patient-data table to the caller's centres; ``Scope.patient`` and ``Scope.record`` load one record or say it
does not exist (another centre's patient is indistinguishable from a missing one); ``Scope.values`` removes
what the caller may not see (local ids, for analysts and outside one's own centres); ``Scope.require_edit``
is the single write check (role, centre, lock). Routes never filter by centre themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jakreg.model.sheets import SHEETS_BY_NAME, SheetSpec
from jakreg.store.audit import as_utc
from jakreg.store.repository import Directory, from_record
from jakreg.store.tables import TABLE_FOR_SHEET, AuditEvent, Base, Centre, Patient
from jakreg.store.users import Role, User
from jakreg.web import errors
from jakreg.web.errors import Forbidden, NotFound, RecordLocked

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
        return self.role in (Role.admin, Role.analyst)

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
        self._directory: Directory | None = None

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = Directory(self.session)
        return self._directory

    # --- the one scoping function ---------------------------------------------------------------

    def select(self, table: type[Base]) -> Select[Any]:
        """``select(table)`` limited to the caller's centres; every patient-data read starts here."""
        stmt: Select[Any] = select(table)
        if table is Patient:
            stmt = stmt.join(Centre, Centre.id == Patient.centre_pk)
        elif table is Centre:
            pass
        else:
            stmt = stmt.join(Patient, Patient.id == table.patient_pk).join(  # type: ignore[attr-defined]
                Centre, Centre.id == Patient.centre_pk
            )
        if not self.principal.all_centres:
            stmt = stmt.where(Centre.centre.in_(sorted(self.principal.centres)))
        return stmt

    def audit_select(self) -> Select[Any]:
        """Audit events the caller may read: admins all, centre users their centres', analysts none."""
        if self.principal.role is Role.analyst:
            raise Forbidden(errors.NO_AUDIT_ACCESS)
        stmt: Select[Any] = select(AuditEvent)
        if not self.principal.is_admin:
            stmt = stmt.where(AuditEvent.centre.in_(sorted(self.principal.centres)))
        return stmt

    # --- loading one record ---------------------------------------------------------------------

    def centres(self) -> list[Centre]:
        return list(self.session.scalars(self.select(Centre).order_by(Centre.centre)))

    def visible_centre_codes(self) -> list[str]:
        if self.principal.all_centres:
            return [c.centre for c in self.centres()]
        return sorted(self.principal.centres)

    def patient(self, patient_id: str) -> Patient:
        found: Patient | None = self.session.scalar(
            self.select(Patient).where(Patient.patient_id == patient_id)
        )
        if found is None:
            raise NotFound(errors.NO_PATIENT.format(patient_id=patient_id))
        return found

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
        order = [getattr(table, c) for c in SHEETS_BY_NAME[sheet].key if hasattr(table, c)]
        stmt = self.select(table).where(table.patient_pk == patient.id)  # type: ignore[attr-defined]
        return list(self.session.scalars(stmt.order_by(*order, table.id)))  # type: ignore[attr-defined]

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


def shown_time(at: dt.datetime | None) -> str:
    return "" if at is None else as_utc(at).strftime("%Y-%m-%d %H:%M UTC")
