"""The web layer's side of data queries and quality findings: scoped loading and error translation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from jakreg.quality.checks import Finding
from jakreg.quality.run import UnknownCentreError
from jakreg.quality.run import run as run_quality
from jakreg.queries import service
from jakreg.queries.permissions import may
from jakreg.queries.service import QueryError
from jakreg.store.tables import Patient
from jakreg.store.workflow import DataQuery
from jakreg.web import errors
from jakreg.web.errors import BadInput, Forbidden, NotFound, StaleWrite, WebError
from jakreg.web.scope import Scope, sheet_spec

NO_QUERY = "there is no data query {query_id} that you may see"
NO_CENTRE = "there is no centre {centre} that you may see"
CANNOT_READ = "your role ({role}) cannot see data queries"


def as_web_error(exc: QueryError) -> WebError:
    kind = {"forbidden": Forbidden, "state": StaleWrite, "stale": StaleWrite, "input": BadInput}
    return kind.get(exc.kind, BadInput)(str(exc))


def require_read(scope: Scope) -> None:
    if not may(scope.principal.role, "read"):
        raise Forbidden(CANNOT_READ.format(role=scope.principal.role.value))


def _centres(scope: Scope, centre: str = "") -> frozenset[str] | None:
    """The centres to show: one asked for (if the caller sees it), or all the caller sees."""
    if centre:
        if not scope.principal.reads(centre):
            raise NotFound(NO_CENTRE.format(centre=centre))
        return frozenset({centre})
    return None if scope.principal.all_centres else scope.principal.centres


def list_queries(scope: Scope, *, centre: str = "", state: str = "") -> list[dict[str, Any]]:
    require_read(scope)
    if state and state not in service.STATES:
        raise BadInput(f"state {state!r}: use one of {', '.join(service.STATES)}")
    stmt = service.select_queries(_centres(scope, centre), state=state or None)
    return [service.to_dict(q, pid) for q, pid in scope.session.execute(stmt)]


def load_query(scope: Scope, query_id: int) -> tuple[DataQuery, str]:
    require_read(scope)
    found = scope.session.execute(
        select(DataQuery, Patient.patient_id)
        .join(Patient, Patient.id == DataQuery.patient_pk)
        .where(DataQuery.id == query_id)
    ).first()
    if found is None or not scope.principal.reads(found[0].centre):
        raise NotFound(NO_QUERY.format(query_id=query_id))
    return found[0], found[1]


def query_context(scope: Scope, patient: Patient) -> dict[str, Any]:
    """For the patient page: the patient's queries by (sheet, record, field), and whether one may raise."""
    by_field: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    if may(scope.principal.role, "read"):
        stmt = service.select_queries(None, patient_pk=patient.id)
        rows = [service.to_dict(q, pid) for q, pid in scope.session.execute(stmt)]
        for q in rows:
            by_field.setdefault((q["sheet"], q["record_pk"], q["field"]), []).append(q)
    return {"queries": rows, "queries_by_field": by_field,
            "can_raise": may(scope.principal.role, "raise")}  # fmt: skip


def raise_on_record(
    scope: Scope,
    patient_id: str,
    sheet: str,
    record_pk: int,
    field: str,
    text: str,
    finding_id: str | None = None,
) -> DataQuery:
    """Raise a query on a record the caller may see; 404 for anything it may not."""
    patient = scope.patient(patient_id)
    spec = sheet_spec(sheet)
    if spec.name == "patients":
        if record_pk != patient.id:
            raise NotFound(
                errors.NO_RECORD.format(sheet=sheet, pk=record_pk, patient_id=patient_id)
            )
    else:
        scope.record(spec.name, record_pk, patient)
    try:
        return service.raise_query(
            scope.session, scope.principal, patient=patient, centre=scope.centre_of(patient),
            sheet=spec.name, record_pk=record_pk, field=field, text=text,
            finding_id=finding_id or None,
        )  # fmt: skip
    except QueryError as exc:
        raise as_web_error(exc) from None


def act(scope: Scope, query_id: int, action: str, text: str, version: int | None) -> DataQuery:
    query, patient_id = load_query(scope, query_id)
    try:
        return service.change_state(
            scope.session, scope.principal, query, action, text, patient_id=patient_id,
            version=version,
        )  # fmt: skip
    except QueryError as exc:
        raise as_web_error(exc) from None


def findings(scope: Scope, centre: str = "", as_of: dt.date | None = None) -> list[Finding]:
    """Quality findings for the centres the caller sees (one if asked)."""
    wanted = _centres(scope, centre)
    if wanted is None:
        return run_quality(scope.session, as_of=as_of).findings
    out: list[Finding] = []
    for code in sorted(wanted):
        try:
            out += run_quality(scope.session, centre=code, as_of=as_of).findings
        except UnknownCentreError:  # granted before its first import created it
            continue
    return out
