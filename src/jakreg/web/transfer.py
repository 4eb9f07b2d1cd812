"""Workbook upload (validate everything, write all or nothing) and export, within the caller's scope.

Reuses jakreg.study: the same reading, validation and writing as `jakreg import` and `jakreg export`; adds
what a server needs: the import is limited to one of the caller's centres, refused for locked patients,
and each export is an audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path

from jakreg.export.workbook import template_book, write_workbook
from jakreg.ingest.archive import ArchiveLimits, check_archive
from jakreg.ingest.problems import Problem, ProblemLog, ValidationFailed
from jakreg.ingest.validate import ValidRow
from jakreg.store.anchor import head, write_anchor
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.derive import DERIVATION_INPUTS, derive_patients
from jakreg.store.repository import ImportSummary, upsert_study
from jakreg.store.tables import Patient
from jakreg.study import check_path, database_tables, fingerprint
from jakreg.web import errors
from jakreg.web.errors import BadInput, Forbidden
from jakreg.web.isolated import release_memory, write_report_in_child
from jakreg.web.scope import Scope

ANCHOR_IN_ARCHIVE = "audit.anchor.json"
UPLOAD_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
LOCKED_IN_UPLOAD = "patient {patient_id} is locked (by {by}); its rows cannot be imported"


def upload_centre(scope: Scope, requested: str) -> str | None:
    """The centre an upload is limited to: one the caller edits; admins may import every centre."""
    scope.require_editor()
    if requested:
        scope.require_edit_centre(requested)
        return requested
    if scope.principal.is_admin:
        return None
    if len(scope.principal.centres) == 1:
        return next(iter(scope.principal.centres))
    raise BadInput(errors.EXPORT_CENTRE.format(centres=", ".join(sorted(scope.principal.centres))))


def import_upload(
    scope: Scope, filename: str, content: bytes, *, centre: str | None, today: dt.date | None = None,
    limits: ArchiveLimits | None = None,
) -> ImportSummary:  # fmt: skip
    """Validate the uploaded workbook and write it all or nothing; ValidationFailed lists every problem.

    A workbook beyond ``limits`` (unpacked size, rows per sheet) is refused before it is parsed.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise BadInput(errors.UPLOAD_KIND)
    session = scope.session
    with tempfile.TemporaryDirectory(prefix="jakreg-upload-") as folder:
        safe_name = Path(filename).name.replace("/", "_") or f"upload{suffix}"
        path = Path(folder) / safe_name
        path.write_bytes(content)
        if limits is not None:
            log = ProblemLog()
            if not check_archive(path, log, limits):
                raise ValidationFailed(log)
        checked = check_path(
            path, session, centre=centre, today=today, visible=scope.visible_centres,
            series_only=not scope.principal.all_centres,
        )  # fmt: skip
        _locked_patients(scope, checked.rows.sheets, checked.log)
        if not checked.log.ok:
            raise ValidationFailed(checked.log)
        summary = upsert_study(
            session,
            checked.rows,
            actor=scope.principal.username,
            path=f"upload:{safe_name}",
            sha256=fingerprint(path),
            on_changed=_derive,
        )
    if summary.changed:
        session.commit()
    else:
        session.rollback()
    return summary


def _locked_patients(scope: Scope, sheets: dict[str, list[ValidRow]], log: ProblemLog) -> None:
    pids = {
        str(pid)
        for rows in sheets.values()
        for vr in rows
        if (pid := getattr(vr.row, "patient_id", None)) is not None
    }
    if not pids:
        return
    # scoped: a locked patient of another centre would otherwise be named (and its locker)
    for pid, by in scope.session.execute(
        scope.select(Patient)
        .with_only_columns(Patient.patient_id, Patient.locked_by)
        .where(Patient.patient_id.in_(sorted(pids)), Patient.locked_by.is_not(None))
    ):
        log.add(
            Problem("upload", "patients", None, "patient_id", pid,
                    LOCKED_IN_UPLOAD.format(patient_id=pid, by=by),
                    "ask an admin to unlock the patient, or remove its rows")
        )  # fmt: skip


def _derive(session: object, changed: dict[str, set[int]]) -> None:
    derive_patients(
        session,  # type: ignore[arg-type]
        {pk for sheet, pks in changed.items() if sheet in DERIVATION_INPUTS for pk in pks},
    )


def _what_to_share(scope: Scope, centre: str) -> tuple[str, bool, str]:
    """(centre or "", include local ids, label): centre users get one of their centres, analysts and
    admins without a centre the pooled, pseudonymised data."""
    p = scope.principal
    if centre:
        if not p.reads(centre):
            raise Forbidden(errors.EXPORT_CENTRE.format(centres=", ".join(sorted(p.centres))))
        return centre, p.sees_local_ids(centre), centre
    if p.all_centres:
        return "", False, "pooled"
    if len(p.centres) == 1:
        only = next(iter(p.centres))
        return only, True, only
    raise BadInput(errors.EXPORT_CENTRE.format(centres=", ".join(sorted(p.centres))))


def report_archive(scope: Scope, centre: str, folder: Path, db_url: str) -> Path:
    """The study report for the caller's centre (or pooled for analysts and admins) as a zip. Audited.

    The report never holds local ids (only pseudonyms), whoever asks.
    """
    chosen, _local_ids, label = _what_to_share(scope, centre)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    name = f"jakreg-report-{label}-{stamp}"
    # A centre without patients yet gets its (empty) report, as before. Written by a child
    # process, so the analysis's memory goes back to the system when it ends (web/isolated.py).
    out, results = write_report_in_child(db_url, folder / name, chosen or None)
    if scope.principal.is_admin:  # the trail's head, as GET /api/v1/audit/head gives it to admins
        write_anchor(head(scope.session, "report"), out / ANCHOR_IN_ARCHIVE)
    archive = Path(shutil.make_archive(str(folder / name), "zip", root_dir=out))
    AuditWriter(scope.session).write(
        Change(
            actor=scope.principal.username,
            action="report",
            entity="report",
            entity_key=archive.name,
            centre=chosen or None,
            after={"centre": label, "results_sha256": _sha256(results)},
        )
    )
    scope.session.commit()
    return archive


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_workbook(scope: Scope, centre: str, folder: Path) -> tuple[Path, str]:
    """Write the caller's data as a study workbook; returns (file, centre or 'pooled'). Audited.

    Centre users export one of their centres with its local ids; analysts and admins without a
    centre get the pooled, pseudonymised data (no local ids).
    """
    p = scope.principal
    centre, include_local_ids, label = _what_to_share(scope, centre)
    tables = database_tables(
        scope.session, centre=centre or None, include_local_ids=include_local_ids
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = write_workbook(template_book(tables), folder / f"jakreg-{label}-{stamp}.xlsx", "xlsx")[0]
    del tables
    release_memory()  # the workbook's rows and cells, back to the system
    AuditWriter(scope.session).write(
        Change(
            actor=p.username,
            action="export",
            entity="workbook",
            entity_key=out.name,
            centre=centre or None,
            after={"local_ids": include_local_ids, "centre": label},
        )
    )
    scope.session.commit()
    return out, label
