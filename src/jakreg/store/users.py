"""Tables of the multicentre server: accounts, centre memberships, login sessions, API tokens, failed logins.

Separate from the patient-data tables (jakreg.store.tables) but on the same metadata, so one migration history
covers both. Secrets are never stored: sessions and API tokens are kept as SHA-256 digests of random tokens,
passwords as argon2 hashes.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jakreg.store.tables import Base


class Role(StrEnum):
    """What an account may do; the scoping in jakreg.web.scope reads nothing else."""

    admin = "admin"
    centre_editor = "centre_editor"
    centre_viewer = "centre_viewer"
    analyst = "analyst"
    monitor = "monitor"  # reads every centre without local ids, raises and closes data queries


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    memberships: Mapped[list[CentreMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def centres(self) -> list[str]:
        return sorted(m.centre for m in self.memberships)


class CentreMembership(Base):
    """A user's centre, by code: a centre may be granted before its first import creates it."""

    __tablename__ = "centre_membership"
    __table_args__ = (UniqueConstraint("user_pk", "centre"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    centre: Mapped[str] = mapped_column(String(16), index=True)
    user: Mapped[User] = relationship(back_populates="memberships")


class WebSession(Base):
    """A logged-in browser; the cookie holds the token, the table only its digest."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class ApiToken(Base):
    """A per-user token for the JSON API; shown once when made, stored as its digest."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed login, by the name typed (which may be no account at all); read for the lock-out."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
