"""The report folder: every file written, the context as data, suppression, autoescape, PDF = HTML sections."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from jakreg.analysis import analyse
from jakreg.report.build import ReportFiles, run_demo, write_report, write_results_folder
from jakreg.report.context import build_context
from tests.analysis.example import database, example_copy, example_database


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return run_demo(tmp_path_factory.mktemp("demo"))


def _h2(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2>(.*?)</h2>", html)]


def test_demo_writes_every_file(demo: ReportFiles) -> None:
    for path in (demo.html, demo.pdf, demo.results):
        assert path.stat().st_size > 0
    names = {p.name for p in demo.figures}
    for fig in ("idda_paired", "swimmer", "km", "cif", "response_bars"):
        assert {f"{fig}.svg", f"{fig}.png"} <= names
    tables = {p.stem for p in demo.tables}
    assert {"cohort_continuous", "idda_pairs", "adverse_events", "stops", "comparison"} <= tables
    assert demo.database is not None
    assert demo.database.exists()


def test_html_is_self_contained(demo: ReportFiles) -> None:
    html = demo.html.read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert html.count('src="data:image/png;base64,') == 10
    assert "Synthetic example data." in html


def test_context_is_data(example_url: str) -> None:
    ctx = build_context(analyse(example_url))
    assert ctx.headings == [
        "Cohort", "Treatment", "IDDA before and under JAK inhibitor", "Responses",
        "Adverse events", "Exposure", "Exposure-adjusted incidence", "Dosing over time",
        "Time to response",
        "IDDA over time", "Sensitivity of the IDDA result", "Biomarkers",
        "Outcomes after stopping",
        "Discontinuation and drug survival", "Comparison with published cases",
        "Methods",
    ]  # fmt: skip
    assert ctx.banner is not None
    assert "SYNTHETIC" in ctx.banner
    head = dict(ctx.headline)
    assert head["patients / centres"] == "10 / 6"
    assert head["IDDA pairs used; p (before vs under)"].startswith("8 pairs; p = 0.0078 (exact")
    methods = next(s for s in ctx.sections if s.id == "methods")
    assert any("PROVISIONAL" in item for item in methods.items)
    assert any("SHA-256" in p for p in methods.paragraphs)


def test_suppression_of_small_counts(example_url: str) -> None:
    ctx = build_context(analyse(example_url), suppress_below=5)
    tables = {t.name: t for t in ctx.tables}
    assert "idda_pairs" not in tables
    assert "courses" not in tables
    stops = tables["stops"].rows
    assert stops == (("adverse_event", "<5"), ("hsct", "<5"), ("no_response", "<5"))
    assert dict(ctx.headline)["infection as likely adverse event"] == "<5/10"
    assert {f.name for f in ctx.figures} == {"km", "cif", "response_bars", "time_to_response"}
    ttr = next(s for s in ctx.sections if s.id == "time_to_response")
    assert ttr.paragraphs[1].startswith(
        "9 of 10 patients had a first CR or PR recorded; <5 stopped"
    )
    rates = next(s for s in ctx.sections if s.id == "exposure_adjusted_incidence")
    assert "all adverse events: <5 events in" in rates.paragraphs[1]


def test_suppressed_csv(demo: ReportFiles, tmp_path: Path) -> None:
    files = write_report(f"sqlite:///{demo.database}", tmp_path / "shared", cutoff=None,
                         centre=None, literature=True, suppress_below=3)  # fmt: skip
    rows = list(csv.reader(io.StringIO((files.out / "tables" / "stops.csv").read_text())))
    assert rows == [["reason", "n_patients"], ["adverse_event", "<3"], ["hsct", "<3"],
                    ["no_response", "<3"]]  # fmt: skip


def test_text_typed_by_a_centre_is_escaped(tmp_path: Path) -> None:
    def inject(sheets: dict[str, list[dict[str, str]]]) -> None:
        sheets["courses"][0]["indication"] = "<script>alert('x')</script> CMC"

    url = database(tmp_path, example_copy(tmp_path / "study", inject))
    files = write_results_folder(analyse(url), tmp_path / "out")
    html = files.html.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; CMC" in html


def test_pdf_has_the_html_sections(demo: ReportFiles) -> None:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() or "" for page in PdfReader(demo.pdf).pages)
    flat = " ".join(text.split())
    headings = _h2(demo.html.read_text(encoding="utf-8"))
    assert headings[0] == "Summary"
    assert "Methods" in headings
    for heading in headings:
        assert heading in flat, heading


def test_degenerate_cohort_still_reports(tmp_path: Path) -> None:
    files = write_results_folder(analyse(database(tmp_path, None)), tmp_path / "out")
    html = files.html.read_text(encoding="utf-8")
    assert "not computable" in html
    assert files.pdf.stat().st_size > 0


def test_centre_report(tmp_path: Path) -> None:
    url = example_database(tmp_path / "db")
    files = write_report(url, tmp_path / "out", cutoff=None, centre="SYN-A", literature=False,
                         suppress_below=None)  # fmt: skip
    results = json.loads(files.results.read_text(encoding="utf-8"))
    assert results["cohort"]["n_patients"] == 2
    assert results["data"]["selection"]["centre"] == "SYN-A"
    assert results["literature"]["included"] is False
