"""Tables of the data-query workflow and the notification outbox, on the registry's metadata.

A data query sits on one field of one record (or on a data quality finding); its messages form the thread.
The outbox holds events (pseudonyms, counts and links only); ``notify send`` groups them into one digest per
user and records each digest's outcome, so a crash mid-send resends nothing already sent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jakreg.store.tables import Base, Versioned


class DataQuery(Versioned, Base):
    __tablename__ = "data_query"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    centre: Mapped[str] = mapped_column(String(16), index=True)
    sheet: Mapped[str] = mapped_column(String(40))
    record_pk: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    finding_id: Mapped[str | None] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(
        String(12), index=True
    )  # open | answered | closed | reopened
    raised_by: Mapped[str] = mapped_column(String(100))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    messages: Mapped[list[QueryMessage]] = relationship(
        back_populates="query",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="QueryMessage.id",
    )


class QueryMessage(Base):
    __tablename__ = "query_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    query_pk: Mapped[int] = mapped_column(
        ForeignKey("data_query.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(12))  # raise | answer | close | reopen
    text: Mapped[str] = mapped_column(Text)
    query: Mapped[DataQuery] = relationship(back_populates="messages")


class NotificationSetting(Base):
    """Where and how often a user is told: immediate (every ``notify send``), daily, or none."""

    __tablename__ = "notification_setting"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    frequency: Mapped[str] = mapped_column(String(10))


class OutboxEvent(Base):
    """Something a user should hear about; pseudonyms, counts and links only, never clinical values."""

    __tablename__ = "outbox_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    centre: Mapped[str | None] = mapped_column(String(16), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(12))  # centre | monitors | user
    username: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(300))


class Digest(Base):
    """One e-mail to one user; its state says whether it went out (sending: the outcome is unknown)."""

    __tablename__ = "notification_digest"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10), index=True)  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)


class DigestItem(Base):
    """Which events a digest carries; an event goes into at most one digest per user."""

    __tablename__ = "notification_digest_item"
    __table_args__ = (UniqueConstraint("user_pk", "event_pk"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    digest_pk: Mapped[int] = mapped_column(
        ForeignKey("notification_digest.id", ondelete="CASCADE"), index=True
    )
    user_pk: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    event_pk: Mapped[int] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
