"""High-level operations on a study database: validate, import and export workbooks, initialise."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jakreg.errors import DatabaseError, InputFileError
from jakreg.export.workbook import Table, Workbook, sort_rows, template_book, write_workbook
from jakreg.ingest import pipeline
from jakreg.ingest.centre_view import CentreView
from jakreg.ingest.checks import Existing
from jakreg.ingest.problems import Problem, ProblemLog, ValidationFailed
from jakreg.ingest.read import read_workbook
from jakreg.ingest.validate import StudyRows
from jakreg.model.sheets import SHEETS
from jakreg.store import db
from jakreg.store.derive import DERIVATION_INPUTS, derive_patients
from jakreg.store.repository import (
    DatabaseState,
    Directory,
    ImportSummary,
    StudyWriter,
    from_record,
    iter_records,
)
from jakreg.store.tables import DERIVED_COLUMNS

if TYPE_CHECKING:
    from jakreg.interop.convert import Converted

ProgressFn = Callable[[str, int], None]
EXAMPLE = "founding_synthetic"


def example_path() -> Path:
    """The bundled synthetic example study (a folder of CSV files)."""
    return Path(str(resources.files("jakreg.examples") / EXAMPLE))


# A streamed input larger than this (about 7,000 patients of CSV) looks HPO ids up in a helper process:
# its second or two of start-up buy 200 MB less memory for the rest of the import.
HPO_HELPER_ABOVE_BYTES = 64 * 1024 * 1024


def _input_bytes(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def fingerprint(path: Path) -> str:
    """SHA-256 of a file, or of a folder's CSV and JSON files (names and bytes, in name order)."""
    h = hashlib.sha256()
    files = sorted([*path.glob("*.csv"), *path.glob("*.json")]) if path.is_dir() else [path]
    for f in files:
        if not f.is_file():
            continue
        if path.is_dir():
            h.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:  # in pieces: a registry's labs file can be gigabytes
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        if path.is_dir():
            h.update(b"\0")
    return h.hexdigest()


@dataclass
class Checked:
    rows: StudyRows
    log: ProblemLog


class Reader(Protocol):
    """Turns a foreign input (REDCap export, phenopackets) into workbook sheets it can relabel."""

    def __call__(self, path: Path, log: ProblemLog) -> Converted: ...


def check_path(
    path: Path,
    session: Session | None = None,
    *,
    centre: str | None = None,
    today: dt.date | None = None,
    progress: ProgressFn | None = None,
    max_problems: int = 1000,
    reader: Reader | None = None,
    keep_rows: bool = True,
    visible: frozenset[str] | None = None,
    series_only: bool = False,
) -> Checked:
    """Read and validate everything; the database (if given) resolves references. Writes nothing.

    With ``centre``, the checks see only that centre's patients (``visible``: the caller's centres, if
    more), so no problem tells of another centre's pseudonyms (jakreg.ingest.centre_view);
    ``series_only`` refuses new pseudonyms outside the centre's series (server uploads by centre users).

    ``reader`` reads a foreign format into workbook sheets (jakreg.interop); the default reads the
    study workbook. Problems are told in the input's own terms (REDCap row and field, JSON path).
    Without ``keep_rows`` only the counts of valid rows are kept (memory stays flat for huge files).
    """
    log = ProblemLog(limit=max_problems)
    return _check(
        path, session, log, centre, today, progress, reader, keep_rows=keep_rows,
        visible=visible, series_only=series_only,
    )  # fmt: skip


def _check(
    path: Path,
    session: Session | None,
    log: ProblemLog,
    centre: str | None,
    today: dt.date | None,
    progress: ProgressFn | None,
    reader: Reader | None,
    *,
    keep_rows: bool,
    sink: pipeline.Sink | None = None,
    visible: frozenset[str] | None = None,
    series_only: bool = False,
) -> Checked:
    converted = reader(path, log) if reader is not None else None
    raw = converted.workbook if converted is not None else read_workbook(path, log)
    existing: Existing | None = DatabaseState(session) if session is not None else None
    if existing is not None and (centre is not None or visible is not None):
        seen = visible if visible is not None else frozenset({centre or ""})
        existing = CentreView(existing, seen, series_only=series_only)
    rows = pipeline.run(
        raw,
        log,
        today=today or dt.date.today(),
        existing=existing,
        centre=centre,
        progress=progress,
        sink=sink,
        keep_rows=keep_rows,
        isolate_hpo=not keep_rows and _input_bytes(path) > HPO_HELPER_ABOVE_BYTES,
    )
    if converted is not None:
        log.kept = [converted.relabel(p) for p in log.kept]
    if raw.sheets and rows.n_rows == 0 and log.ok:
        log.add(
            Problem(
                path.name, None, None, None, None, "the file holds no data rows",
                "fill in the sheets (jakreg template --example shows how)",
            )
        )  # fmt: skip
    return Checked(rows, log)


