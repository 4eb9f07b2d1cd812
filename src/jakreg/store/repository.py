"""Read and write study rows: the mapping between workbook rows and tables, and the audited upsert."""

from __future__ import annotations

import datetime as dt
import enum
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from jakreg.ingest.checks import DUPLICATES_BY_DATABASE, Key, KnownPatient, duplicate_problem
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.validate import StudyRows, ValidRow
from jakreg.model.rows import Row
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME, SheetSpec
from jakreg.store.audit import AuditWriter, SliceChanges
from jakreg.store.audit_batch import plain_column
from jakreg.store.bulk import BulkInsert
from jakreg.store.tables import (
    TABLE_FOR_SHEET,
    Base,
    Centre,
    ImportBatch,
    Patient,
    TreatmentCourse,
)

ProgressFn = Callable[[str, int], None]


def row_values(row: Row) -> dict[str, Any]:
    """A row's fields as plain values (enums as their text)."""
    return {
        name: value.value if isinstance(value, enum.Enum) else value
        for name, value in row.__dict__.items()
    }


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
    """What the database holds, for the cross-row checks (jakreg.ingest.checks.Existing).

    Patients are read once (a registry has thousands, and every row names one); anything else is
    asked by key when a row refers to something its file does not hold, and the answer remembered.
    The queries join on the patient and centre tables, so rows this import has written already (a
    streamed import writes as it checks) are seen like any others.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._has: dict[tuple[str, Key], bool] = {}
        self._patients: dict[str, KnownPatient] | None = None
        self._courses: dict[tuple[str, int], tuple[dt.date, dt.date | None] | None] = {}

    def has(self, sheet: str, key: Key) -> bool:
        spec = SHEETS_BY_NAME[sheet]
        if len(key) != len(spec.key):
            return False
        if sheet == "patients":
            return self.patient(str(key[0])) is not None
        found = self._has.get((sheet, key))
        if found is None:
            table: Table = TABLE_FOR_SHEET[sheet].__table__  # type: ignore[assignment]
            query = select(table.c.id).limit(1)
            for column, value in zip(spec.key, key, strict=True):
                if column == "patient_id":
                    query = query.join(Patient, Patient.id == table.c.patient_pk).where(
                        Patient.patient_id == value
                    )
                elif value is None:
                    query = query.where(table.c[column].is_(None))
                else:
                    query = query.where(table.c[column] == value)
            found = self.session.execute(query).first() is not None
            if len(self._has) >= 100_000:
                self._has.clear()  # a cache of recent answers, not a copy of the table
            self._has[(sheet, key)] = found
        return found

    def patient(self, patient_id: str) -> KnownPatient | None:
        if self._patients is None:
            self._patients = {}
            query = select(Patient, Centre.centre).join(Centre, Centre.id == Patient.centre_pk)
            for p, centre in self.session.execute(query):
                self._patients[p.patient_id] = KnownPatient(
                    p.patient_id,
                    centre,
                    p.local_id,
                    p.birth_year_month,
                    p.last_follow_up,
                    p.vital_status,
                    p.locked_by,
                )
        return self._patients.get(patient_id)

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        return self.session.scalar(
            select(Patient.patient_id)
            .join(Centre, Centre.id == Patient.centre_pk)
            .where(Centre.centre == centre, Patient.local_id == local_id)
        )

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        key = (patient_id, course_no)
        if key not in self._courses:
            found = self.session.execute(
                select(TreatmentCourse.start_date, TreatmentCourse.stop_date)
                .join(Patient, Patient.id == TreatmentCourse.patient_pk)
                .where(Patient.patient_id == patient_id, TreatmentCourse.course_no == course_no)
            ).first()
            self._courses[key] = None if found is None else (found[0], found[1])
        return self._courses[key]


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
    audited_changes: int = 0  # row changes those events hold (an import writes one event per slice)
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
            "audited_changes": self.audited_changes,
            "sheets": {k: vars(v) for k, v in self.sheets.items()},
        }


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


def _set(numbers: array[int], index: int, value: int) -> None:
    if index >= len(numbers):
        grown = max(index + 1, len(numbers) + len(numbers) // 4, 1024)  # 25 % at a time
        numbers.extend(array("I", bytes(4 * (grown - len(numbers)))))
    numbers[index] = value


def _row_at(numbers: array[int], index: int) -> int:
    """The file row recorded for a record id, 0 when none."""
    return numbers[index] if index < len(numbers) else 0


class StudyWriter:
    """Writes validated rows slice by slice in the caller's transaction: new rows are inserted, changed
    rows updated (version + 1), identical rows left alone, each change audited. An import never deletes.

    Slices are written as they come (jakreg.ingest.pipeline), so memory stays flat however long a sheet
    is; the caller commits at the end, or rolls everything back. Rows are inserted with the database
    driver's executemany and ids taken up front (SQLite: after the largest id, under the import's
    write lock; PostgreSQL: from the table's sequence), so no per-row round trip is needed.
    """

    def __init__(
        self,
        session: Session,
        *,
        actor: str,
        path: str,
        sha256: str,
        file: str,
        log: ProblemLog | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.log = log if log is not None else ProblemLog()
        self.summary = ImportSummary(file=file, sha256=sha256)
        self.batch = ImportBatch(
            at=dt.datetime.now(dt.UTC), actor=actor, path=path, sha256=sha256,
            created=0, updated=0, unchanged=0,
        )  # fmt: skip
        session.add(self.batch)
        session.flush()
        self.summary.batch_pk = self.batch.id
        self.audit = AuditWriter(session)
        self.d = Directory(session)
        self.changed: dict[str, set[int]] = {}
        self._had_rows: dict[str, bool] = {}
        self._next_id: dict[str, int] = {}
        self._inserts: dict[str, BulkInsert] = {}
        # per sheet, the file row that created or matched each record id in this import (0: none),
        # so a key given twice is found by the database's unique index rather than kept in memory
        self._row_of: dict[str, array[int]] = {}

    def write(self, spec: SheetSpec, rows: list[ValidRow], file: str = "") -> None:
        """Write one slice of a sheet (the rows passed validation and the cross-row checks).

        For the sheets in DUPLICATES_BY_DATABASE a key given twice in the file is reported here (to
        the log; the caller then rolls back): within the slice, against the records this import
        created or matched before, and by the table's unique index on insert.
        """
        table: Table = TABLE_FOR_SHEET[spec.name].__table__  # type: ignore[assignment]
        counts = self.summary.sheets.setdefault(spec.name, SheetCounts())
        by_db = spec.name in DUPLICATES_BY_DATABASE
        values = [row_values(vr.row) for vr in rows]
        existing = self._existing(spec, table, values)
        row_of = self._row_of.setdefault(spec.name, array("I"))
        created: list[dict[str, Any]] = []
        created_rows: list[int] = []
        updated: list[tuple[int, int, dict[str, Any], dict[str, Any]]] = []
        in_slice: dict[Key, int] = {}
        for vr, v in zip(rows, values, strict=True):
            key = tuple(v[k] for k in spec.key)
            found = existing.get(key)
            if by_db and None not in key:  # keys with a blank part are the checker's
                earlier = in_slice.setdefault(key, vr.number)
                if earlier == vr.number and found is not None:
                    earlier = _row_at(row_of, found[0]) or vr.number
                if earlier != vr.number:
                    self._duplicate(spec, file, vr.number, key, earlier)
                    continue
            if found is None:
                created.append(v)
                created_rows.append(vr.number)
                continue
            _set(row_of, found[0], vr.number)
            if found[2] != v:
                updated.append((found[0], found[1], found[2], v))
        counts.created += len(created)
        counts.updated += len(updated)
        counts.unchanged += len(values) - len(created) - len(updated)
        ids = self._insert(spec, table, created)
        for pk, number in zip(ids, created_rows, strict=True):
            _set(row_of, pk, number)
        if by_db and ids:
            self._conflicts(spec, table, file, ids, created, created_rows)
        if updated:
            self._update(spec, table, updated)
        d = self.d
        if spec.name == "centres":
            for pk, v in zip(ids, created, strict=True):
                d.centre_pk[v["centre"]] = pk
                d.centre_code[pk] = v["centre"]
        if spec.name == "patients":
            for pk, v in zip(ids, created, strict=True):
                d.patient_pk[v["patient_id"]] = pk
                d.pseudonym[pk] = v["patient_id"]
                d.patient_centre[pk] = v["centre"]
        batch_pk = self.batch.id
        audited = [
            _slice_changes(spec, d, self.actor, batch_pk, "create", ids, created, None),
            _slice_changes(
                spec, d, self.actor, batch_pk, "update", [u[0] for u in updated],
                [u[3] for u in updated], [u[2] for u in updated],
            ),
        ]  # fmt: skip
        for changes in audited:
            if changes is not None:
                self.audit.write_slice(changes)
                if spec.name not in {"centres", "patients"}:
                    self.changed.setdefault(spec.name, set()).update(
                        d.patient_pk[str(pid)] for pid in changes.patient_ids
                    )

    def finish(
        self, on_changed: Callable[[Session, dict[str, set[int]]], None] | None = None
    ) -> ImportSummary:
        """Derive (``on_changed`` gets, per sheet, the patients whose rows changed) and close the batch."""
        if on_changed is not None and self.changed:
            on_changed(self.session, self.changed)
        summary = self.summary
        self.batch.created = summary.total("created")
        self.batch.updated = summary.total("updated")
        self.batch.unchanged = summary.total("unchanged")
        summary.audit_events = self.audit.count
        summary.audited_changes = self.audit.changes
        return summary

    def find_duplicates(self, spec: SheetSpec, rows: list[ValidRow], file: str = "") -> None:
        """Report rows whose key this import wrote before (writing stopped at an earlier error; the
        checker keeps the keys from here on)."""
        if spec.name not in DUPLICATES_BY_DATABASE or spec.name not in self._row_of:
            return
        table: Table = TABLE_FOR_SHEET[spec.name].__table__  # type: ignore[assignment]
        row_of = self._row_of[spec.name]
        known = self.d.patient_pk
        pairs = [(vr, row_values(vr.row)) for vr in rows]
        pairs = [(vr, v) for vr, v in pairs if v.get("patient_id") in known]
        existing = self._existing(spec, table, [v for _vr, v in pairs], always=True)
        for vr, v in pairs:
            key = tuple(v[k] for k in spec.key)
            if None in key:
                continue  # the checker's
            found = existing.get(key)
            first = 0 if found is None else _row_at(row_of, found[0])
            if first:
                self._duplicate(spec, file, vr.number, key, first)

    def _duplicate(self, spec: SheetSpec, file: str, number: int, key: Key, first: int) -> None:
        self.log.add(duplicate_problem(file, spec, number, key, first))

    def _conflicts(
        self,
        spec: SheetSpec,
        table: Table,
        file: str,
        ids: list[int],
        created: list[dict[str, Any]],
        numbers: list[int],
    ) -> None:
        """Rows the unique index turned away (INSERT ... ON CONFLICT DO NOTHING): duplicates of rows
        this import wrote in an earlier slice."""
        if self.session.get_bind().dialect.name == "sqlite":
            ours = table.c.id.between(ids[0], ids[-1])  # ids are consecutive under SQLite's lock
        else:
            ours = table.c.id.in_(ids)
        if self.session.scalar(select(func.count()).select_from(table).where(ours)) == len(ids):
            return
        present = set(self.session.scalars(select(table.c.id).where(ours)))
        missing = [
            (v, n) for pk, v, n in zip(ids, created, numbers, strict=True) if pk not in present
        ]
        existing = self._existing(spec, table, [v for v, _n in missing], always=True)
        row_of = self._row_of[spec.name]
        for v, number in missing:
            key = tuple(v[k] for k in spec.key)
            found = existing.get(key)
            self._duplicate(
                spec, file, number, key, 0 if found is None else _row_at(row_of, found[0])
            )

    def _existing(
        self, spec: SheetSpec, table: Table, values: list[dict[str, Any]], *, always: bool = False
    ) -> dict[Key, tuple[int, int, dict[str, Any]]]:
        """key -> (id, version, row values) of the slice's rows already in the database."""
        if not values:
            return {}
        if not always and not self._had_rows.setdefault(
            spec.name, self.session.execute(select(table.c.id).limit(1)).first() is not None
        ):
            return {}  # the table was empty when the import began (in-file duplicates are errors)
        d = self.d
        columns = [table.c.id, table.c.version, *_row_columns(spec, table)]
        if spec.name == "centres":
            results: Iterator[Any] = iter([self.session.execute(select(*columns))])
        elif spec.name == "patients":
            pids = sorted({v["patient_id"] for v in values})
            results = (
                self.session.execute(select(*columns).where(table.c.patient_id.in_(chunk)))
                for chunk in _chunks(pids)
            )
        else:
            pks = sorted({d.patient_pk[v["patient_id"]] for v in values})
            results = (
                self.session.execute(select(*columns).where(table.c.patient_pk.in_(chunk)))
                for chunk in _chunks(pks)
            )
        found: dict[Key, tuple[int, int, dict[str, Any]]] = {}
        for result in results:
            for record in result.mappings():
                v = _record_values(spec, record, d)
                found[tuple(v[k] for k in spec.key)] = (record["id"], record["version"], v)
        return found

    def _insert(self, spec: SheetSpec, table: Table, created: list[dict[str, Any]]) -> list[int]:
        if not created:
            return []
        ids = self._take_ids(table, len(created))
        fast = self._inserts.get(spec.name)
        if fast is None:
            fast = self._inserts[spec.name] = BulkInsert(
                self.session, table, skip_conflicts=spec.name in DUPLICATES_BY_DATABASE
            )
        fast.run_rows(_insert_rows(spec, fast, created, ids, self.d))
        return ids

    def _take_ids(self, table: Table, n: int) -> list[int]:
        if self.session.get_bind().dialect.name == "postgresql":
            return list(
                self.session.scalars(
                    text(
                        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"table": table.name, "n": n},
                )
            )
        if table.name not in self._next_id:
            top = self.session.scalar(select(func.max(table.c.id)))
            self._next_id[table.name] = (top or 0) + 1
        first = self._next_id[table.name]
        self._next_id[table.name] = first + n
        return list(range(first, first + n))

    def _update(
        self,
        spec: SheetSpec,
        table: Table,
        updated: list[tuple[int, int, dict[str, Any], dict[str, Any]]],
    ) -> None:
        names = [c.name for c in _row_columns(spec, table)]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({n: bindparam(f"b_{n}") for n in names} | {"version": bindparam("b_version")})
        )
        params = [
            {f"b_{k}": v for k, v in to_record(spec, new, self.d).items()}
            | {"b_id": pk, "b_version": version + 1}
            for pk, version, _old, new in updated
        ]
        for part in _chunks(params, 2000):
            self.session.execute(statement, part)


