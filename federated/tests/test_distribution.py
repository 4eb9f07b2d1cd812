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
    lines = _dockerfile()
    assert "COPY pyproject.toml ./" in lines
    assert "COPY src ./src" in lines
    assert "ENV PKG_NAME=jakreg_federated" in lines
    assert lines[-1] == (
        'CMD ["python", "-c", "from vantage6.algorithm.tools.wrap import wrap_algorithm; '
        'wrap_algorithm()"]'
    )
    assert (ROOT / "src" / "jakreg_federated" / "__init__.py").exists()


def _dockerfile() -> list[str]:
    return [x.strip() for x in (ROOT / "Dockerfile").read_text().splitlines()]


def _instructions() -> list[str]:
    return [x for x in _dockerfile() if x and not x.startswith("#")]


def test_base_image_is_pinned_to_a_release_never_latest() -> None:
    froms = [x for x in _instructions() if x.upper().startswith("FROM ")]
    assert froms == ["FROM python:3.11.11-slim-bookworm"]
    image = froms[0].split()[1]
    name, _, tag = image.partition(":")
    assert name == "python"
    assert re.fullmatch(r"\d+\.\d+\.\d+-slim-[a-z]+", tag), tag
    assert not any("latest" in x.lower() for x in _instructions())


def test_image_runs_as_a_non_root_user() -> None:
    users = [x.split(maxsplit=1)[1] for x in _instructions() if x.upper().startswith("USER ")]
    assert users, "no USER instruction: the algorithm would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    runs = _instructions()
    assert runs.index(f"USER {users[-1]}") > max(
        i for i, x in enumerate(runs) if x.startswith("RUN ")
    ), "USER must come after the last RUN (installs need root, the algorithm does not)"
    assert any("useradd" in x and f"--uid {users[-1]}" in x for x in runs)


def _makefile_install() -> str:
    text = (ROOT.parent / "Makefile").read_text()
    m = re.search(r"^FED_INSTALL := (.+)$", text, re.M)
    assert m, "Makefile: FED_INSTALL not found"
    # the federated venv's first install is exactly FED_INSTALL, run from federated/
    assert "\tcd federated && .venv/bin/$(FED_INSTALL)\n" in text
    return m.group(1).strip()


def test_image_install_step_is_the_one_the_tests_use() -> None:
    runs = [x for x in _instructions() if "pip install" in x]
    assert runs == [f"RUN {_makefile_install()}"]
