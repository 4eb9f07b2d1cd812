"""Debian's chromium for browser tests: where it is, how to launch it, and skip-or-fail when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

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
