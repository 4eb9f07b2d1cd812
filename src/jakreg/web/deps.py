"""Request dependencies: the database session, the logged-in user (cookie) or API caller (token), CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from jakreg.store.users import User
from jakreg.web import accounts, errors
from jakreg.web.errors import Forbidden, LoginRequired
from jakreg.web.scope import Principal, Scope
from jakreg.web.security import same
from jakreg.web.settings import Settings

SESSION_COOKIE = "jakreg_session"
LOGIN_CSRF_COOKIE = "jakreg_login_csrf"


def get_settings(request: Request) -> Settings:
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
    return WebUser(Scope(db, Principal.of(user)), user, web_session.csrf_token)


def api_scope(request: Request, db: Db, settings: Config) -> Scope:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LoginRequired(errors.API_TOKEN_REQUIRED)
    user = accounts.find_api_token(db, settings, token.strip())
    if user is None:
        raise LoginRequired(errors.API_TOKEN_INVALID)
    db.commit()  # keeps last_used_at
    return Scope(db, Principal.of(user))


Web = Annotated[WebUser, Depends(web_user)]
Api = Annotated[Scope, Depends(api_scope)]


async def form_fields(request: Request, who: WebUser) -> dict[str, Any]:
    """The posted form, after its CSRF token was checked against the session's."""
    form = await request.form()
    if not same(_text(form.get("csrf_token")), who.csrf_token):
        raise Forbidden(errors.CSRF_FAILED)
    return {k: v for k, v in form.multi_items() if k != "csrf_token"}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
