"""The audit trail's anchor: its head (event count, last id and hash) written outside the database.

The hash chain cannot show that events were deleted from its end: what is left is a valid, shorter chain.
An anchor written at a known moment (next to every import, export, report and backup, or fetched from the
server's ``GET /api/v1/audit/head``) can: a later trail must still hold the anchored event, with the same
hash, at the same position, and at least as many events. A trail rewritten as a whole after the anchor
was written fails the same check, as long as the anchor itself is kept where the database's users cannot
rewrite it too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jakreg.errors import InputFileError
from jakreg.store.audit import GENESIS
from jakreg.store.tables import AuditEvent

FORMAT = "jakreg audit anchor 1"
SUFFIX = ".anchor.json"


@dataclass(frozen=True)
class Anchor:
    """The trail's head at ``written_at``: how many events, and the last one's id and hash."""

    events: int
    head_event_id: int | None
    head_hash: str
    written_at: str
    written_for: str = ""  # import | export | report | backup | server
    format: str = FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AnchorError(InputFileError):
    """An anchor file that cannot be read."""


def head(session: Session, written_for: str = "") -> Anchor:
    """The trail's head now, in the caller's transaction."""
    count = session.scalar(select(func.count(AuditEvent.id))) or 0
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if last is None:
        return Anchor(0, None, GENESIS, now, written_for)
    return Anchor(int(count), int(last[0]), str(last[1]), now, written_for)


def sidecar(path: Path) -> Path:
    """Where the anchor of an output (or input) ``path`` goes: ``<path>.anchor.json`` beside it."""
    return path.with_name(path.name + SUFFIX)


def write_anchor(anchor: Anchor, path: Path) -> Path:
    path.write_text(json.dumps(anchor.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_anchor(path: Path) -> Anchor:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnchorError(f"the anchor file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnchorError(f"{path} is not an anchor file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AnchorError(f'{path} is not a jakreg audit anchor (no "format": "{FORMAT}")')
    try:
        head_id = data["head_event_id"]
        return Anchor(
            events=int(data["events"]),
            head_event_id=None if head_id is None else int(head_id),
            head_hash=str(data["head_hash"]),
            written_at=str(data.get("written_at", "")),
            written_for=str(data.get("written_for", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnchorError(f"{path} is not a complete anchor (missing or bad {exc})") from None


@dataclass(frozen=True)
class AnchorCheck:
    """What the trail says about an anchor: ``problem`` is None when the trail still holds it."""

    anchor: Anchor
    events: int  # events in the trail now
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_anchor(session: Session, anchor: Anchor) -> AnchorCheck:
    """Does the trail still hold the anchored head, at the same position, and no fewer events?"""
    now = session.scalar(select(func.count(AuditEvent.id))) or 0
    when = anchor.written_at or "the anchor's time"
    if now < anchor.events:
        return AnchorCheck(
            anchor,
            now,
            f"the audit trail was truncated: it holds {now} event(s), but {anchor.events} were "
            f"recorded at {when} (events deleted from its end?)",
        )
    if anchor.head_event_id is None:
        return AnchorCheck(anchor, now, None)  # anchored when the trail was empty
    found = session.execute(
        select(AuditEvent.id).where(AuditEvent.hash == anchor.head_hash)
    ).scalar_one_or_none()
    if found is None or found != anchor.head_event_id:
        return AnchorCheck(
            anchor,
            now,
            f"the anchored event {anchor.head_event_id} (hash {anchor.head_hash[:16]}…) of {when} "
            "is not in the audit trail: the trail was truncated or rewritten since",
        )
    before = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= found)) or 0
    if before != anchor.events:
        return AnchorCheck(
            anchor,
            now,
            f"the audit trail holds {before} event(s) up to the anchored event {found}, but "
            f"{anchor.events} were recorded at {when}: events before it were removed or added",
        )
    return AnchorCheck(anchor, now, None)
