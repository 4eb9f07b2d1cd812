"""Read and write study rows: the mapping between workbook rows and tables, and the audited upsert."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.ingest.checks import Key, KnownPatient
from jakreg.ingest.validate import StudyRows
from jakreg.model.rows import Row
from jakreg.model.sheets import SHEETS, SheetSpec
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.tables import (
    TABLE_FOR_SHEET,
    Base,
    Centre,
    ImportBatch,
    Patient,
    TreatmentCourse,
)

ProgressFn = Callable[[str, int], None]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def row_values(row: Row) -> dict[str, Any]:
    """A row's fields as plain values (enums as their text)."""
    return {name: _plain(getattr(row, name)) for name in type(row).model_fields}


class Directory:
    """Pseudonym <-> patient key and centre code <-> centre key, loaded once per transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.patient_pk: dict[str, int] = {}
        self.pseudonym: dict[int, str] = {}
        self.patient_centre: dict[int, str] = {}
        self.centre_pk: dict[str, int] = {}
        self.centre_code: dict[int, str] = {}
        self.reload()

    def reload(self) -> None:
        for pk, code in self.session.execute(select(Centre.id, Centre.centre)):
            self.centre_pk[code] = pk
            self.centre_code[pk] = code
        for pk, pid, cpk in self.session.execute(
            select(Patient.id, Patient.patient_id, Patient.centre_pk)
        ):
            self.patient_pk[pid] = pk
            self.pseudonym[pk] = pid
            self.patient_centre[pk] = self.centre_code[cpk]


def to_record(spec: SheetSpec, values: dict[str, Any], d: Directory) -> dict[str, Any]:
    """Workbook row values -> table column values."""
    out = dict(values)
    if spec.name == "patients":
        out["centre_pk"] = d.centre_pk[out.pop("centre")]
    elif "patient_id" in out:
        out["patient_pk"] = d.patient_pk[out.pop("patient_id")]
    return out


def from_record(spec: SheetSpec, obj: Base, d: Directory) -> dict[str, Any]:
    """Table object -> workbook row values (in the sheet's column order)."""
    out: dict[str, Any] = {}
    for name in spec.columns:
        if spec.name == "patients" and name == "centre":
            out[name] = d.centre_code[obj.centre_pk]  # type: ignore[attr-defined]
        elif name == "patient_id" and spec.name != "patients":
            out[name] = d.pseudonym[obj.patient_pk]  # type: ignore[attr-defined]
        else:
            out[name] = getattr(obj, name)
    return out


def iter_records(session: Session, spec: SheetSpec) -> Iterator[Base]:
    table = TABLE_FOR_SHEET[spec.name]
    order = [getattr(table, c) for c in ("patient_pk", *spec.key) if hasattr(table, c)]
    if spec.name == "patients":
        order = [Patient.patient_id]
    yield from session.scalars(select(table).order_by(*order, table.id))  # type: ignore[attr-defined]


class DatabaseState:
    """What the database holds, for the cross-row checks (jakreg.ingest.checks.Existing)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.d = Directory(session)
        self._keys: dict[str, set[Key]] = {}
        self._patients: dict[str, KnownPatient] | None = None
        self._courses: dict[tuple[str, int], tuple[dt.date, dt.date | None]] | None = None

    def has(self, sheet: str, key: Key) -> bool:
        if sheet not in self._keys:
            spec = next(s for s in SHEETS if s.name == sheet)
            self._keys[sheet] = {
                tuple(from_record(spec, o, self.d)[k] for k in spec.key)
                for o in iter_records(self.session, spec)
            }
        return key in self._keys[sheet]

    def patient(self, patient_id: str) -> KnownPatient | None:
        if self._patients is None:
            self._patients = {}
            for p in self.session.scalars(select(Patient)):
                self._patients[p.patient_id] = KnownPatient(
                    p.patient_id,
                    self.d.centre_code[p.centre_pk],
                    p.local_id,
                    p.birth_year_month,
                    p.last_follow_up,
                    p.vital_status,
                )
        return self._patients.get(patient_id)

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        cpk = self.d.centre_pk.get(centre)
        if cpk is None:
            return None
        return self.session.scalar(
            select(Patient.patient_id).where(Patient.centre_pk == cpk, Patient.local_id == local_id)
        )

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        if self._courses is None:
            self._courses = {
                (self.d.pseudonym[c.patient_pk], c.course_no): (c.start_date, c.stop_date)
                for c in self.session.scalars(select(TreatmentCourse))
            }
        return self._courses.get((patient_id, course_no))


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    file: str
    sha256: str
    sheets: dict[str, SheetCounts] = field(default_factory=dict)
    batch_pk: int | None = None
    audit_events: int = 0

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.sheets.values())

    @property
    def changed(self) -> bool:
        return self.total("created") + self.total("updated") > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "created": self.total("created"),
            "updated": self.total("updated"),
            "unchanged": self.total("unchanged"),
            "audit_events": self.audit_events,
            "sheets": {k: vars(v) for k, v in self.sheets.items()},
        }


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def _describe(spec: SheetSpec, values: dict[str, Any]) -> str:
    return " / ".join(str(_json_safe({k: values[k]})[k]) for k in spec.key)


def upsert_study(
    session: Session,
    study: StudyRows,
    *,
    actor: str,
    path: str,
    sha256: str,
    progress: ProgressFn | None = None,
    on_changed: Callable[[Session, dict[str, set[int]]], None] | None = None,
) -> ImportSummary:
    """Create new rows and update changed ones, each audited, in the caller's transaction.

    ``on_changed`` gets, per sheet, the patients whose rows were created or updated (to derive values).
    Rows missing from the file are kept: an import never deletes.
    """
    changed: dict[str, set[int]] = {}
    summary = ImportSummary(file=study.file, sha256=sha256)
    batch = ImportBatch(
        at=dt.datetime.now(dt.UTC), actor=actor, path=path, sha256=sha256,
        created=0, updated=0, unchanged=0,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    summary.batch_pk = batch.id
    audit = AuditWriter(session)
    d = Directory(session)
    for spec in SHEETS:
        rows = study.rows(spec.name)
        if not rows:
            continue
        counts = summary.sheets.setdefault(spec.name, SheetCounts())
        table = TABLE_FOR_SHEET[spec.name]
        existing: dict[Key, Base] = {}
        pids = {getattr(vr.row, "patient_id", None) for vr in rows}
        for obj in iter_records(session, spec):
            values = from_record(spec, obj, d)
            if spec.name in {"centres", "patients"} or values.get("patient_id") in pids:
                existing[tuple(values[k] for k in spec.key)] = obj
        touched: list[tuple[Base, str, dict[str, Any] | None, dict[str, Any]]] = []
        for n, vr in enumerate(rows, start=1):
            values = row_values(vr.row)
            found = existing.get(tuple(values[k] for k in spec.key))
            if found is None:
                obj = table(**to_record(spec, values, d))
                session.add(obj)
                counts.created += 1
                touched.append((obj, "create", None, values))
            else:
                obj = found
                old = from_record(spec, obj, d)
                if old == values:
                    counts.unchanged += 1
                    continue
                for name, value in to_record(spec, values, d).items():
                    setattr(obj, name, value)
                obj.version += 1  # type: ignore[attr-defined]
                counts.updated += 1
                touched.append((obj, "update", _json_safe(old), values))
            if progress is not None and n % 5000 == 0:
                progress(spec.name, 5000)
        session.flush()  # one flush per sheet gives every new row its id
        for obj, action, before, values in touched:
            pk: int = obj.id  # type: ignore[attr-defined]
            if spec.name == "centres":
                d.centre_pk[values["centre"]] = pk
                d.centre_code[pk] = values["centre"]
            if spec.name == "patients":
                d.patient_pk[values["patient_id"]] = pk
                d.pseudonym[pk] = values["patient_id"]
                d.patient_centre[pk] = values["centre"]
            pid: str | None = values.get("patient_id")
            if spec.name in {"centres", "patients"}:
                centre = values["centre"]
            else:
                centre = d.patient_centre[d.patient_pk[str(pid)]]
            audit.write(
                Change(
                    actor=actor,
                    action=action,
                    entity=spec.name,
                    entity_key=_describe(spec, values),
                    entity_pk=pk,
                    patient_id=pid,
                    centre=centre,
                    before=before,
                    after=_json_safe(values),
                    batch_pk=batch.id,
                )
            )
        if touched and spec.name not in {"centres", "patients"}:
            changed[spec.name] = {t[0].patient_pk for t in touched}  # type: ignore[attr-defined]
    if on_changed is not None and changed:
        on_changed(session, changed)
        session.flush()
    batch.created = summary.total("created")
    batch.updated = summary.total("updated")
    batch.unchanged = summary.total("unchanged")
    summary.audit_events = audit.count
    return summary
