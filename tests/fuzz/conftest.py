"""The fuzz tests run only in the dedicated fuzz run (`make fuzz`: pytest -m fuzz, or JAKREG_FUZZ=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _enabled(config: pytest.Config) -> bool:
    return "fuzz" in (config.getoption("markexpr") or "") or os.environ.get("JAKREG_FUZZ") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _enabled(config):
        return
    skip = pytest.mark.skip(reason="the fuzz run only: make fuzz (or JAKREG_FUZZ=1)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
