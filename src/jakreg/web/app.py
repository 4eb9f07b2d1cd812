"""The FastAPI application: settings, database, routers, and the one place errors become responses."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import jakreg.store.signal_tables
import jakreg.store.users  # noqa: F401  (the account tables belong to the metadata)
from jakreg import __version__
from jakreg.errors import DatabaseError, JakregError
from jakreg.ingest.problems import ValidationFailed
from jakreg.store import db
from jakreg.web.dashboard import DashboardCache
from jakreg.web.errors import ConfigurationError, LoginRequired, WebError
from jakreg.web.pages import render
from jakreg.web.routes import api, audit, auth, dashboard, patients, queries_api, records, transfer
from jakreg.web.routes import queries as queries_pages
from jakreg.web.settings import Settings

SCHEMA_OUTDATED = (
    "the database {url} is at schema {have}, this server needs {need}; run: jakreg init --db {url}"
)

THREADS_ENV = "JAKREG_THREADS"
DEFAULT_THREADS = 8

NUL_IN_URL = "the address holds a NUL character"
CONFLICT = "the change conflicts with a record saved at the same moment; reload and try again"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def create_app(settings: Settings) -> FastAPI:
    threads = worker_threads()
    # A request holds a connection only while it runs in a thread (deps.api_scope, routing.ApiRoute);
    # the overflow covers sessions being closed and the pages' own hops.
    engine = db.make_server_engine(settings.db_url, pool_size=threads + 2, max_overflow=threads)
    have = db.current_revision(engine)
    if have != db.head_revision():
        engine.dispose()
        raise ConfigurationError(
            SCHEMA_OUTDATED.format(url=settings.db_url, have=have, need=db.head_revision())
        )
    app = FastAPI(
        title="jakreg",
        version=__version__,
        description="Registry of JAK-inhibitor therapy in STAT1 gain-of-function: the JSON API.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads its scripts from a CDN; the schema is enough
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.threads = threads
    app.state.engine = engine
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)
    app.state.dashboard_cache = (
        DashboardCache()
    )  # per process; keyed by the audit head (dashboard.py)
    app.mount(
        "/static",
        StaticFiles(directory=str(resources.files("jakreg.web") / "static")),
        name="static",
    )
    for module in (
        auth,
        dashboard,
        patients,
        records,
        transfer,
        audit,
        api,
        queries_pages,
        queries_api,
    ):
        app.include_router(module.router)
    _install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Refuses NUL in the address; adds the security headers to every response.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs each request
    through an extra task and memory stream, which costs more than some of the requests themselves.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            response = _error(Request(scope), 400, NUL_IN_URL)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def worker_threads() -> int:
    """Threads per worker process that run requests ($JAKREG_THREADS, default 8).

    The endpoints are plain functions doing database work, run in the worker's thread pool. A few
    threads keep the CPU and the database busy; more only take turns at the GIL, and under load every
    request then takes longer (FastAPI's default is 40)."""
    value = os.environ.get(THREADS_ENV, "").strip()
    try:
        threads = int(value) if value else DEFAULT_THREADS
    except ValueError:
        raise ConfigurationError(f"{THREADS_ENV} must be a whole number, not {value!r}") from None
    if not 1 <= threads <= 256:
        raise ConfigurationError(f"{THREADS_ENV} must be between 1 and 256")
    return threads


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.threads
    yield


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(ValidationFailed)
    async def validation_failed(request: Request, exc: ValidationFailed) -> Response:
        return _error(request, 422, str(exc), [p.to_dict() for p in exc.log.kept])

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        return _error(request, exc.status, str(exc))

    @app.exception_handler(DatabaseError)
    async def database_error(request: Request, exc: DatabaseError) -> Response:
        return _error(request, 503, str(exc))

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> Response:
        # Two writers raced past the checks (e.g. the same key created twice at once).
        return _error(request, 409, CONFLICT)

    @app.exception_handler(SQLAlchemyError)
    async def database_failure(request: Request, exc: SQLAlchemyError) -> Response:
        return _error(request, 503, db.explain(exc))

    @app.exception_handler(JakregError)
    async def jakreg_error(request: Request, exc: JakregError) -> Response:
        return _error(request, 400, str(exc))


def _error(
    request: Request, status: int, message: str, problems: list[dict[str, object]] | None = None
) -> Response:
    if _is_api(request):
        body: dict[str, object] = {"detail": message}
        if problems is not None:
            body["problems"] = problems
        return JSONResponse(body, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)
