"""Read and write study rows: the mapping between workbook rows and tables, and the audited upsert."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from jakreg.ingest.checks import Key, KnownPatient
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.validate import StudyRows, ValidRow
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
                    p.locked_by,
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
    warnings: ProblemLog | None = None  # what validation said that did not stop the import

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


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _row_columns(spec: SheetSpec, table: Table) -> list[Column[Any]]:
    """The table columns that hold a sheet's row (patient_pk/centre_pk for the references)."""
    names = [c for c in spec.columns if c in table.c]
    if spec.name == "patients":
        names.append("centre_pk")
    elif "patient_id" in spec.columns:
        names.append("patient_pk")
    return [table.c[n] for n in names]


def _existing_rows(
    session: Session, spec: SheetSpec, table: Table, d: Directory, pids: set[str]
) -> dict[Key, tuple[int, int, dict[str, Any]]]:
    """key -> (id, version, row values) of the rows already stored for the patients in the file."""
    columns = [table.c.id, table.c.version, *_row_columns(spec, table)]
    found: dict[Key, tuple[int, int, dict[str, Any]]] = {}
    if spec.name == "centres":
        batches: Iterator[Any] = iter([session.execute(select(*columns))])
    elif spec.name == "patients":
        batches = (
            session.execute(select(*columns).where(table.c.patient_id.in_(chunk)))
            for chunk in _chunks(sorted(pids))
        )
    else:
        pks = sorted(d.patient_pk[p] for p in pids if p in d.patient_pk)
        batches = (
            session.execute(select(*columns).where(table.c.patient_pk.in_(chunk)))
            for chunk in _chunks(pks)
        )
    for result in batches:
        for record in result.mappings():
            values = _record_values(spec, record, d)
            found[tuple(values[k] for k in spec.key)] = (record["id"], record["version"], values)
    return found


def _record_values(spec: SheetSpec, record: Any, d: Directory) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in spec.columns:
        if spec.name == "patients" and name == "centre":
            out[name] = d.centre_code[record["centre_pk"]]
        elif name == "patient_id" and spec.name != "patients":
            out[name] = d.pseudonym[record["patient_pk"]]
        else:
            out[name] = record[name]
    return out


def _insert(session: Session, table: Table, records: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in batches; returns their ids in order (RETURNING, SQLAlchemy's insertmanyvalues)."""
    ids: list[int] = []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for chunk in _chunks(records, 2000):
        ids.extend(session.execute(statement, chunk).scalars())
    return ids


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
    Rows missing from the file are kept: an import never deletes. Writes go through SQLAlchemy Core in
    batches (no ORM objects per row): an import of 100,000 rows is one transaction of a few hundred
    statements.
    """
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
    changed: dict[str, set[int]] = {}
    for spec in SHEETS:
        rows = study.rows(spec.name)
        if not rows:
            continue
        counts = summary.sheets.setdefault(spec.name, SheetCounts())
        table: Table = TABLE_FOR_SHEET[spec.name].__table__  # type: ignore[assignment]
        pids = {str(getattr(vr.row, "patient_id", "")) for vr in rows}
        existing = _existing_rows(session, spec, table, d, pids)
        touched: set[int] = set()
        # A sheet is written in slices so that only one slice's dicts, statements and audit
        # events are in memory at a time (a registry's labs sheet has millions of rows).
        for chunk in _chunks(rows, WRITE_SLICE):
            touched |= _write_slice(session, spec, table, chunk, existing, counts, d, audit,
                                    actor, batch.id)  # fmt: skip
            if progress is not None:
                progress(spec.name, len(chunk))
        if spec.name not in {"centres", "patients"} and touched:
            changed[spec.name] = touched
    if on_changed is not None and changed:
        on_changed(session, changed)
    batch.created = summary.total("created")
    batch.updated = summary.total("updated")
    batch.unchanged = summary.total("unchanged")
    summary.audit_events = audit.count
    return summary


WRITE_SLICE = 5000


def _write_slice(
    session: Session,
    spec: SheetSpec,
    table: Table,
    rows: list[ValidRow],
    existing: dict[Key, tuple[int, int, dict[str, Any]]],
    counts: SheetCounts,
    d: Directory,
    audit: AuditWriter,
    actor: str,
    batch_pk: int,
) -> set[int]:
    """Insert the new rows and update the changed ones of one slice, with their audit events;
    returns the patients (keys) whose rows changed."""
    created: list[dict[str, Any]] = []
    updated: list[tuple[int, int, dict[str, Any], dict[str, Any]]] = []
    for vr in rows:
        values = row_values(vr.row)
        found = existing.get(tuple(values[k] for k in spec.key))
        if found is None:
            created.append(values)
        elif found[2] != values:
            updated.append((found[0], found[1], found[2], values))
    counts.created += len(created)
    counts.updated += len(updated)
    counts.unchanged += len(rows) - len(created) - len(updated)
    ids = _insert(session, table, [{**to_record(spec, v, d), "version": 1} for v in created])
    if updated:
        names = [c.name for c in _row_columns(spec, table)]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({n: bindparam(f"b_{n}") for n in names} | {"version": bindparam("b_version")})
        )
        params = [
            {f"b_{k}": v for k, v in to_record(spec, new, d).items()}
            | {"b_id": pk, "b_version": version + 1}
            for pk, version, _old, new in updated
        ]
        for part in _chunks(params, 2000):
            session.execute(statement, part)
    if spec.name == "centres":
        for pk, values in zip(ids, created, strict=True):
            d.centre_pk[values["centre"]] = pk
            d.centre_code[pk] = values["centre"]
    if spec.name == "patients":
        for pk, values in zip(ids, created, strict=True):
            d.patient_pk[values["patient_id"]] = pk
            d.pseudonym[pk] = values["patient_id"]
            d.patient_centre[pk] = values["centre"]
    changes = [
        _change(spec, d, actor, batch_pk, pk, "create", None, values)
        for pk, values in zip(ids, created, strict=True)
    ] + [
        _change(spec, d, actor, batch_pk, pk, "update", _json_safe(old), new)
        for pk, _version, old, new in updated
    ]
    audit.write_many(changes)
    if spec.name in {"centres", "patients"}:
        return set()
    return {d.patient_pk[str(c.patient_id)] for c in changes}


def _change(
    spec: SheetSpec,
    d: Directory,
    actor: str,
    batch_pk: int,
    pk: int,
    action: str,
    before: dict[str, Any] | None,
    values: dict[str, Any],
) -> Change:
    pid: str | None = values.get("patient_id")
    if spec.name in {"centres", "patients"}:
        centre = values["centre"]
    else:
        centre = d.patient_centre[d.patient_pk[str(pid)]]
    return Change(
        actor=actor,
        action=action,
        entity=spec.name,
        entity_key=_describe(spec, values),
        entity_pk=pk,
        patient_id=pid,
        centre=centre,
        before=before,
        after=_json_safe(values),
        batch_pk=batch_pk,
    )
