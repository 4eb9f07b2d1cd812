"""The patient page's charts in a real chromium: drawn inline as SVG for the own centre's patient, and another
centre's patient page is 404 for a centre user (no chart, no data)."""

from __future__ import annotations

import pytest

from tests.browser import ARGS, CHROMIUM, require_browser, sign_in
from tests.web.test_browser import server  # noqa: F401 (the fixture)
from tests.web.webdata import OTHER_MARKER, OTHER_PATIENT, OWN_PATIENT, PASSWORD

pytestmark = pytest.mark.browser


def test_patient_page_shows_charts_and_hides_other_centre(server: str) -> None:  # noqa: F811
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"{server}/login")
            sign_in(page, "eddie", PASSWORD)
            expect(page.locator("h1")).to_contain_text("Dashboard")

            page.goto(f"{server}/patients/{OWN_PATIENT}")
            charts = page.locator("#charts svg.chart")
            expect(charts.first).to_be_visible()
            assert charts.count() >= 2
            expect(page.locator("#chart-courses title").first).to_contain_text(
                "Treatment courses and adverse events"
            )
            expect(page.locator("#charts")).to_contain_text(
                "rules/data/safety_signals.yaml, provisional"
            )
            # the seeded patient has two ALT results with a ULN: plotted as × ULN against the 3× line
            expect(page.locator("#chart-alt circle.point")).to_have_count(2)
            expect(page.locator("#chart-alt line.threshold")).to_have_count(1)
            box = charts.first.bounding_box()
            assert box is not None
            assert box["width"] > 100  # really laid out, not an empty element

            response = page.goto(f"{server}/patients/{OTHER_PATIENT}")
            assert response is not None
            assert response.status == 404
            assert page.locator("#charts").count() == 0
            assert OTHER_MARKER not in page.content()
        finally:
            browser.close()
