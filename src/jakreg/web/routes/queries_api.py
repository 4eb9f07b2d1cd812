"""The JSON API for data queries and data quality findings (/api/v1/queries, /api/v1/quality)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from jakreg.queries import service
from jakreg.queries.service import MAX_TEXT
from jakreg.web import queries_view as view
from jakreg.web.deps import Api
from jakreg.web.routes.api import ERRORS, MAX_INT
from jakreg.web.routing import ApiRoute
from jakreg.web.scope import Scope

router = APIRouter(prefix="/api/v1", tags=["queries"], route_class=ApiRoute)
QueryId = Annotated[int, Path(ge=1, le=MAX_INT)]


class MessageOut(BaseModel):
    at: str | None
    author: str
    action: str
    text: str


class QueryOut(BaseModel):
    """A data query with its thread; ``version`` must be sent back to act on it."""

    id: int
    patient_id: str
    centre: str
    sheet: str
    record_pk: int
    field: str
    finding_id: str | None
    state: str
    version: int
    raised_by: str
    raised_at: str | None
    answered_at: str | None
    closed_at: str | None
    messages: list[MessageOut]


class QueryIn(BaseModel):
    """Raise a query on one field of one record (``record_id`` of the patient's row for the patients sheet)."""

    patient_id: str = Field(min_length=1, max_length=32)
    sheet: str = Field(min_length=1, max_length=40)
    record_id: int = Field(ge=1, le=MAX_INT)
    field: str = Field(min_length=1, max_length=64)
    text: str = Field(max_length=MAX_TEXT + 1000)
    finding_id: str | None = Field(None, max_length=16)


class ActionIn(BaseModel):
    text: str = Field("", max_length=MAX_TEXT + 1000)
    version: int = Field(ge=1, le=MAX_INT)


class FindingOut(BaseModel):
    """A data quality finding; ``id`` is stable across runs."""

    id: str
    rule: str
    rule_version: int
    centre: str
    patient_id: str
    sheet: str
    record_pk: int
    field: str
    value: Any
    message: str
    fix: str


def _out(scope: Scope, query_id: int) -> QueryOut:
    query, patient_id = view.load_query(scope, query_id)
    return QueryOut(**service.to_dict(query, patient_id))


@router.get("/queries", response_model=list[QueryOut], responses=ERRORS)
def queries(
    scope: Api,
    centre: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(pattern="^(|open|answered|closed|reopened)$")] = "",
) -> list[QueryOut]:
    return [QueryOut(**q) for q in view.list_queries(scope, centre=centre, state=state)]


@router.post("/queries", status_code=201, response_model=QueryOut, responses=ERRORS)
def raise_query(scope: Api, body: QueryIn) -> QueryOut:
    query = view.raise_on_record(scope, body.patient_id, body.sheet, body.record_id, body.field,
                                 body.text, body.finding_id)  # fmt: skip
    scope.session.commit()
    return _out(scope, query.id)


@router.get("/queries/{query_id}", response_model=QueryOut, responses=ERRORS)
def query(scope: Api, query_id: QueryId) -> QueryOut:
    return _out(scope, query_id)


def _act(scope: Scope, query_id: int, action: str, body: ActionIn) -> QueryOut:
    view.act(scope, query_id, action, body.text, body.version)
    scope.session.commit()
    return _out(scope, query_id)


@router.post("/queries/{query_id}/answer", response_model=QueryOut, responses=ERRORS)
def answer(scope: Api, query_id: QueryId, body: ActionIn) -> QueryOut:
    return _act(scope, query_id, "answer", body)


@router.post("/queries/{query_id}/close", response_model=QueryOut, responses=ERRORS)
def close(scope: Api, query_id: QueryId, body: ActionIn) -> QueryOut:
    return _act(scope, query_id, "close", body)


@router.post("/queries/{query_id}/reopen", response_model=QueryOut, responses=ERRORS)
def reopen(scope: Api, query_id: QueryId, body: ActionIn) -> QueryOut:
    return _act(scope, query_id, "reopen", body)


@router.get("/quality", response_model=list[FindingOut], responses=ERRORS)
def quality(
    scope: Api,
    centre: Annotated[str, Query(max_length=16)] = "",
    as_of: Annotated[dt.date | None, Query()] = None,
) -> list[FindingOut]:
    return [FindingOut(**f.to_dict()) for f in view.findings(scope, centre, as_of)]
