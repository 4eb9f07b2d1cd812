"""The dashboard in a real chromium: log in, open the dashboard, follow a number to the patients it counts,
open one, acknowledge its safety signal with a comment, and see the dashboard follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from jakreg.monitoring.signals import derive_signals
from jakreg.store import db
from tests.browser import ARGS, CHROMIUM, require_browser, sign_in
from tests.web.test_browser import server  # noqa: F401 (the fixture)
from tests.web.webdata import OTHER, OTHER_PATIENT, OWN, OWN_PATIENT, PASSWORD

pytestmark = pytest.mark.browser


def test_dashboard_to_patient_to_acknowledged_signal(server: str, tmp_path: Path) -> None:  # noqa: F811
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    # the server's database (the fixture's file): derive the signals as `jakreg signals derive` would
    with db.open_session(f"sqlite:///{tmp_path / 'browser.db'}") as session:
        derive_signals(session, user="setup")
        session.commit()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{server}/")
            expect(page).to_have_url(f"{server}/login?next=/")
            sign_in(page, "eddie", PASSWORD)
            expect(page.locator("h1")).to_contain_text("Dashboard")

            rows = page.locator("#dashboard tbody tr")
            expect(rows).to_have_count(1)  # Barcelona's editor: Barcelona only
            row = page.locator(f'#dashboard tr[data-centre="{OWN}"]')
            expect(row.locator("td.signals")).to_have_text("1")
            assert OTHER not in page.locator("#dashboard").inner_text()

            row.locator("td.signals a").click()
            concerned = page.locator("#concerned")
            expect(concerned).to_contain_text("open safety signals")
            expect(concerned.locator("li a")).to_have_count(1)
            assert OTHER_PATIENT not in concerned.inner_text()
            concerned.locator("li a", has_text=OWN_PATIENT).click()

            expect(page.locator("h1")).to_contain_text(f"Patient {OWN_PATIENT}")
            expect(page.locator("#visits table.visits tbody tr").first).to_be_visible()
            signal = page.locator("#signals tbody tr").first
            expect(signal.locator("td.state")).to_have_text("open")
            form = signal.locator("form.acknowledge")
            form.locator("input[name=comment]").fill("ALT repeated, hepatology informed")
            form.locator("button[type=submit]").click()

            expect(page.locator("#signals .notice")).to_contain_text("acknowledged.")
            signal = page.locator("#signals tbody tr").first
            expect(signal.locator("td.state")).to_have_text("acknowledged")
            expect(signal).to_contain_text("acknowledged by eddie")
            expect(signal).to_contain_text("ALT repeated, hepatology informed")

            page.locator("header nav a", has_text="Dashboard").click()
            expect(page.locator(f'#dashboard tr[data-centre="{OWN}"] td.signals')).to_have_text("0")
        finally:
            browser.close()
