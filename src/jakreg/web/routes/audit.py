"""Page: the audit trail with filters, limited to the caller's centres (admins: everything)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jakreg.web.audit_view import AuditFilter, audit_rows
from jakreg.web.deps import Web
from jakreg.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(
    request: Request,
    who: Web,
    actor: str = "",
    action: str = "",
    entity: str = "",
    patient_id: str = "",
    centre: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    f = AuditFilter(actor, action, entity, patient_id, centre, since, until)
    rows, problem = audit_rows(who.scope, f)
    return render(request, "audit.html", {"who": who, "rows": rows, "f": f, "problem": problem})
