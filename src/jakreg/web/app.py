"""The FastAPI application: settings, database, routers, and the one place errors become responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import jakreg.store.users  # noqa: F401  (the account tables belong to the metadata)
from jakreg import __version__
from jakreg.errors import DatabaseError, JakregError
from jakreg.ingest.problems import ValidationFailed
from jakreg.store import db
from jakreg.web.errors import ConfigurationError, LoginRequired, WebError
from jakreg.web.pages import render
from jakreg.web.routes import api, audit, auth, patients, records, transfer
from jakreg.web.settings import Settings

SCHEMA_OUTDATED = (
    "the database {url} is at schema {have}, this server needs {need}; run: jakreg init --db {url}"
)

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
    engine = db.make_engine(settings.db_url)
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
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)
    app.mount(
        "/static",
        StaticFiles(directory=str(resources.files("jakreg.web") / "static")),
        name="static",
    )
    for module in (auth, patients, records, transfer, audit, api):
        app.include_router(module.router)
    _install_error_handlers(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if "\x00" in request.url.path or b"%00" in request.scope.get("query_string", b""):
            return _error(request, 400, NUL_IN_URL)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


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
