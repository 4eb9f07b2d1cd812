"""Deliver the outbox: one digest per user per run over SMTP (smtplib), each outcome recorded.

A run first plans (which events each user gets, in one transaction), then sends digest by digest. A digest
is marked ``sending`` and committed before the SMTP conversation and ``sent`` after it, so a crash between
the two leaves it ``sending`` and it is never sent again (nothing already sent is resent). A refused or
dropped connection is retried with backoff; after the last attempt the digest is ``failed`` and the next
run tries it again.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.notify.settings import SmtpSettings
from jakreg.store.users import Role, User
from jakreg.store.workflow import Digest, DigestItem, NotificationSetting, OutboxEvent

MAX_RUNS_FOR_A_DIGEST = 5
DAY = dt.timedelta(days=1)
CENTRE_AUDIENCE = (Role.centre_editor.value, Role.centre_viewer.value)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    interrupted: int = 0  # left ``sending`` by a crashed run: outcome unknown, not resent
    outcomes: list[str] = field(default_factory=list)


def _hears(user: User, event: OutboxEvent) -> bool:
    if event.audience == "user":
        return event.username == user.username
    if event.audience == "monitors":
        return user.role in (Role.monitor.value, Role.admin.value)
    # centre: the centre's own users
    return user.role in CENTRE_AUDIENCE and event.centre in user.centres


def plan(session: Session, now: dt.datetime) -> list[Digest]:
    """Put each due user's undelivered events into their one open digest (made if needed). Commits."""
    rows = session.execute(
        select(User, NotificationSetting)
        .join(NotificationSetting, NotificationSetting.user_pk == User.id)
        .where(
            User.disabled.is_(False),
            NotificationSetting.frequency != "none",
            NotificationSetting.email.is_not(None),
        )
        .order_by(User.id)
    ).all()
    events = list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))
    for user, setting in rows:
        delivered = set(
            session.scalars(select(DigestItem.event_pk).where(DigestItem.user_pk == user.id))
        )
        new = [e for e in events if e.id not in delivered and _hears(user, e)]
        if not new:
            continue
        if setting.frequency == "daily":
            last = session.scalar(
                select(Digest.sent_at).where(Digest.user_pk == user.id, Digest.state == "sent")
                .order_by(Digest.sent_at.desc()).limit(1)
            )  # fmt: skip
            if last is not None and now - _utc(last) < DAY:
                continue
        digest = session.scalar(
            select(Digest).where(
                Digest.user_pk == user.id,
                Digest.state.in_(("pending", "failed")),
                Digest.attempts
                < MAX_RUNS_FOR_A_DIGEST,  # given up on: its events wait in a new one
            )
        )
        if digest is None:
            digest = Digest(user_pk=user.id, email=setting.email or "", created_at=now,
                            state="pending", attempts=0)  # fmt: skip
            session.add(digest)
            session.flush()
        for e in new:
            session.add(DigestItem(digest_pk=digest.id, user_pk=user.id, event_pk=e.id))
    session.commit()
    return list(
        session.scalars(
            select(Digest).where(Digest.state.in_(("pending", "failed")),
                                 Digest.attempts < MAX_RUNS_FOR_A_DIGEST).order_by(Digest.id)
        )
    )  # fmt: skip


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def compose(session: Session, digest: Digest, settings: SmtpSettings) -> EmailMessage:
    """The e-mail: pseudonyms, centre codes, counts and links only."""
    events = list(
        session.scalars(
            select(OutboxEvent).join(DigestItem, DigestItem.event_pk == OutboxEvent.id)
            .where(DigestItem.digest_pk == digest.id).order_by(OutboxEvent.id)
        )
    )  # fmt: skip
    lines = [f"jakreg: {len(events)} update(s) for you.", ""]
    for e in events:
        where = " ".join(x for x in (f"[{e.centre}]" if e.centre else "", e.patient_id or "") if x)
        link = f" {settings.base_url}{e.link}" if e.link else ""
        lines.append(f"- {where + ': ' if where else ''}{e.summary}{link}")
    lines += ["", "Change how often you are told on your account page."]
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = digest.email
    message["Subject"] = f"jakreg: {len(events)} update(s)"
    message["Message-ID"] = make_msgid(idstring=f"jakreg-digest-{digest.id}")
    message.set_content("\n".join(lines))
    return message


def _deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


RETRYABLE = (ConnectionRefusedError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected,
             ConnectionResetError, TimeoutError)  # fmt: skip


def send(
    session: Session,
    settings: SmtpSettings,
    *,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """One run of ``jakreg notify send``."""
    when = now or dt.datetime.now(dt.UTC)
    report = SendReport()
    report.interrupted = len(
        list(session.scalars(select(Digest.id).where(Digest.state == "sending")))
    )
    for digest in plan(session, when):
        message = compose(session, digest, settings)
        digest.state = "sending"
        digest.attempts += 1
        session.commit()
        error: str | None = None
        for attempt in range(settings.retries):
            try:
                _deliver(message, settings)
                error = None
                break
            except RETRYABLE as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < settings.retries:
                    sleep(settings.backoff * 2**attempt)
            except (
                smtplib.SMTPException,
                OSError,
            ) as exc:  # refused recipient, TLS, auth: not retried
                error = f"{type(exc).__name__}: {exc}"
                break
        if error is None:
            digest.state, digest.sent_at, digest.outcome = (
                "sent",
                when,
                "accepted by the SMTP server",
            )
            report.sent += 1
        else:
            digest.state, digest.outcome = "failed", error
            report.failed += 1
        report.outcomes.append(
            f"digest {digest.id} to user {digest.user_pk}: {digest.state} ({digest.outcome})"
        )
        session.commit()
    return report


def set_preference(session: Session, user: User, *, email: str | None, frequency: str) -> None:
    """A user's e-mail address and how often they are told (the account page and the CLI use this)."""
    from jakreg.notify.settings import FREQUENCIES, NotifySettingsError

    if frequency not in FREQUENCIES:
        raise NotifySettingsError(f"frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")
    address = (email or "").strip() or None
    if address is not None and ("@" not in address or " " in address or len(address) > 254):
        raise NotifySettingsError(f"{address!r} is not an e-mail address")
    setting = session.scalar(
        select(NotificationSetting).where(NotificationSetting.user_pk == user.id)
    )
    if setting is None:
        setting = NotificationSetting(user_pk=user.id)
        session.add(setting)
    setting.email, setting.frequency = address, frequency


def preference(session: Session, user_pk: int) -> NotificationSetting | None:
    return session.scalar(select(NotificationSetting).where(NotificationSetting.user_pk == user_pk))
