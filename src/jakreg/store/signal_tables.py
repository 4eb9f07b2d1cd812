"""The safety_signal table: one row per (rule, record) hit, with its state and who acted on it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jakreg.store.tables import Base, Versioned

STATES = ("open", "acknowledged", "closed")


class SafetySignal(Versioned, Base):
    __tablename__ = "safety_signal"
    __table_args__ = (UniqueConstraint("rule_id", "record_table", "record_pk"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    centre: Mapped[str] = mapped_column(String(16), index=True)
    rule_id: Mapped[str] = mapped_column(String(40))
    rule_version: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    record_table: Mapped[str] = mapped_column(String(40))
    record_pk: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(14), index=True)  # open | acknowledged | closed
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_comment: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_comment: Mapped[str | None] = mapped_column(Text)
    derived_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
