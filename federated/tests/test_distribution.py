"""The algorithm distribution stands alone and its image runs it the vantage6 way."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_never_imports_jakreg() -> None:
    pat = re.compile(r"^\s*(from|import)\s+jakreg(\.|\s|$)", re.M)
    hits = [
        p.name
        for p in (ROOT / "src" / "jakreg_federated").glob("*.py")
        if pat.search(p.read_text())
    ]
    assert hits == []


def test_dockerfile_installs_the_distribution_and_wraps_it() -> None:
    lines = [x.strip() for x in (ROOT / "Dockerfile").read_text().splitlines()]
    assert (
        lines[next(i for i, x in enumerate(lines) if x and not x.startswith("#"))]
        == "FROM python:3.11-slim"
    )
    assert "RUN pip install --no-cache-dir ./" in lines
    assert "ENV PKG_NAME=jakreg_federated" in lines
    assert lines[-1] == (
        'CMD ["python", "-c", "from vantage6.algorithm.tools.wrap import wrap_algorithm; '
        'wrap_algorithm()"]'
    )
    assert (ROOT / "src" / "jakreg_federated" / "__init__.py").exists()
