"""Fixtures: the bundled example imported once per module into a fresh SQLite database."""

from __future__ import annotations

import pytest

from tests.analysis.example import example_database


@pytest.fixture(scope="module")
def example_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return example_database(tmp_path_factory.mktemp("example"))
