"""The report's visits-and-signals conduct part: counts from the visit engine, completeness as the monitor's,
signals by rule and state on records up to the cut, suppression, and the section in a written report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

from jakreg.cli.monitoring import build_prospective_demo
from jakreg.monitoring.signals import acknowledge_signal, list_signals
from jakreg.monitoring.visits import centre_summary, visit_statuses
from jakreg.report.build import write_report
from jakreg.report.conduct_visits import (
    SignalCount,
    VisitConduct,
    load_visit_conduct,
    visit_conduct_section,
)
from jakreg.store import db

TODAY = dt.date(2026, 11, 2)


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_section_as_data() -> None:
    data = VisitConduct(
        as_of=TODAY,
        protocol_stored=True,
        protocol_versions=("P 1 (2026-01-01)",),
        by_centre={
            ("A", "done"): 3,
            ("A", "partial"): 1,
            ("A", "overdue"): 2,
            ("A", "due"): 4,
            ("A", "upcoming"): 9,
            ("B", "not_applicable"): 1,
            ("B", "done"): 1,
        },
        by_visit={
            ("w2", "Week 2", "done"): 4,
            ("w2", "Week 2", "overdue"): 2,
            ("m6", "Month 6", "upcoming"): 9,
        },
        visit_order=("w2", "m6"),
        signals=(
            SignalCount("anc_low", "1", "src", "critical", "open", 2),
            SignalCount("anc_low", "1", "src", "critical", "closed", 1),
        ),
    )
    section = visit_conduct_section(data)
    t = {x.name: x for x in section.tables}
    by_centre = {r[0]: r for r in t["visit_adherence_by_centre"].rows}
    # expected = done + partial + due + overdue; completeness = done / (done + partial + overdue)
    assert by_centre["A"] == ("A", 10, 3, 1, 4, 2, 0, round(100 * 3 / 6, 1))
    assert by_centre["B"] == ("B", 1, 1, 0, 0, 0, 1, 100.0)
    # a visit whose window opened for no course is not listed
    assert t["visit_adherence_by_visit"].rows == (("w2", "Week 2", 6, 4, 0, 0, 2, 66.7),)
    assert t["signals_by_rule"].rows == (("anc_low", "1", "critical", 2, 0, 1, "src"),)
    assert [f.name for f in section.figures] == ["visit_adherence"]
    small = {x.name: x for x in visit_conduct_section(data, suppress_below=3).tables}
    row = {r[0]: r for r in small["visit_adherence_by_centre"].rows}["B"]
    assert row[1] == "<3"
    assert row[-1] is None


def test_no_protocol_no_visit_tables() -> None:
    data = VisitConduct(TODAY, False, ("default",), {}, {}, (), ())
    section = visit_conduct_section(data)
    assert [t.name for t in section.tables] == ["signals_by_rule"]
    assert "No protocol is stored" in section.paragraphs[0]
    assert section.figures == ()


def test_counts_match_the_monitor_and_the_cut(tmp_path: Path) -> None:
    path = build_prospective_demo(tmp_path / "p", patients=30, today=TODAY)
    url = f"sqlite:///{path}"
    data = load_visit_conduct(url, cutoff=TODAY)
    assert data.protocol_stored
    with db.open_session(url) as session:
        statuses = visit_statuses(session, as_of=TODAY)
        summary = {s.centre: s for s in centre_summary(session, as_of=TODAY, statuses=statuses)}
        signals = list_signals(session)
        acknowledge_signal(session, signals[0].id, user="monitor", comment="seen",
                           expected_version=signals[0].version)  # fmt: skip
        session.commit()
    assert Counter(data.by_centre) == Counter((s.centre, s.status) for s in statuses)
    section = visit_conduct_section(data)
    rows = {r[0]: r for r in section.tables[0].rows}
    for centre, s in summary.items():  # the report's completeness is the monitor's
        assert rows[centre][2] == s.done
        assert rows[centre][5] == s.overdue
        assert rows[centre][7] == s.completeness_pct
    # states are read when the report is made; records after the cut are not counted
    again = load_visit_conduct(url, cutoff=TODAY)
    assert sum(s.n for s in again.signals if s.state == "acknowledged") == 1
    assert sum(s.n for s in again.signals) == len(signals)
    early = load_visit_conduct(url, cutoff=dt.date(2000, 1, 1))
    assert early.signals == ()
    assert early.by_centre == {}


def test_written_report_has_visits_and_signals(tmp_path: Path) -> None:
    path = build_prospective_demo(tmp_path / "p", patients=20, today=TODAY)
    files = write_report(f"sqlite:///{path}", tmp_path / "report", literature=False, cutoff=TODAY)
    html = files.html.read_text(encoding="utf-8")
    assert "Study conduct: visits and safety signals" in html
    assert (tmp_path / "report" / "figures" / "visit_adherence.svg").exists()
    centres = _rows(tmp_path / "report" / "tables" / "visit_adherence_by_centre.csv")
    assert {r["centre"] for r in centres}
    assert all(int(r["expected"]) > 0 for r in centres)
    signals = _rows(tmp_path / "report" / "tables" / "signals_by_rule.csv")
    assert signals
    assert all(r["source"] for r in signals)


def test_parallel_conduct_reads_write_the_same_report(tmp_path: Path) -> None:
    path = build_prospective_demo(tmp_path / "p", patients=12, today=TODAY)
    url = f"sqlite:///{path}"
    one = write_report(url, tmp_path / "one", literature=False, cutoff=TODAY)
    two = write_report(url, tmp_path / "two", literature=False, cutoff=TODAY, parallel=True)
    assert [p.name for p in one.tables] == [p.name for p in two.tables]
    for a, b in zip(one.tables, two.tables, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert one.results.read_bytes() == two.results.read_bytes()
