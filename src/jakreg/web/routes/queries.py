"""Pages: the data-query queue, one query with its thread and actions, raising a query, quality findings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jakreg.quality.catalogue import RULES
from jakreg.queries import service
from jakreg.queries.permissions import may
from jakreg.queries.service import MAX_TEXT, queryable_fields
from jakreg.web import queries_view as view
from jakreg.web.deps import Web, WebUser, form_fields
from jakreg.web.errors import BadInput, Forbidden
from jakreg.web.pages import render
from jakreg.web.scope import sheet_spec

router = APIRouter(include_in_schema=False)


def _int(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise BadInput(f"the form has no {what}; reload the page") from None


@router.get("/queries")
def queue(request: Request, who: Web, centre: str = "", state: str = "") -> Response:
    rows = view.list_queries(who.scope, centre=centre, state=state)
    centres = who.scope.visible_centre_codes()
    return render(request, "queries.html", {"who": who, "rows": rows, "centre": centre,
                                            "state": state, "centres": centres})  # fmt: skip


def _query_page(request: Request, who: WebUser, query_id: int, *, error: str = "",
                status: int = 200) -> Response:  # fmt: skip
    query, patient_id = view.load_query(who.scope, query_id)
    p = who.principal
    data = service.to_dict(query, patient_id)
    edit = None
    if p.edits(query.centre) and query.sheet != "patients":
        edit = f"/patients/{patient_id}/{query.sheet}/{query.record_pk}/edit"
    elif p.edits(query.centre):
        edit = f"/patients/{patient_id}/edit"
    return render(
        request, "query.html",
        {"who": who, "q": data, "error": error, "max_text": MAX_TEXT, "edit": edit,
         "can_answer": may(p.role, "answer") and p.edits(query.centre)
                       and query.state in ("open", "reopened"),
         "can_close": may(p.role, "close") and query.state != "closed",
         "can_reopen": may(p.role, "reopen") and query.state in ("answered", "closed")},
        status=status,
    )  # fmt: skip


@router.get("/queries/{query_id}")
def query_page(request: Request, query_id: int, who: Web) -> Response:
    return _query_page(request, who, query_id)


async def _act(request: Request, query_id: int, who: WebUser, action: str) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        version = _int(form.get("version", ""), "query version")
        try:
            view.act(who.scope, query_id, action, str(form.get("text", "")), version)
        except BadInput as exc:  # a message too long or empty: shown on the form
            who.scope.session.rollback()
            return _query_page(request, who, query_id, error=str(exc), status=exc.status)
        who.scope.session.commit()
        return RedirectResponse(f"/queries/{query_id}", status_code=303)

    return await run_in_threadpool(run)


@router.post("/queries/{query_id}/answer")
async def answer(request: Request, query_id: int, who: Web) -> Response:
    return await _act(request, query_id, who, "answer")


@router.post("/queries/{query_id}/close")
async def close(request: Request, query_id: int, who: Web) -> Response:
    return await _act(request, query_id, who, "close")


@router.post("/queries/{query_id}/reopen")
async def reopen(request: Request, query_id: int, who: Web) -> Response:
    return await _act(request, query_id, who, "reopen")


def _raise_form(request: Request, who: WebUser, patient_id: str, values: dict[str, Any], *,
                error: str = "", status: int = 200) -> Response:  # fmt: skip
    scope = who.scope
    patient = scope.patient(patient_id)
    if not may(who.principal.role, "raise"):
        raise Forbidden(service.NOT_ALLOWED.format(role=who.principal.role.value, action="raise"))
    sheet = sheet_spec(str(values.get("sheet") or "patients")).name
    record = _int(values.get("record") or patient.id, "record")
    if sheet != "patients":
        scope.record(sheet, record, patient)
    return render(
        request, "query_new.html",
        {"who": who, "patient_id": patient_id, "sheet": sheet, "record": record,
         "fields": queryable_fields(sheet), "field": values.get("field", ""),
         "finding": values.get("finding", ""), "text": values.get("text", ""), "error": error,
         "max_text": MAX_TEXT},
        status=status,
    )  # fmt: skip


@router.get("/patients/{patient_id}/new-query")
def raise_form(request: Request, patient_id: str, who: Web, sheet: str = "patients",
               record: str = "", field: str = "", finding: str = "") -> Response:  # fmt: skip
    values = {"sheet": sheet, "record": record, "field": field, "finding": finding}
    return _raise_form(request, who, patient_id, values)


@router.post("/patients/{patient_id}/new-query")
async def raise_query(request: Request, patient_id: str, who: Web) -> Response:
    form = await form_fields(request, who)

    def run() -> Response:
        scope = who.scope
        patient = scope.patient(patient_id)
        sheet = str(form.get("sheet") or "patients")
        record = _int(form.get("record") or patient.id, "record")
        try:
            query = view.raise_on_record(scope, patient_id, sheet, record, str(form.get("field", "")),
                                         str(form.get("text", "")), str(form.get("finding", "")))  # fmt: skip
        except BadInput as exc:
            scope.session.rollback()
            return _raise_form(request, who, patient_id, form, error=str(exc), status=exc.status)
        scope.session.commit()
        return RedirectResponse(f"/queries/{query.id}", status_code=303)

    return await run_in_threadpool(run)


@router.get("/quality")
def quality_page(request: Request, who: Web, centre: str = "") -> Response:
    found = view.findings(who.scope, centre)
    by_rule: dict[str, int] = {}
    for f in found:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    return render(
        request, "quality.html",
        {"who": who, "findings": found, "centre": centre, "rules": RULES, "by_rule": by_rule,
         "centres": who.scope.visible_centre_codes(), "can_raise": may(who.principal.role, "raise")},
    )  # fmt: skip


# --- e-mail notifications: the user's own address and how often -----------------------------------


def _notifications_page(request: Request, who: WebUser, *, error: str = "", saved: bool = False,
                        status: int = 200, email: str | None = None,
                        frequency: str | None = None) -> Response:  # fmt: skip
    from jakreg.notify.send import preference
    from jakreg.notify.settings import FREQUENCIES

    current = preference(who.scope.session, who.user.id)
    return render(
        request, "notifications.html",
        {"who": who, "error": error, "saved": saved, "frequencies": FREQUENCIES,
         "email": email if email is not None else (current.email if current else "") or "",
         "frequency": frequency or (current.frequency if current else "none")},
        status=status,
    )  # fmt: skip


@router.get("/account/notifications")
def notifications(request: Request, who: Web) -> Response:
    return _notifications_page(request, who)


@router.post("/account/notifications")
async def save_notifications(request: Request, who: Web) -> Response:
    from jakreg.notify.send import set_preference
    from jakreg.notify.settings import NotifySettingsError

    form = await form_fields(request, who)

    def run() -> Response:
        email, frequency = str(form.get("email", "")), str(form.get("frequency", ""))
        try:
            if frequency != "none" and not email.strip():
                raise NotifySettingsError("give an e-mail address, or choose none")
            set_preference(who.scope.session, who.user, email=email, frequency=frequency)
        except NotifySettingsError as exc:
            who.scope.session.rollback()
            return _notifications_page(request, who, error=str(exc), status=422, email=email,
                                       frequency=frequency)  # fmt: skip
        who.scope.session.commit()
        return _notifications_page(request, who, saved=True)

    return await run_in_threadpool(run)
