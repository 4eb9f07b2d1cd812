"""Debian's chromium for browser tests: where it is, how to launch it, and skip-or-fail when it is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# As root and on a closed network: no sandbox, no GPU, no background connections.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def require_browser() -> None:
    """Skip with the reason when chromium is missing; fail instead in CI (JAKREG_REQUIRE_BROWSER=1)."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)"
    if os.environ.get("JAKREG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"JAKREG_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def sign_in(page: Any, username: str, password: str) -> None:
    """Fill in and send the login form the page shows (the caller checks where it lands)."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