def init_database(url: str | None = None) -> tuple[str, str | None, str]:
    """Create or upgrade the schema; returns (URL, revision before, revision after)."""
    resolved = db.database_url(url)
    engine = db.make_engine(resolved)
    try:
        before, after = db.upgrade(engine)
    finally:
        engine.dispose()
    return resolved, before, after


def import_path(
    path: Path,
    url: str | None = None,
    *,
    actor: str,
    centre: str | None = None,
    today: dt.date | None = None,
    progress: ProgressFn | None = None,
    reader: Reader | None = None,
    max_problems: int = 1000,
) -> ImportSummary:
    """Validate and write all or nothing in one transaction. Raises ValidationFailed on any error.

    The input streams through in slices: each slice is validated, checked and written inside the
    transaction while no error has been found; any error, anywhere, rolls the whole import back.
    """
    with db.open_session(url, write_lock=True) as session:
        # The lock is taken before validating against the database, so a concurrent import waits and
        # then sees this one's rows: validate-then-write stays one atomic step.
        try:
            db.take_write_lock(session)
            db.use_import_cache(session)
            log = ProblemLog(limit=max_problems)
            writer = StudyWriter(
                session, actor=actor, path=str(path), sha256=fingerprint(path), file=path.name,
                log=log,
            )  # fmt: skip
            checked = _check(
                path, session, log, centre, today, progress, reader, keep_rows=False, sink=writer
            )
            if not checked.log.ok:
                session.rollback()
                raise ValidationFailed(checked.log)
            summary = writer.finish(on_changed=_derive)
            if summary.changed:
                session.commit()
            else:
                session.rollback()  # nothing new: leave no import record either
        except SQLAlchemyError as exc:
            session.rollback()
            raise DatabaseError(db.explain(exc)) from None
        summary.warnings = checked.log
        return summary


def _derive(session: Session, changed: dict[str, set[int]]) -> None:
    derive_patients(
        session, {pk for sheet, pks in changed.items() if sheet in DERIVATION_INPUTS for pk in pks}
    )


def database_tables(
    session: Session, *, centre: str | None = None, include_local_ids: bool = False
) -> dict[str, Table]:
    """Every sheet's rows from the database, sorted by key; local ids only for one centre's export."""
    d = Directory(session)
    tables: dict[str, Table] = {}
    derived: dict[str, Table] = {}
    for spec in SHEETS:
        rows: list[list[Any]] = []
        extra_cols = DERIVED_COLUMNS.get(spec.name, ())
        extra_rows: list[list[Any]] = []
        for obj in iter_records(session, spec):
            values = from_record(spec, obj, d)
            owner = _owner_centre(spec.name, values, d)
            if centre is not None and owner != centre:
                continue
            if spec.name == "patients" and not include_local_ids:
                values["local_id"] = None
            rows.append([values[c] for c in spec.columns])
            if extra_cols:
                extra_rows.append(
                    [values[c] for c in spec.key] + [getattr(obj, c) for c in extra_cols]
                )
        tables[spec.name] = (spec.columns, sort_rows(rows))
        if extra_cols:
            derived[f"derived_{spec.name}"] = ([*spec.key, *extra_cols], sort_rows(extra_rows))
    tables.update(derived)
    return tables


def _owner_centre(sheet: str, values: dict[str, Any], d: Directory) -> str | None:
    if sheet == "centres":
        return str(values["centre"])
    if sheet == "patients":
        return str(values["centre"])
    pid = values.get("patient_id")
    return d.patient_centre.get(d.patient_pk.get(str(pid), -1))


def export_database(
    out: Path,
    url: str | None = None,
    *,
    fmt: str,
    centre: str | None = None,
    include_local_ids: bool = False,
) -> list[Path]:
    if include_local_ids and centre is None:
        raise InputFileError(
            "local ids stay at their centre: --include-local-ids needs --centre CODE"
        )
    with db.open_session(url) as session:
        tables = database_tables(session, centre=centre, include_local_ids=include_local_ids)
    return write_workbook(template_book(tables), out, fmt)


