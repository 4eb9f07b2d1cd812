"""results.json is a documented contract: the demo's file validates against the packaged schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jakreg.analysis import SCHEMA, analyse, results_json
from jakreg.analysis.schema import check, results_schema


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    from jakreg.report.build import run_demo

    files = run_demo(tmp_path_factory.mktemp("demo"))
    return json.loads(files.results.read_text(encoding="utf-8"))


def test_demo_results_validate(demo_results: dict) -> None:  # type: ignore[type-arg]
    assert demo_results["schema"] == SCHEMA == results_schema()["properties"]["schema"]["const"]
    assert check(demo_results) == []


def test_checker_reports_a_missing_key(demo_results: dict) -> None:  # type: ignore[type-arg]
    broken = json.loads(json.dumps(demo_results))
    del broken["idda"]["test"]["p_value"]
    broken["cohort"]["n_patients"] = "ten"
    assert check(broken) == [
        "$.cohort.n_patients: expected integer, got str",
        "$.idda.test: missing key 'p_value'",
    ]


def test_results_json_is_strict_json(example_url: str, tmp_path: Path) -> None:
    text = results_json(analyse(example_url))
    assert "NaN" not in text
    assert "Infinity" not in text
    json.loads(text)


def test_docs_list_every_top_level_key() -> None:
    docs = Path(__file__).parents[2] / "docs" / "results.md"
    text = docs.read_text(encoding="utf-8")
    for key in results_schema()["required"]:
        assert f"`{key}`" in text, key
