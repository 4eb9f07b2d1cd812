"""The outbox: events worth telling someone about, written in the caller's transaction.

Other parts of jakreg call ``enqueue``; ``jakreg notify send`` (jakreg.notify.send) delivers them. An event
carries a pseudonym, a short summary of counts and names and a link, never local ids or clinical values.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.store.workflow import OutboxEvent


class Kind(StrEnum):
    query_raised = "query_raised"
    query_answered = "query_answered"
    query_closed = "query_closed"
    signal_critical = "signal_critical"
    visit_overdue = "visit_overdue"


# Who hears about each kind by default: the centre's users, every monitor, or one named user.
AUDIENCE: dict[Kind, str] = {
    Kind.query_raised: "centre",
    Kind.query_answered: "user",
    Kind.query_closed: "centre",
    Kind.signal_critical: "monitors",
    Kind.visit_overdue: "centre",
}
AUDIENCES = ("centre", "monitors", "user")
MAX_SUMMARY = 300

# A summary is built by jakreg from names and counts; digits-with-decimals look like clinical values.
_LOOKS_LIKE_VALUE = re.compile(r"\d+[.,]\d+")


class OutboxError(JakregError):
    """An event that cannot be queued (unknown kind, audience without a user, a value in the text)."""


def enqueue(
    session: Session,
    kind: str,
    *,
    summary: str,
    centre: str | None = None,
    patient_id: str | None = None,
    link: str | None = None,
    audience: str | None = None,
    username: str | None = None,
    at: dt.datetime | None = None,
) -> OutboxEvent:
    """Queue one event in the caller's transaction (it is sent only if the transaction commits).

    ``patient_id`` is the pseudonym; ``summary`` names what happened (e.g. "query 12 raised on labs record 5,
    field value"); ``audience`` defaults by kind (``AUDIENCE``); ``username`` is required for "user"."""
    try:
        parsed = Kind(kind)
    except ValueError:
        raise OutboxError(
            f"unknown notification kind {kind!r}; use one of: {', '.join(k.value for k in Kind)}"
        ) from None
    who = audience or AUDIENCE[parsed]
    if who not in AUDIENCES:
        raise OutboxError(f"unknown audience {who!r}; use one of: {', '.join(AUDIENCES)}")
    if who == "user" and not username:
        raise OutboxError(f"a {kind} notification for one user needs the user name")
    if who == "centre" and not centre:
        raise OutboxError(f"a {kind} notification for a centre needs the centre")
    if not summary.strip() or len(summary) > MAX_SUMMARY:
        raise OutboxError(f"a notification summary needs 1 to {MAX_SUMMARY} characters")
    if _LOOKS_LIKE_VALUE.search(summary):
        raise OutboxError("a notification summary must not carry measured values")
    event = OutboxEvent(
        at=(at or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        kind=parsed.value,
        centre=centre,
        patient_id=patient_id,
        audience=who,
        username=username,
        summary=summary.strip(),
        link=link,
    )
    session.add(event)
    return event
