"""Digests over a real SMTP server (aiosmtpd on 127.0.0.1): content, idempotence, refusal, dropped connection."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jakreg.cli import app
from jakreg.notify import outbox
from jakreg.notify.send import send, set_preference
from jakreg.notify.settings import NotifySettingsError, SmtpSettings
from jakreg.queries import service
from jakreg.store import db
from jakreg.store.tables import LabResult, Patient
from jakreg.store.workflow import Digest
from jakreg.web import accounts
from jakreg.web.scope import Principal
from tests.web.webdata import OWN, OWN_LOCAL_ID, OWN_PATIENT, seed

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Dropper:
    """Takes the message, then hangs up instead of answering 250."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        server.transport.close()
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def session(db_url: str, tmp_path: Path) -> Iterator[Session]:
    seed(db_url, tmp_path / "study")
    with db.open_session(db_url) as s:
        for name, email in (("eddie", "eddie@bcn.test"), ("mona", "mona@monitor.test")):
            set_preference(s, _user(s, name, email), email=email, frequency="immediate")
        s.commit()
        yield s


def _user(s: Session, name: str, email: str = "") -> Any:
    if name == "mona" and not s.scalar(
        select(accounts.User).where(accounts.User.username == "mona")
    ):
        accounts.create_user(
            s, username="mona", role="monitor", centres=[], password="x" * 20, actor="t"
        )
    return accounts.get_user(s, name)


def settings(port: int, **kw: Any) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, starttls=False, base_url="https://reg.test",
                        timeout=5, **kw)  # fmt: skip


def _raise_query(s: Session) -> Any:
    mona = Principal.of(accounts.get_user(s, "mona"))
    patient = s.scalars(select(Patient).where(Patient.patient_id == OWN_PATIENT)).one()
    lab = s.scalars(select(LabResult).where(LabResult.patient_pk == patient.id)).first()
    assert lab is not None
    q = service.raise_query(s, mona, patient=patient, centre=OWN, sheet="labs", record_pk=lab.id,
                            field="value", text="ALT 130 U/L on day 31: typo?")  # fmt: skip
    s.commit()
    return q


