"""End to end in chromium, on SQLite and PostgreSQL: a monitor runs the quality rules, raises a query on a
finding, the centre's editor corrects the value and answers, the monitor closes it, the e-mails arrive at a
real SMTP server on 127.0.0.1 and the audit trail holds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from jakreg.notify.send import send, set_preference
from jakreg.notify.settings import SmtpSettings
from jakreg.store import db
from jakreg.store.audit import verify_chain
from jakreg.store.tables import AuditEvent, LabResult
from jakreg.web import accounts
from tests.browser import ARGS, CHROMIUM, require_browser, sign_in
from tests.notify.test_send import Recorder, free_port
from tests.web.webdata import OWN_LOCAL_ID, OWN_PATIENT, PASSWORD, seed

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    seed(db_url, tmp_path / "study")
    with db.open_session(db_url) as s:
        s.execute(update(LabResult).where(LabResult.value == 130).values(value=-130))
        for name, email in (("eddie", "eddie@bcn.test"), ("mona", "mona@monitor.test")):
            set_preference(s, accounts.get_user(s, name), email=email, frequency="immediate")
        s.commit()
    port = free_port()
    env = {**os.environ, "JAKREG_DATABASE_URL": db_url, "JAKREG_DEV": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "jakreg.web.asgi:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.fail(
                    f"the server stopped: {proc.stdout.read().decode() if proc.stdout else ''}"
                )
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield base, db_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_monitor_editor_query_loop_in_chromium(server: tuple[str, str], tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    base, url = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            mona = browser.new_context().new_page()
            mona.goto(f"{base}/login")
            sign_in(mona, "mona", PASSWORD)
            mona.click("text=Data quality")
            mona.select_option("select[name=centre]", "BCN")
            mona.click("button:has-text('Show')")
            row = mona.locator("table.findings tr", has_text="lab_negative")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("-130")
            assert OWN_LOCAL_ID not in mona.content()
            row.locator("text=Raise query").click()
            expect(mona.locator("select[name=field]")).to_have_value("value")
            mona.fill("textarea[name=text]", "ALT below zero: please check the source document")
            mona.click("button:has-text('Raise query')")
            expect(mona.locator("#query-state")).to_have_text("open")
            query_url = mona.url

            eddie = browser.new_context().new_page()
            eddie.goto(f"{base}/login")
            sign_in(eddie, "eddie", PASSWORD)
            eddie.click("text=Queries")
            eddie.click(f"a[href='{query_url.removeprefix(base)}']")
            eddie.click("text=Correct the record")
            eddie.fill("#f-value", "130")
            eddie.click("button:has-text('Save')")
            eddie.goto(query_url)
            eddie.fill("#answer-form textarea", "Sign typo corrected to 130 U/L")
            eddie.click("#answer-form button")
            expect(eddie.locator("#query-state")).to_have_text("answered")

            mona.reload()
            mona.fill("#close-form textarea", "Thank you")
            mona.click("#close-form button")
            expect(mona.locator("#query-state")).to_have_text("closed")
            expect(mona.locator("ol.thread li")).to_have_count(3)
            mona.screenshot(path=str(tmp_path / "query-closed.png"), full_page=True)
        finally:
            browser.close()

    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with db.open_session(url) as s:
            report = send(s, SmtpSettings(host="127.0.0.1", port=port, starttls=False, timeout=5))
    finally:
        controller.stop()
    assert (report.sent, report.failed) == (2, 0)
    by_to = {to[0]: message_from_bytes(raw) for to, raw in recorder.messages}
    assert set(by_to) == {"eddie@bcn.test", "mona@monitor.test"}
    eddie_mail = by_to["eddie@bcn.test"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "raised" in eddie_mail
    assert "closed" in eddie_mail
    assert "answered" in by_to["mona@monitor.test"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    for _, raw in recorder.messages:
        message = message_from_bytes(raw)
        del message["Message-ID"]  # random digits: "130" may turn up in it by chance
        text = message.as_string()
        assert OWN_PATIENT in text
        for secret in (OWN_LOCAL_ID, "130", "typo", "source document"):
            assert secret not in text
    with db.open_session(url) as s:
        assert verify_chain(s) is None
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.actor.in_(("mona", "eddie"))))
        )
        assert {"query_raise", "query_answer", "query_close", "update"} <= set(actions)
        assert s.scalar(select(LabResult.value).where(LabResult.value == 130)) == 130
