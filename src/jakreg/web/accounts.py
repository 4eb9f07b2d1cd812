"""Accounts: create, list, disable, set passwords; log in with lock-out; browser sessions; API tokens.

Plain functions on a SQLAlchemy session (no HTTP here): the CLI and the routes both call them. Every
login, failed login and account change is an audit event in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from jakreg.store.audit import AuditWriter, Change, as_utc
from jakreg.store.users import ApiToken, CentreMembership, LoginFailure, Role, User, WebSession
from jakreg.web import errors
from jakreg.web.errors import AccountError, LoginFailed
from jakreg.web.security import hash_password, new_token, token_digest, verify_password
from jakreg.web.settings import Settings

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$"
CENTRE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,15}$"
CENTRE_ROLES = frozenset({Role.centre_editor, Role.centre_viewer})

USER_EXISTS = "the user {username} already exists"
NO_USER = "there is no user {username}"
BAD_USERNAME = "user names are 2–100 letters, digits, '.', '_', '@' or '-'"
BAD_ROLE = "unknown role {role!r}; use one of: {roles}"
BAD_CENTRE = "{centre!r} is not a centre code (2–16 capital letters, digits or hyphens)"
NEEDS_CENTRE = "a {role} needs at least one centre (--centre CODE)"
NO_CENTRE_FOR_ROLE = "a {role} sees every centre; give no centres"
SHORT_PASSWORD = "the password is too short: use at least {n} characters"  # noqa: S105 (a message, not a secret)
# Upper limits: a password is hashed (argon2) on every login, so a megabyte of "password" would be
# CPU spent for an attacker; user names are stored in 100 characters.
MAX_PASSWORD_LENGTH = 1024
MAX_USERNAME_LENGTH = 100
LONG_PASSWORD = f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters"
LONG_LOGIN = (
    f"user name or password too long (at most {MAX_USERNAME_LENGTH} and "
    f"{MAX_PASSWORD_LENGTH} characters)"
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            BAD_ROLE.format(role=role, roles=", ".join(r.value for r in Role))
        ) from None


def _check_password(password: str, settings_min: int) -> None:
    if len(password) < settings_min:
        raise AccountError(SHORT_PASSWORD.format(n=settings_min))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(LONG_PASSWORD)


def _audit(session: Session, actor: str, action: str, username: str, **extra: object) -> None:
    AuditWriter(session).write(
        Change(
            actor=actor,
            action=action,
            entity="user",
            entity_key=username,
            after=dict(extra) or None,
        )
    )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(NO_USER.format(username=username))
    return user


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    centres: Iterable[str],
    password: str,
    actor: str,
    min_password_length: int = 12,
) -> User:
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise AccountError(BAD_USERNAME)
    parsed = parse_role(role)
    codes = sorted({c.strip() for c in centres if c.strip()})
    for code in codes:
        if not re.fullmatch(CENTRE_PATTERN, code):
            raise AccountError(BAD_CENTRE.format(centre=code))
    if parsed in CENTRE_ROLES and not codes:
        raise AccountError(NEEDS_CENTRE.format(role=parsed.value))
    if parsed not in CENTRE_ROLES and codes:
        raise AccountError(NO_CENTRE_FOR_ROLE.format(role=parsed.value))
    _check_password(password, min_password_length)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(USER_EXISTS.format(username=username))
    at = now()
    user = User(
        username=username,
        role=parsed.value,
        password_hash=hash_password(password),
        disabled=False,
        created_at=at,
        password_changed_at=at,
        memberships=[CentreMembership(centre=c) for c in codes],
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "user_create", username, role=parsed.value, centres=codes)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def disable_user(session: Session, username: str, *, actor: str) -> User:
    user = get_user(session, username)
    user.disabled = True
    session.execute(delete(WebSession).where(WebSession.user_pk == user.id))
    for token in session.scalars(select(ApiToken).where(ApiToken.user_pk == user.id)):
        token.revoked_at = token.revoked_at or now()
    _audit(session, actor, "user_disable", username)
    return user


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    actor: str,
    min_password_length: int = 12,
    revoke_tokens: bool = False,
) -> User:
    """New password; every open session ends. API tokens are separate credentials and stay valid
    unless ``revoke_tokens`` (do it when the password may have been known to someone else: a
    token made with the old password would still work)."""
    user = get_user(session, username)
    _check_password(password, min_password_length)
    user.password_hash = hash_password(password)
    user.password_changed_at = now()
    # A new password ends every open session: whoever knew the old one is logged out.
    session.execute(delete(WebSession).where(WebSession.user_pk == user.id))
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    revoked = revoke_api_tokens(session, user) if revoke_tokens else 0
    _audit(session, actor, "user_password", username, tokens_revoked=revoked)
    return user


def revoke_api_tokens(session: Session, user: User) -> int:
    """Revoke every valid API token of the user; how many were revoked."""
    n = 0
    for token in session.scalars(select(ApiToken).where(ApiToken.user_pk == user.id)):
        if token.revoked_at is None:
            token.revoked_at = now()
            n += 1
    return n


def valid_api_tokens(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count(ApiToken.id)).where(
                ApiToken.user_pk == user.id, ApiToken.revoked_at.is_(None)
            )
        )
        or 0
    )


# --- logging in ---------------------------------------------------------------------------------


def _recent_failures(
    session: Session, username: str, since: dt.datetime
) -> tuple[int, dt.datetime]:
    count, last = session.execute(
        select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
            LoginFailure.username == username, LoginFailure.at >= since
        )
    ).one()
    return int(count or 0), as_utc(last) if last is not None else since


def authenticate(
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    *,
    at: dt.datetime | None = None,
) -> User:
    """The user, or LoginFailed; the failure (and the lock-out) is recorded and audited either way.

    The caller commits in both cases: a failed login must be kept even though the request fails.
    """
    at = at or now()
    username = username.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    window = dt.timedelta(minutes=settings.lockout_minutes)
    failures, last = _recent_failures(session, username, at - window)
    user = session.scalar(select(User).where(User.username == username))
    if failures >= settings.max_failed_logins:
        verify_password(None, password)  # same cost as a real attempt
        wait = max(1, math.ceil((last + window - at).total_seconds() / 60))
        session.add(LoginFailure(username=username[:100], at=at))
        _audit(session, username[:100], "login_failed", username[:100], reason="locked out")
        raise LoginFailed(errors.LOGIN_LOCKED.format(minutes=wait))
    ok = user is not None and not user.disabled and verify_password(user.password_hash, password)
    if user is None or not ok:
        if user is None:
            verify_password(None, password)
        session.add(LoginFailure(username=username[:100], at=at))
        reason = (
            "unknown user" if user is None else ("disabled" if user.disabled else "wrong password")
        )
        _audit(session, username[:100], "login_failed", username[:100], reason=reason)
        raise LoginFailed(errors.LOGIN_FAILED)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    _audit(session, username, "login", username)
    return user


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie; the database keeps only its digest
    csrf_token: str
    expires_at: dt.datetime


def open_web_session(session: Session, settings: Settings, user: User) -> NewSession:
    at = now()
    session.execute(delete(WebSession).where(WebSession.expires_at < at))
    token, csrf = new_token(), new_token()
    expires = at + dt.timedelta(hours=settings.session_hours)
    session.add(
        WebSession(
            token_hash=token_digest(settings.secret_key, token),
            user_pk=user.id,
            csrf_token=csrf,
            created_at=at,
            expires_at=expires,
        )
    )
    return NewSession(token, csrf, expires)


def find_web_session(
    session: Session, settings: Settings, token: str | None
) -> tuple[User, WebSession] | None:
    if not token:
        return None
    found = session.scalar(
        select(WebSession).where(WebSession.token_hash == token_digest(settings.secret_key, token))
    )
    if found is None or as_utc(found.expires_at) <= now():
        return None
    user = session.get(User, found.user_pk)
    if user is None or user.disabled:
        return None
    return user, found


def close_web_session(session: Session, settings: Settings, token: str | None) -> None:
    if token:
        session.execute(
            delete(WebSession).where(
                WebSession.token_hash == token_digest(settings.secret_key, token)
            )
        )


# --- API tokens ---------------------------------------------------------------------------------


def create_api_token(session: Session, settings: Settings, user: User, name: str) -> str:
    """A new token for ``user``; the only time its text exists outside the client."""
    token = "jkr_" + new_token()
    session.add(
        ApiToken(
            token_hash=token_digest(settings.secret_key, token),
            user_pk=user.id,
            name=(name.strip() or "token")[:100],
            created_at=now(),
        )
    )
    _audit(session, user.username, "token_create", user.username, name=name[:100])
    return token


def revoke_api_token(session: Session, user: User, token_pk: int) -> bool:
    token = session.get(ApiToken, token_pk)
    if token is None or token.user_pk != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = now()
    _audit(session, user.username, "token_revoke", user.username, name=token.name)
    return True


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_pk == user.id).order_by(ApiToken.id))
    )


# How stale ``ApiToken.last_used_at`` may get: the account page shows it to the minute, and writing it on
# every call would make each API read a write transaction (one at a time on SQLite).
TOKEN_TOUCH_INTERVAL = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class ApiCaller:
    """Who an API token belongs to, as the scoping needs it."""

    user_pk: int
    username: str
    role: str
    centres: tuple[str, ...]


# The token, its user and the user's centres in one indexed query (one row per centre).
_API_CALLER = (
    select(
        ApiToken.id,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        User.id.label("user_pk"),
        User.username,
        User.role,
        User.disabled,
        CentreMembership.centre,
    )
    .join(User, User.id == ApiToken.user_pk)
    .outerjoin(CentreMembership, CentreMembership.user_pk == User.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def find_api_caller(session: Session, settings: Settings, token: str | None) -> ApiCaller | None:
    """The token's caller, or None (unknown or revoked token, disabled user): one keyed digest and one
    query. ``last_used_at`` is written (one UPDATE) only when it is more than a minute old."""
    if not token:
        return None
    rows = session.execute(_API_CALLER, {"digest": token_digest(settings.secret_key, token)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.revoked_at is not None or first.disabled:
        return None
    at = now()
    if first.last_used_at is None or at - as_utc(first.last_used_at) >= TOKEN_TOUCH_INTERVAL:
        session.execute(update(ApiToken).where(ApiToken.id == first.id).values(last_used_at=at))
    centres = tuple(sorted(r.centre for r in rows if r.centre is not None))
    return ApiCaller(first.user_pk, first.username, first.role, centres)
