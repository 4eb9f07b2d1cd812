"""The home page: the centre dashboard, and the patients behind each of its numbers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jakreg.store.users import Role
from jakreg.web.dashboard import (
    BAD_SHOW,
    SHOWS,
    BadParameter,
    DashboardCache,
    parse_as_of,
    pooled,
)
from jakreg.web.deps import Web
from jakreg.web.errors import Forbidden, NotFound
from jakreg.web.pages import render

router = APIRouter(include_in_schema=False)

POOLED_ONLY = "analysts see pooled counts only, not the patients behind them"
NO_CENTRE = "there is no centre {centre} that you may see"


def _cache(request: Request) -> DashboardCache:
    cache: DashboardCache = request.app.state.dashboard_cache  # made by create_app
    return cache


@router.get("/")
def dashboard(
    request: Request, who: Web, as_of: str = "", centre: str = "", show: str = ""
) -> Response:
    day = parse_as_of(as_of)
    is_pooled = who.principal.role is Role.analyst
    if show and show not in SHOWS:
        raise BadParameter(BAD_SHOW.format(shows=", ".join(SHOWS), value=show[:40]))
    if (show or centre) and is_pooled:
        raise Forbidden(POOLED_ONLY)
    scope = who.scope
    centres = [c.centre for c in scope.centres()]  # the scope's centres: a centre user's own only
    if centre and centre not in centres:
        raise NotFound(NO_CENTRE.format(centre=centre[:40]))
    board = _cache(request).get(scope.session, centres, day)
    scope.session.commit()  # the connection goes back to the pool before rendering
    if is_pooled:
        board = pooled(board)
    concerned = board.patients(centre, show) if centre and show else []
    return render(
        request,
        "dashboard.html",
        {
            "who": who,
            "board": board,
            "as_of": day.isoformat(),
            "as_of_asked": as_of.strip(),
            "shows": SHOWS,
            "centre": centre,
            "show": show,
            "concerned": concerned,
        },
    )
