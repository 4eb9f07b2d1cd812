"""Logging in and out, and the account page with the user's API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from jakreg.web import accounts
from jakreg.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Config,
    Db,
    Web,
    form_fields,
)
from jakreg.web.errors import CSRF_FAILED, LoginFailed
from jakreg.web.pages import render
from jakreg.web.security import new_token, same
from jakreg.web.settings import Settings

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an open redirect to another host.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"  # the centre dashboard


def _login_page(
    request: Request,
    settings: Settings,
    *,
    message: str = "",
    username: str = "",
    status: int = 200,
) -> Response:
    token = new_token()
    response = render(
        request,
        "login.html",
        {
            "csrf_token": token,
            "message": message,
            "username": username,
            "next": _safe_next(request.query_params.get("next")),
        },
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=settings.cookie_secure,
        path="/login",
    )  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, settings: Config) -> Response:
    return _login_page(request, settings)


@router.post("/login")
def login(
    request: Request,
    db: Db,
    settings: Config,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, settings, message=CSRF_FAILED, username=username, status=403)
    if len(username) > accounts.MAX_USERNAME_LENGTH or len(password) > accounts.MAX_PASSWORD_LENGTH:
        # Refused before any hashing or storing; not a failed login of a real account.
        return _login_page(request, settings, message=accounts.LONG_LOGIN, status=400)
    try:
        user = accounts.authenticate(db, settings, username.strip(), password)
    except LoginFailed as exc:
        db.commit()  # the failure and its audit event are kept
        return _login_page(request, settings, message=str(exc), username=username, status=401)
    opened = accounts.open_web_session(db, settings, user)
    db.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, who: Web, settings: Config) -> Response:
    await form_fields(request, who)

    def run() -> None:
        accounts.close_web_session(who.scope.session, settings, request.cookies.get(SESSION_COOKIE))
        who.scope.session.commit()

    await run_in_threadpool(run)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account")
def account(request: Request, who: Web) -> Response:
    tokens = accounts.user_tokens(who.scope.session, who.user)
    return render(request, "account.html", {"who": who, "tokens": tokens, "new_token": ""})


@router.post("/account/tokens")
async def make_token(request: Request, who: Web, settings: Config) -> Response:
    form = await form_fields(request, who)
    name = str(form.get("name") or "token")

    def run() -> str:
        token = accounts.create_api_token(who.scope.session, settings, who.user, name)
        who.scope.session.commit()
        return token

    token = await run_in_threadpool(run)
    # Shown once, on this response only; never in a URL (it would land in logs and history).
    tokens = await run_in_threadpool(accounts.user_tokens, who.scope.session, who.user)
    return render(request, "account.html", {"who": who, "tokens": tokens, "new_token": token})


@router.post("/account/tokens/{token_pk}/revoke")
async def revoke_token(request: Request, token_pk: int, who: Web) -> Response:
    await form_fields(request, who)

    def run() -> None:
        accounts.revoke_api_token(who.scope.session, who.user, token_pk)
        who.scope.session.commit()

    await run_in_threadpool(run)
    return RedirectResponse("/account", status_code=303)
