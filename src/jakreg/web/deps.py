"""Request dependencies: the database session, the logged-in user (cookie) or API caller (token), CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jakreg.store.users import Role, User
from jakreg.web import accounts, errors
from jakreg.web.early_csrf import is_multipart, multipart_form
from jakreg.web.errors import BadInput, Forbidden, LoginRequired
from jakreg.web.scope import Principal, Scope
from jakreg.web.security import same
from jakreg.web.settings import Settings

SESSION_COOKIE = "jakreg_session"
LOGIN_CSRF_COOKIE = "jakreg_login_csrf"


async def get_settings(request: Request) -> Settings:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, a hop that costs more than this
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]
Config = Annotated[Settings, Depends(get_settings)]


@dataclass
class WebUser:
    """A logged-in browser: the scope it sees and the CSRF token its forms must carry."""

    scope: Scope
    user: User
    csrf_token: str

    @property
    def principal(self) -> Principal:
        return self.scope.principal


def web_user(request: Request, db: Db, settings: Config) -> WebUser:
    found = accounts.find_web_session(db, settings, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired(errors.LOGIN_REQUIRED)
    user, web_session = found
    db.commit()  # gives the connection back to the pool until the page needs one (see api_scope)
    return WebUser(Scope(db, Principal.of(user)), user, web_session.csrf_token)


async def api_scope(request: Request) -> AsyncIterator[Scope]:
    """The API caller's scope, on a database session for this request.

    One dependency opens the session and checks the token (rather than ``Db`` + ``Config`` + this). It
    is async so that only the check itself runs in the thread pool: the API's endpoints
    (``routing.ApiRoute``) close the session in their own thread, and nothing is left to do at the end.

    The check ends with a commit, which gives the session's connection back to the pool while the
    request waits for a thread to run its endpoint: a request holds a connection only while it runs in a
    thread, so a pool at least as large as the thread pool never runs dry, and requests waiting for a
    thread cannot hold every connection that the running ones need (a deadlock until the pool timeout).
    """
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LoginRequired(errors.API_TOKEN_REQUIRED)
    db: Session = request.app.state.sessions()
    try:
        principal = await run_in_threadpool(_api_principal, db, settings, token.strip())
        yield Scope(db, principal)
    finally:
        if db.in_transaction():  # an endpoint that is not an ApiRoute: do the I/O in a thread
            await run_in_threadpool(db.close)
        else:
            db.close()


def _api_principal(db: Session, settings: Settings, token: str) -> Principal:
    # The check reads in autocommit: no BEGIN and COMMIT round trips around its one query on
    # PostgreSQL. The commit gives the connection back (and its isolation level is reset).
    db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    caller = accounts.find_api_caller(db, settings, token)
    db.commit()
    if caller is None:
        raise LoginRequired(errors.API_TOKEN_INVALID)
    return Principal(caller.user_pk, caller.username, Role(caller.role), frozenset(caller.centres))


Web = Annotated[WebUser, Depends(web_user)]
Api = Annotated[Scope, Depends(api_scope)]


async def form_fields(
    request: Request, who: WebUser, *, limit_mb: int | None = None
) -> dict[str, Any]:
    """The posted form, after its CSRF token was checked against the session's.

    A multipart form (an upload) is refused on a bad token before its body is parsed (the token comes
    before the file), and, given ``limit_mb``, on a body larger than that (plus 1 MB of form overhead).
    """
    if is_multipart(request):
        if limit_mb is not None:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > (limit_mb + 1) * 1024 * 1024:
                raise BadInput(errors.UPLOAD_TOO_LARGE.format(mb=limit_mb))
        parsed = await multipart_form(request, who.csrf_token)
        if parsed is None:
            raise Forbidden(errors.CSRF_FAILED)
        return {k: v for k, v in parsed.multi_items() if k != "csrf_token"}
    form = await request.form()
    if not same(_text(form.get("csrf_token")), who.csrf_token):
        raise Forbidden(errors.CSRF_FAILED)
    return {k: v for k, v in form.multi_items() if k != "csrf_token"}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