def _insert_rows(
    spec: SheetSpec, fast: BulkInsert, created: list[dict[str, Any]], ids: list[int], d: Directory
) -> list[list[Any]]:
    """New records as lists in ``fast``'s column order: what ``fast.run`` makes of
    ``{**to_record(spec, v, d), "id": pk, "version": 1}``, without a dict per row."""
    fields = fast.fields
    rows = [[v.get(name, default) for name, default in fields] for v in created]
    names = [name for name, _default in fields]
    if spec.name == "patients":
        source, target, lookup = "centre", "centre_pk", d.centre_pk
    elif "patient_id" in spec.columns:
        source, target, lookup = "patient_id", "patient_pk", d.patient_pk
    else:
        source = target = ""
        lookup = {}
    if source in names:  # to_record moves the reference to its key column: the table's default
        i = names.index(source)
        for row in rows:
            row[i] = fields[i][1]
    if target:
        i = names.index(target)
        for row, v in zip(rows, created, strict=True):
            row[i] = lookup[v[source]]
    i, j = names.index("id"), names.index("version")
    for row, pk in zip(rows, ids, strict=True):
        row[i] = pk
        row[j] = 1
    return rows


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
    """Create new rows and update changed ones of a validated study, each audited, in the caller's
    transaction (web uploads; a file import streams through StudyWriter itself)."""
    writer = StudyWriter(session, actor=actor, path=path, sha256=sha256, file=study.file)
    for spec in SHEETS:
        rows = study.rows(spec.name)
        for chunk in _chunks(rows, WRITE_SLICE):
            writer.write(spec, chunk, study.file_of(spec.name))
            if progress is not None:
                progress(spec.name, len(chunk))
    return writer.finish(on_changed)


