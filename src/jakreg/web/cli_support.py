"""What `jakreg serve` and `jakreg user ...` call: plain functions raising JakregError subclasses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from jakreg.errors import DatabaseError
from jakreg.store import db
from jakreg.store.audit import as_utc
from jakreg.store.users import User
from jakreg.web import accounts
from jakreg.web.errors import ConfigurationError
from jakreg.web.settings import load_settings

CLI_ACTOR = "jakreg user (command line)"


@dataclass(frozen=True)
class UserInfo:
    username: str
    role: str
    centres: list[str]
    disabled: bool
    created_at: str


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.username,
        user.role,
        user.centres,
        user.disabled,
        as_utc(user.created_at).isoformat(),
    )


def serve(host: str, port: int, db_url: str | None, dev: bool, workers: int | None = None) -> None:
    """Run the server until interrupted. Raises ConfigurationError (no secret, old schema) first.

    ``workers``: uvicorn worker processes; default one per core (``serving.default_workers``), one
    with ``dev``."""
    import os

    import uvicorn

    from jakreg.web.app import create_app
    from jakreg.web.serving import HttpProtocol, default_workers

    if workers is None:
        workers = 1 if dev else default_workers()
    if workers < 1:
        raise ConfigurationError("--workers must be 1 or more")

    url = db.database_url(db_url)
    settings = load_settings(url, dev=dev)
    app = create_app(settings)  # fails early, with a clear message, on a bad database or secret
    if workers > 1:
        # Workers import the app themselves; they read the same settings from the environment.
        os.environ[db.ENV_VAR] = url
        if dev:
            os.environ["JAKREG_DEV"] = "1"
        app.state.engine.dispose()
        uvicorn.run(
            "jakreg.web.asgi:app",
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            http=HttpProtocol,
        )
    else:
        uvicorn.run(app, host=host, port=port, proxy_headers=True, http=HttpProtocol)


def user_add(
    db_url: str | None, username: str, role: str, centres: Iterable[str], password: str
) -> UserInfo:
    with db.open_session(db_url) as session:
        try:
            user = accounts.create_user(
                session,
                username=username,
                role=role,
                centres=centres,
                password=password,
                actor=CLI_ACTOR,
            )
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise DatabaseError(db.explain(exc)) from None
        return _info(user)


def user_list(db_url: str | None) -> list[UserInfo]:
    with db.open_session(db_url) as session:
        return [_info(u) for u in accounts.list_users(session)]


def user_disable(db_url: str | None, username: str) -> UserInfo:
    with db.open_session(db_url) as session:
        user = accounts.disable_user(session, username, actor=CLI_ACTOR)
        session.commit()
        return _info(user)


def user_set_password(
    db_url: str | None, username: str, password: str, *, revoke_tokens: bool = False
) -> tuple[UserInfo, int]:
    """The user, and how many API tokens are still valid afterwards."""
    with db.open_session(db_url) as session:
        user = accounts.set_password(
            session, username, password, actor=CLI_ACTOR, revoke_tokens=revoke_tokens
        )
        session.commit()
        return _info(user), accounts.valid_api_tokens(session, user)
