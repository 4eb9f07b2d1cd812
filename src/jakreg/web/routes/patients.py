"""Pages: the patient list with search and filters, one patient with its timeline, locking."""

from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from jakreg.model.vocab import Drug, Source, VitalStatus
from jakreg.web.charts import Threshold, patient_charts, thresholds_from_rules
from jakreg.web.dashboard import parse_as_of
from jakreg.web.deps import Web, WebUser, form_fields
from jakreg.web.entry import lock_patient, unlock_patient
from jakreg.web.errors import BadInput, StaleWrite
from jakreg.web.listing import (
    LIST_LIMIT,
    PatientFilter,
    list_patients,
    patient_record,
    record_objects,
)
from jakreg.web.pages import render
from jakreg.web.queries_view import query_context
from jakreg.web.scope import CHILD_SHEETS
from jakreg.web.signals_view import DONE, DONE_MESSAGE, act, monitoring_context
from jakreg.web.timeline import build_timeline

router = APIRouter(include_in_schema=False)


@router.get("/patients")
def patients(
    request: Request,
    who: Web,
    q: str = "",
    centre: str = "",
    source: str = "",
    vital_status: str = "",
    drug: str = "",
    locked: str = "",
) -> Response:
    f = PatientFilter(q, centre, source, vital_status, drug, locked)
    rows = list_patients(who.scope, f)
    return render(
        request,
        "patients.html",
        {
            "who": who,
            "rows": rows,
            "f": f,
            "limit": LIST_LIMIT,
            "centres": who.scope.visible_centre_codes(),
            "sources": [s.value for s in Source],
            "statuses": [s.value for s in VitalStatus],
            "drugs": [d.value for d in Drug],
            "shows_local_ids": who.principal.role.value not in ("analyst", "monitor"),
        },
    )


@router.get("/patients/{patient_id}")
def patient_page(
    request: Request, patient_id: str, who: Web, as_of: str = "", done: str = "", signal: str = ""
) -> Response:
    message = ""
    if (
        done in DONE.values() and signal.isdigit()
    ):  # fixed words only: nothing from the URL is echoed
        message = DONE_MESSAGE.format(signal_id=int(signal), done=done)
    return _patient_page(request, who, patient_id, as_of=parse_as_of(as_of), message=message)


def _patient_page(
    request: Request,
    who: WebUser,
    patient_id: str,
    *,
    as_of: dt.date,
    message: str = "",
    error: str = "",
    error_signal: int | None = None,
    status: int = 200,
) -> Response:
    record = patient_record(who.scope, patient_id)
    centre = record.centre
    objs = record_objects(record)
    return render(
        request,
        "patient.html",
        {
            "who": who,
            "record": record,
            "p": record.patient,
            "timeline": build_timeline(objs),
            "charts_source": "the safety-signal rules (rules/data/safety_signals.yaml, provisional; each line names its rule and source)",
            # charts.py escapes every text it takes from the data
            "charts": [Markup(svg) for svg in patient_charts(objs, _chart_thresholds())],  # noqa: S704
            "sheets": CHILD_SHEETS,
            "can_edit": who.principal.edits(centre) and record.patient.locked_by is None,
            "can_lock": who.principal.edits(centre) and record.patient.locked_by is None,
            "can_unlock": who.principal.is_admin and record.patient.locked_by is not None,
            "signal_message": message,
            "signal_error": error,
            "error_signal": error_signal,
            **query_context(who.scope, record.patient),
            **monitoring_context(who.scope, record.patient, as_of),
        },
        status=status,
    )


async def _signal_action(request: Request, patient_id: str, signal_id: int, who: WebUser,
                         action: str) -> Response:  # fmt: skip
    form = await form_fields(request, who)  # CSRF first

    def run() -> Response:
        try:
            act(who.scope, patient_id, signal_id, action, form)
        except (BadInput, StaleWrite) as exc:  # shown on the page, next to the signal
            who.scope.session.rollback()
            return _patient_page(request, who, patient_id, as_of=dt.date.today(), error=str(exc),
                                 error_signal=signal_id, status=exc.status)  # fmt: skip
        who.scope.session.commit()
        target = f"/patients/{quote(patient_id)}?done={DONE[action]}&signal={signal_id}#signals"
        return RedirectResponse(target, status_code=303)

    return await run_in_threadpool(run)


@router.post("/patients/{patient_id}/signals/{signal_id}/acknowledge")
async def acknowledge(request: Request, patient_id: str, signal_id: int, who: Web) -> Response:
    return await _signal_action(request, patient_id, signal_id, who, "acknowledge")


@router.post("/patients/{patient_id}/signals/{signal_id}/close")
async def close_signal(request: Request, patient_id: str, signal_id: int, who: Web) -> Response:
    return await _signal_action(request, patient_id, signal_id, who, "close")


@router.post("/patients/{patient_id}/lock")
async def lock(request: Request, patient_id: str, who: Web) -> Response:
    await form_fields(request, who)

    def run() -> None:
        lock_patient(who.scope, who.scope.patient(patient_id))
        who.scope.session.commit()

    await run_in_threadpool(run)
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


@router.post("/patients/{patient_id}/unlock")
async def unlock(request: Request, patient_id: str, who: Web) -> Response:
    await form_fields(request, who)

    def run() -> None:
        unlock_patient(who.scope, who.scope.patient(patient_id))
        who.scope.session.commit()

    await run_in_threadpool(run)
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


@functools.cache
def _chart_thresholds() -> list[Threshold]:
    """The lines drawn on lab charts: the shipped safety-signal rules' lab thresholds."""
    from jakreg.rules.signals import default_rules

    return thresholds_from_rules(default_rules())
