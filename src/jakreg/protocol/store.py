"""Stored protocol versions (table ``protocol_version``): load (audited), list, and pick per visit."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Date, DateTime, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from jakreg.errors import JakregError
from jakreg.protocol.schema import Protocol, default_protocol, parse_protocol
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.tables import Base


class ProtocolVersion(Base):
    __tablename__ = "protocol_version"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ProtocolConflictError(JakregError):
    """The same name and version is already stored with other content."""


@dataclass(frozen=True)
class ActiveProtocol:
    protocol: Protocol
    label: str  # "name version (effective YYYY-MM-DD)", named in every output
    shipped_default: bool


def _label(p: Protocol, default: bool) -> str:
    text = f"{p.name} {p.version} (effective {p.effective_date.isoformat()})"
    return f"{text}, shipped default: no protocol loaded" if default else text


def load_protocol(session: Session, protocol: Protocol, content: str, *, actor: str) -> bool:
    """Store a protocol version and audit it; False when exactly this version is already stored.

    The caller commits. Raises ProtocolConflictError if name+version exists with different content."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    existing = session.scalar(
        select(ProtocolVersion).where(
            ProtocolVersion.name == protocol.name, ProtocolVersion.version == protocol.version
        )
    )
    if existing is not None:
        if existing.content_sha256 == digest:
            return False
        raise ProtocolConflictError(
            f"protocol {protocol.name} version {protocol.version} is already stored with other "
            "content; give the amendment a new version"
        )
    row = ProtocolVersion(
        name=protocol.name, version=protocol.version, effective_date=protocol.effective_date,
        content=content, content_sha256=digest, loaded_by=actor,
        loaded_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )  # fmt: skip
    session.add(row)
    session.flush()
    AuditWriter(session).write(
        Change(
            actor=actor,
            action="create",
            entity="protocol_version",
            entity_pk=row.id,
            entity_key=f"{protocol.name} {protocol.version}",
            after={
                "name": row.name,
                "version": row.version,
                "effective_date": row.effective_date.isoformat(),
                "content_sha256": digest,
            },
        )
    )
    return True


def active_protocols(session: Session) -> list[ActiveProtocol]:
    """Stored versions by effective date (oldest first); the shipped default when none is stored."""
    rows = session.scalars(
        select(ProtocolVersion).order_by(ProtocolVersion.effective_date, ProtocolVersion.id)
    ).all()
    if not rows:
        protocol, _ = default_protocol()
        return [ActiveProtocol(protocol, _label(protocol, True), True)]
    out = []
    for r in rows:
        p = parse_protocol(r.content, f"protocol_version #{r.id}")
        out.append(ActiveProtocol(p, _label(p, False), False))
    return out


def version_for(versions: list[ActiveProtocol], planned: dt.date) -> ActiveProtocol:
    """The version in force on ``planned``: the latest effective on or before it (else the oldest)."""
    chosen = versions[0]
    for v in versions:
        if v.protocol.effective_date <= planned:
            chosen = v
    return chosen
