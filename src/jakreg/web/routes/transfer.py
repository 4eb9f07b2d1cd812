"""Pages: upload a workbook (error table, all or nothing) and download the caller's data as a workbook."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse

from jakreg.ingest.problems import ValidationFailed
from jakreg.store.anchor import head
from jakreg.web import errors
from jakreg.web.deps import Config, Web, form_fields
from jakreg.web.errors import BadInput
from jakreg.web.pages import render
from jakreg.web.transfer import export_workbook, import_upload, report_archive, upload_centre

router = APIRouter(include_in_schema=False)


def _centres_to_choose(who: Any) -> list[str]:
    if who.principal.is_admin:
        return [""] + [c.centre for c in who.scope.centres()]
    return sorted(who.principal.centres)


@router.get("/upload")
def upload_form(request: Request, who: Web) -> Response:
    who.scope.require_editor()
    return render(
        request,
        "upload.html",
        {"who": who, "centres": _centres_to_choose(who), "log": None, "summary": None},
    )


@router.post("/upload")
async def upload(request: Request, who: Web, settings: Config) -> Response:
    form = await form_fields(request, who, limit_mb=settings.upload_limit_mb)
    who.scope.require_editor()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise BadInput(errors.UPLOAD_KIND)
    limit = settings.upload_limit_mb * 1024 * 1024
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise BadInput(errors.UPLOAD_TOO_LARGE.format(mb=settings.upload_limit_mb))
    requested = str(form.get("centre") or "")
    filename = file.filename

    def run() -> Response:
        centre = upload_centre(who.scope, requested)
        context: dict[str, Any] = {
            "who": who,
            "centres": _centres_to_choose(who),
            "log": None,
            "summary": None,
        }
        try:
            context["summary"] = import_upload(
                who.scope, filename, content, centre=centre, limits=settings.upload_limits
            )
        except ValidationFailed as exc:
            who.scope.session.rollback()
            context["log"] = exc.log
            return render(request, "upload.html", context, status=422)
        return render(request, "upload.html", context)

    return await run_in_threadpool(run)


def _send(make: Callable[[Path], Path], prefix: str, media_type: str) -> Response:
    """Build a file in a fresh temporary folder and send it; the folder goes once it is sent."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path = make(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        filename=path.name,
        media_type=media_type,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


AUDIT_HEAD_HEADER = "X-Jakreg-Audit-Head"


@router.get("/export")
def export(who: Web, centre: str = "") -> Response:
    response = _send(
        lambda folder: export_workbook(who.scope, centre, folder)[0],
        "jakreg-export-",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    if who.principal.is_admin:  # the anchor of GET /api/v1/audit/head, as one JSON line
        anchor = head(who.scope.session, "export").to_dict()
        response.headers[AUDIT_HEAD_HEADER] = json.dumps(anchor, separators=(",", ":"))
    return response


@router.get("/report")
def report(who: Web, settings: Config, centre: str = "") -> Response:
    """The study report (HTML, PDF, results.json, tables, figures) as a zip: the caller's centre, or
    pooled for analysts and admins."""
    return _send(
        lambda folder: report_archive(who.scope, centre, folder, settings.db_url),
        "jakreg-report-",
        "application/zip",
    )
