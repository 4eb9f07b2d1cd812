"""The report's study-conduct part: built as data from findings and queries; in the written report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np

from jakreg.quality.catalogue import RULES
from jakreg.report.build import write_report
from jakreg.report.quality_part import ConductData, QueryFacts, conduct_section, days_to_answer

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _q(centre: str, state: str, hours: float | None) -> QueryFacts:
    return QueryFacts(centre, state, T0, None if hours is None else T0 + dt.timedelta(hours=hours))


def test_conduct_section_as_data() -> None:
    queries = (_q("A", "open", None), _q("A", "answered", 36), _q("A", "closed", 12), _q("A", "closed", 60),
               _q("A", "reopened", 24), _q("B", "open", None))  # fmt: skip
    data = ConductData(
        {("A", "lab_negative"): 2, ("B", "weight_change"): 1, ("A", "weight_change"): 3}, queries
    )
    section = conduct_section(data)
    tables = {t.name: t for t in section.tables}
    rows = {r[0]: r for r in tables["queries_by_centre"].rows}
    # the median against numpy's, over the same answered queries of A (hours / 24)
    expected = round(float(np.median([36 / 24, 12 / 24, 60 / 24, 24 / 24])), 1)
    assert rows["A"] == ("A", 2, 1, 2, expected)
    assert rows["B"] == ("B", 1, 0, 0, None)
    findings = {(r[0], r[1]): r[2] for r in tables["quality_findings"].rows}
    assert findings == {
        ("A", "lab_negative"): 2,
        ("A", "weight_change"): 3,
        ("B", "weight_change"): 1,
    }
    by_rule = {r[0]: r[5] for r in tables["quality_rules"].rows}
    assert by_rule["weight_change"] == 4
    assert len(by_rule) == len(RULES)
    assert any("CDC 2000" in str(r[3]) for r in tables["quality_rules"].rows)
    assert days_to_answer(_q("A", "open", None)) is None


def test_small_counts_are_suppressed() -> None:
    data = ConductData({("A", "lab_negative"): 2}, (_q("A", "open", None),))
    tables = {t.name: t for t in conduct_section(data, suppress_below=5).tables}
    assert tables["quality_findings"].rows == (("A", "lab_negative", "<5"),)
    assert tables["queries_by_centre"].rows[0][1] == "<5"


def test_written_report_has_the_conduct_section(example_url: str, tmp_path: Path) -> None:
    files = write_report(example_url, tmp_path / "report", literature=False)
    html = files.html.read_text(encoding="utf-8")
    assert "Study conduct: data quality and queries" in html
    rules = (tmp_path / "report" / "tables" / "quality_rules.csv").read_text(encoding="utf-8")
    assert [r["rule"] for r in csv.DictReader(io.StringIO(rules))] == [r.id for r in RULES]
