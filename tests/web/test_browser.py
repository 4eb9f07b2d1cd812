"""A real browser (Debian's chromium through playwright) against a real server on a free local port:
log in, add a patient, see the validation error next to the field, fix it, save, take a screenshot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jakreg.study import init_database
from tests.browser import ARGS, CHROMIUM, require_browser, sign_in
from tests.web.webdata import PASSWORD, seed

SCREENSHOTS = (
    Path(os.environ.get("JAKREG_SCREENSHOTS", "")) if os.environ.get("JAKREG_SCREENSHOTS") else None
)

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    init_database(url)
    seed(url, tmp_path / "study")
    port = _free_port()
    env = {**os.environ, "JAKREG_DATABASE_URL": url, "JAKREG_DEV": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "jakreg.web.asgi:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"the server stopped: {out}")
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 30 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_add_a_patient_in_a_real_browser(server: str, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    shots = SCREENSHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{server}/patients")
            expect(page).to_have_url(f"{server}/login?next=/patients")
            sign_in(page, "eddie", PASSWORD)
            expect(page.locator("h1")).to_have_text("Patients")

            page.click("text=New patient")
            page.fill("#f-patient_id", "BCN-07")
            page.select_option("#f-sex", "female")
            page.fill("#f-birth_year_month", "2014-03-17")  # a full birth date: refused
            page.fill("#f-local_id", "H-4711")
            page.click("button:has-text('Save')")
            error = page.locator("#error-birth_year_month")
            expect(error).to_have_text(
                "a full birth date is not stored in jakreg (value 2014-03-17). "
                "Fix: write the year and month only, as YYYY-MM (e.g. 2011-01)"
            )
            # the error sits inside the field's own box, right under its input
            field = page.locator(".field.has-error")
            expect(field).to_have_count(1)
            expect(field.locator("#f-birth_year_month")).to_have_value("2014-03-17")
            page.screenshot(path=str(shots / "patient-form-error.png"), full_page=True)

            page.fill("#f-birth_year_month", "2014-03")
            page.click("button:has-text('Save')")
            expect(page.locator("h1")).to_contain_text("Patient BCN-07")
            expect(page.locator("dl.facts")).to_contain_text("2014-03")
            page.screenshot(path=str(shots / "patient-saved.png"), full_page=True)

            page.goto(f"{server}/patients/BCN-01")
            expect(page.locator("ol.timeline")).to_contain_text("Course 1 started: ruxolitinib")
            page.screenshot(path=str(shots / "patient-timeline.png"), full_page=True)
        finally:
            browser.close()
    assert (shots / "patient-form-error.png").stat().st_size > 5000


def test_upload_form_sends_its_csrf_token_before_the_file(server: str, tmp_path: Path) -> None:
    """The server reads an upload only as far as its CSRF token, which must precede the file: a real
    browser submitting the real form does send it first, so the upload goes through."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    labs = tmp_path / "labs.csv"
    labs.write_text(
        "patient_id,date,analyte,value,unit,uln\nBCN-01,2022-01-05,alt,45,U/L,40\n",
        encoding="utf-8",
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server}/login")
            sign_in(page, "eddie", PASSWORD)
            expect(page.locator("h1")).to_contain_text("Dashboard")
            page.goto(f"{server}/upload")
            page.set_input_files("#file", str(labs))
            page.click("button:has-text('Check and import')")
            expect(page.locator("main")).to_contain_text("1 created, 0 updated")
        finally:
            browser.close()