WRITE_SLICE = 5000


def _slice_changes(
    spec: SheetSpec,
    d: Directory,
    actor: str,
    batch_pk: int,
    action: str,
    pks: list[int],
    values: list[dict[str, Any]],
    olds: list[dict[str, Any]] | None,
) -> SliceChanges | None:
    """What one slice's creates or updates of a sheet audit, columnar; None when there are none."""
    if not pks:
        return None
    columns = list(values[0])
    pids: list[str | None] = [v.get("patient_id") for v in values]
    if spec.name in {"centres", "patients"}:
        centres = [v["centre"] for v in values]
    else:
        centre_of, pk_of = d.patient_centre, d.patient_pk
        centres = [centre_of[pk_of[str(pid)]] for pid in pids]
    before = None
    if olds is not None:
        before = [
            {c: old.get(c) for c in columns if old.get(c) != new[c]}
            for old, new in zip(olds, values, strict=True)
        ]
    after = {c: plain_column([v[c] for v in values]) for c in columns}
    # the record's key ("BCN-01 / 2021-05-01 / alt", as web.entry writes it), a column at a time
    parts = [after[k] for k in spec.key]
    keys = [" / ".join(map(str, t)) for t in zip(*parts, strict=True)]
    return SliceChanges(
        entity=spec.name, action=action, actor=actor, batch_pk=batch_pk, columns=columns, pks=pks,
        keys=keys, patient_ids=pids, centres=centres, after=list(after.values()), before=before,
    )  # fmt: skip