def test_digest_goes_to_the_centre_once(session: Session, smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    q = _raise_query(session)
    report = send(session, settings(port), now=NOW)
    assert (report.sent, report.failed) == (1, 0)
    [(to, raw)] = recorder.messages
    assert to == ["eddie@bcn.test"]
    mail = message_from_bytes(raw)
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert mail["Subject"] == "jakreg: 1 update(s)"
    assert f"[{OWN}] {OWN_PATIENT}: query {q.id} raised on labs record" in body
    assert f"https://reg.test/queries/{q.id}" in body
    # never local ids, clinical values or the query's text
    del mail["Message-ID"]  # random digits: "130" may turn up in it by chance
    for secret in (OWN_LOCAL_ID, "130", "typo"):
        assert secret not in mail.as_string()
    again = send(session, settings(port), now=NOW)
    assert again.sent == 0
    assert len(recorder.messages) == 1


def test_answer_reaches_the_monitor_who_asked(session: Session, smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    q = _raise_query(session)
    send(session, settings(port), now=NOW)
    eddie = Principal.of(accounts.get_user(session, "eddie"))
    service.change_state(session, eddie, q, "answer", "corrected", patient_id=OWN_PATIENT)
    session.commit()
    send(session, settings(port), now=NOW)
    assert [to for to, _ in recorder.messages] == [["eddie@bcn.test"], ["mona@monitor.test"]]
    assert b"answered" in recorder.messages[1][1]


def test_refused_connection_is_retried_with_backoff_then_sent_next_run(
    session: Session, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    _raise_query(session)
    waits: list[float] = []
    nobody = free_port()  # nothing listens there: the connection is refused
    report = send(session, settings(nobody, retries=3, backoff=1.5), now=NOW, sleep=waits.append)
    assert (report.sent, report.failed) == (0, 1)
    assert waits == [1.5, 3.0]
    digest = session.scalars(select(Digest)).one()
    assert digest.state == "failed"
    assert "ConnectionRefusedError" in (digest.outcome or "")
    _raise_query(
        session
    )  # a second event while the first digest is waiting: still one digest per user
    report = send(session, settings(port), now=NOW)
    assert report.sent == 1
    assert len(recorder.messages) == 1
    assert b"2 update(s)" in recorder.messages[0][1]


def test_dropped_connection_mid_message_is_recorded(session: Session) -> None:
    port = free_port()
    controller = Controller(Dropper(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _raise_query(session)
        report = send(session, settings(port, retries=2, backoff=0), now=NOW, sleep=lambda _: None)
    finally:
        controller.stop()
    assert report.failed == 1
    digest = session.scalars(select(Digest)).one()
    assert digest.state == "failed"
    assert "SMTPServerDisconnected" in (digest.outcome or "")
    assert digest.attempts == 1


def test_interrupted_digest_is_not_resent(session: Session, smtp: tuple[Recorder, int]) -> None:
    recorder, port = smtp
    _raise_query(session)
    digest_report = send(session, settings(free_port(), retries=1), now=NOW)
    assert digest_report.failed == 1
    digest = session.scalars(select(Digest)).one()
    digest.state = "sending"  # as a run killed between handing it over and recording it leaves it
    session.commit()
    report = send(session, settings(port), now=NOW)
    assert (report.sent, report.interrupted) == (0, 1)
    assert recorder.messages == []


def test_daily_users_get_at_most_one_digest_a_day(
    session: Session, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    set_preference(
        session, accounts.get_user(session, "eddie"), email="eddie@bcn.test", frequency="daily"
    )
    session.commit()
    _raise_query(session)
    assert send(session, settings(port), now=NOW).sent == 1
    _raise_query(session)
    assert send(session, settings(port), now=NOW + dt.timedelta(hours=23)).sent == 0
    assert send(session, settings(port), now=NOW + dt.timedelta(hours=24)).sent == 1
    assert len(recorder.messages) == 2


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "JAKREG_SMTP_HOST is not set: give the SMTP server's host name"),
        ({"JAKREG_SMTP_HOST": "h", "JAKREG_SMTP_PORT": "99999"},
         "JAKREG_SMTP_PORT is '99999': give a port number from 1 to 65535"),
        ({"JAKREG_SMTP_HOST": "h", "JAKREG_SMTP_FROM": "nobody"},
         "JAKREG_SMTP_FROM is 'nobody': give an e-mail address"),
        ({"JAKREG_SMTP_HOST": "h", "JAKREG_SMTP_STARTTLS": "maybe"},
         "JAKREG_SMTP_STARTTLS is 'maybe': give yes or no"),
        ({"JAKREG_SMTP_HOST": "h", "JAKREG_SMTP_USER": "u"},
         "JAKREG_SMTP_USER and JAKREG_SMTP_PASSWORD go together: set both or neither"),
    ],
)  # fmt: skip
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(NotifySettingsError) as caught:
        SmtpSettings.from_env(env)
    assert str(caught.value) == message


def test_cli_bad_setting_sends_nothing(
    session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raise_query(session)
    monkeypatch.setenv("JAKREG_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JAKREG_SMTP_PORT", "smtp")
    result = CliRunner().invoke(app, ["notify", "send", "--db", db_url])
    assert result.exit_code == 1
    assert "JAKREG_SMTP_PORT is 'smtp'" in result.output
    session.expire_all()
    assert session.scalars(select(Digest)).all() == []


def test_cli_sends(session: Session, db_url: str, smtp: tuple[Recorder, int],
                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    recorder, port = smtp
    _raise_query(session)
    for k, v in {"JAKREG_SMTP_HOST": "127.0.0.1", "JAKREG_SMTP_PORT": str(port),
                 "JAKREG_SMTP_STARTTLS": "no"}.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(app, ["notify", "send", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) sent, 0 failed." in result.output
    assert len(recorder.messages) == 1


def test_enqueue_refuses_bad_events(session: Session) -> None:
    with pytest.raises(outbox.OutboxError, match="unknown notification kind 'x'"):
        outbox.enqueue(session, "x", summary="s")
    with pytest.raises(outbox.OutboxError, match="needs the user name"):
        outbox.enqueue(session, "query_answered", summary="s", centre=OWN)
    with pytest.raises(outbox.OutboxError, match="must not carry measured values"):
        outbox.enqueue(session, "signal_critical", summary="ALT 5.2 x ULN", centre=OWN)
    event = outbox.enqueue(session, "signal_critical", summary="a signal meets threshold A", centre=OWN,
                           patient_id=OWN_PATIENT)  # fmt: skip
    assert event.audience == "monitors"


def test_starttls_required_but_not_offered_fails_without_retry(
    session: Session, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp  # aiosmtpd without a TLS context offers no STARTTLS
    _raise_query(session)
    waits: list[float] = []
    tls = SmtpSettings(host="127.0.0.1", port=port, starttls=True, timeout=5)
    report = send(session, tls, now=NOW, sleep=waits.append)
    assert report.failed == 1
    assert waits == []
    assert "STARTTLS" in (session.scalars(select(Digest)).one().outcome or "")
    assert recorder.messages == []


def test_a_digest_given_up_on_does_not_swallow_new_events(
    session: Session, smtp: tuple[Recorder, int]
) -> None:
    from jakreg.notify.send import MAX_RUNS_FOR_A_DIGEST

    recorder, port = smtp
    _raise_query(session)
    for _ in range(MAX_RUNS_FOR_A_DIGEST):
        send(session, settings(free_port(), retries=1), now=NOW)
    assert send(session, settings(port), now=NOW).sent == 0  # the old digest is no longer tried
    _raise_query(session)
    assert send(session, settings(port), now=NOW).sent == 1
    assert b"1 update(s)" in recorder.messages[0][1]