def example_tables() -> dict[str, Table]:
    """The bundled example as workbook tables (read with the importer's own reader and validator)."""
    checked = check_path(example_path(), today=dt.date.today())
    if not checked.log.ok:
        raise InputFileError(f"the bundled example is invalid: {checked.log.kept[0]}")
    tables: dict[str, Table] = {}
    for spec in SHEETS:
        rows = [
            [getattr(getattr(vr.row, c), "value", getattr(vr.row, c)) for c in spec.columns]
            for vr in checked.rows.rows(spec.name)
        ]
        tables[spec.name] = (spec.columns, rows)
    return tables


def write_template(out: Path, *, example: bool = False) -> list[Path]:
    fmt = "csv" if out.suffix.lower() != ".xlsx" else "xlsx"
    if example:
        book: Workbook = template_book(
            example_tables(),
            extra=["", "EXAMPLE DATA: synthetic, modelled on the published aggregates of "
                   "Deyà-Martínez et al., J Clin Immunol 2022 (doi:10.1007/s10875-022-01257-x)."],
        )  # fmt: skip
    else:
        book = template_book()
    return write_workbook(book, out, fmt)


def rederive_all(url: str | None = None) -> int:
    from sqlalchemy import select

    from jakreg.store.tables import Patient

    with db.open_session(url) as session:
        pks = list(session.scalars(select(Patient.id)))
        derive_patients(session, pks)
        session.commit()
    return len(pks)


def verify_audit(url: str | None = None) -> tuple[int, Any]:
    from sqlalchemy import func, select

    from jakreg.store.audit import verify_chain
    from jakreg.store.tables import AuditEvent

    with db.open_session(url) as session:
        n = session.scalar(select(func.count(AuditEvent.id))) or 0
        return n, verify_chain(session)


def replay_audit(url: str | None = None, *, limit: int = 1000) -> Any:
    """Replay the trail's after-images against the tables (jakreg.store.audit_replay.ReplayResult)."""
    from jakreg.store.audit_replay import replay

    with db.open_session(url) as session:
        return replay(session, limit=limit)


def anchor_beside(url: str | None, path: Path, written_for: str) -> Path:
    """Write the trail's head beside ``path`` (``<path>.anchor.json``); OSError if it cannot be."""
    from jakreg.store.anchor import head, sidecar, write_anchor

    with db.open_session(url, require_schema=False) as session:
        anchor = head(session, written_for)
    return write_anchor(anchor, sidecar(path))


def check_audit_anchor(url: str | None, file: Path) -> Any:
    """Does the trail still hold the head recorded in the anchor ``file``? (store.anchor.AnchorCheck)"""
    from jakreg.store.anchor import check_anchor, read_anchor

    anchor = read_anchor(file)
    with db.open_session(url) as session:
        return check_anchor(session, anchor)


def audit_events(
    url: str | None = None, *, patient: str | None = None, limit: int = 50
) -> list[Any]:
    """The newest row changes (jakreg.store.audit_rows.RowChange): per-row events and the rows of batch
    events alike."""
    from sqlalchemy import select

    from jakreg.store.audit_rows import RowFilter, row_changes
    from jakreg.store.tables import AuditEvent

    with db.open_session(url) as session:
        q = select(AuditEvent).order_by(AuditEvent.id.desc())
        return row_changes(
            session, q, RowFilter(patient_id=patient or ""), limit=limit, newest_first=True
        )


def record_history(url: str | None, entity: str, record_id: int) -> list[Any]:
    """Who changed one record, when, from what (jakreg.store.audit_rows.RowChange, oldest first)."""
    from jakreg.store import audit_rows

    with db.open_session(url) as session:
        return audit_rows.record_history(session, entity, record_id)


def audited_changes(url: str | None = None) -> int:
    """How many row changes the trail holds (a batch event counts its rows)."""
    from jakreg.store.audit_rows import count_changes

    with db.open_session(url) as session:
        return count_changes(session)


@dataclass(frozen=True)
class DemoDatabase:
    folder: Path
    url: str
    summary: ImportSummary


def build_demo_database(out: Path) -> DemoDatabase:
    """A fresh SQLite database in ``out`` holding the bundled synthetic example study."""
    out.mkdir(parents=True, exist_ok=True)
    db_file = out / "demo.db"
    for stale in out.glob("demo.db*"):
        stale.unlink()
    url = f"sqlite:///{db_file}"
    init_database(url)
    summary = import_path(example_path(), url, actor="jakreg demo")
    return DemoDatabase(out, url, summary)
