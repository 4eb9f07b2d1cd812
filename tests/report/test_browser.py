"""The HTML report renders in headless Chromium with every figure loaded (Debian's /usr/bin/chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jakreg.report.build import ReportFiles, run_demo
from tests.browser import ARGS, CHROMIUM, require_browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return run_demo(tmp_path_factory.mktemp("demo"))


@pytest.mark.browser
def test_report_renders_with_figures(demo: ReportFiles, tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(demo.html.as_uri())
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
            )
            headings = page.evaluate(
                "Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
            )
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    assert len(images) == 10  # 5 study figures + 5 of the open-question sections
    assert all(complete and width > 0 for _, complete, width in images), images
    assert headings[0] == "Summary"
    assert headings[-1] == "Methods"
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
