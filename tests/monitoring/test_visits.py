"""Visit statuses from the records in a real database (SQLite and PostgreSQL), against hand-computed windows."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

import jakreg.monitoring
from jakreg.cli import app
from jakreg.monitoring.types import VisitStatus
from jakreg.monitoring.visits import UnknownCentreError, centre_summary, visit_statuses
from jakreg.protocol.schema import parse_protocol
from jakreg.protocol.store import load_protocol
from jakreg.store import db
from jakreg.study import import_path
from tests.monitoring.protocols import V1, V2
from tests.studydata import BASE, write_study

D = dt.date


def _lab(date: str, analyte: str, value: float, unit: str) -> dict[str, object]:
    return {"patient_id": "BCN-01", "date": date, "analyte": analyte, "value": value, "unit": unit}


def _sheets() -> dict[str, list[dict[str, object]]]:
    sheets = {k: [dict(r) for r in v] for k, v in BASE.items()}
    # course 1 starts 2021-03-01; the full blood count falls on the last day of the week-2 window
    sheets["labs"] += [
        _lab("2021-03-18", "neutrophils", 2.5, "10^9/L"),
        _lab("2021-03-18", "lymphocytes", 1.5, "10^9/L"),
        _lab("2021-03-18", "haemoglobin", 120, "g/L"),
        _lab("2021-03-18", "platelets", 250, "10^9/L"),
        # unscheduled: counts for the month-1 window (26 March - 1 April) with the ALT already there
        _lab("2021-04-01", "ast", 35, "U/L"),
    ]
    return sheets


@pytest.fixture
def study_url(db_url: str, tmp_path: Path) -> str:
    import_path(write_study(tmp_path / "study", _sheets()), db_url, actor="setup")
    with db.open_session(db_url) as session:
        for text in (V1, V2):
            load_protocol(session, parse_protocol(text), text, actor="setup")
        session.commit()
    return db_url


def _by_visit(statuses: list[VisitStatus]) -> dict[str, VisitStatus]:
    return {s.visit: s for s in statuses}


def test_statuses_with_amendment(study_url: str) -> None:
    with db.open_session(study_url) as session:
        got = _by_visit(visit_statuses(session, as_of=D(2021, 6, 1)))
    # baseline window 30 Jan - 1 Mar: the IDDA of 15 Feb is there, no blood count
    assert got["base"].status == "partial"
    assert got["base"].missing == ("cbc",)
    assert got["base"].protocol_version == "test-protocol 1 (effective 2000-01-01)"
    assert (got["w2"].window_start, got["w2"].window_end) == (D(2021, 3, 12), D(2021, 3, 18))
    assert got["w2"].status == "done"
    # month 1 is planned 29 March, after the amendment of 20 March: it needs ALT and AST too
    m1 = got["m1"]
    assert m1.protocol_version == "test-protocol 2 (effective 2021-03-20)"
    assert (m1.status, m1.missing) == ("partial", ("idda",))
    # month 3 (29 May, window 24 May - 3 Jun) is open with nothing yet; repeats from day 60 (30 Apr)
    assert got["m3"].status == "due"
    assert got["rep_1"].planned == D(2021, 4, 30)
    assert got["rep_1"].status == "overdue"
    assert got["rep_2"].planned == D(2021, 5, 30)
    assert got["rep_2"].status == "due"
    assert got["rep_3"].status == "upcoming"


def test_as_of_in_the_past(study_url: str) -> None:
    with db.open_session(study_url) as session:
        on_edge = _by_visit(visit_statuses(session, as_of=D(2021, 3, 18)))
        before = _by_visit(visit_statuses(session, as_of=D(2021, 3, 17)))
        earlier = _by_visit(visit_statuses(session, as_of=D(2021, 3, 5)))
    assert on_edge["w2"].status == "done"
    assert before["w2"].status == "due"  # the blood count of 18 March is not yet known
    assert earlier["w2"].status == "upcoming"


def test_stop_death_and_summary(db_url: str, tmp_path: Path) -> None:
    sheets = _sheets()
    sheets["courses"][0]["stop_date"] = "2021-04-10"
    sheets["courses"][0]["stop_reason"] = "remission"
    import_path(write_study(tmp_path / "study", sheets), db_url, actor="setup")
    with db.open_session(db_url) as session:
        load_protocol(session, parse_protocol(V1), V1, actor="setup")
        session.commit()
        got = _by_visit(visit_statuses(session, as_of=D(2021, 6, 1)))
        summary = centre_summary(session, as_of=D(2021, 6, 1))
        with pytest.raises(UnknownCentreError):
            visit_statuses(session, as_of=D(2021, 6, 1), centres=["XXX"])
    assert got["m3"].status == "not_applicable"
    assert got["m3"].reason == "course stopped on 2021-04-10"
    # end of treatment: 10 - 20 April, no assessment recorded
    assert got["eot"].status == "overdue"
    assert got["eot"].window_end == D(2021, 4, 20)
    assert not any(k.startswith("rep_") for k in got)
    (bcn,) = summary
    # done: w2; partial: base (idda only), m1 (v1 needs idda only: missing -> overdue); overdue: m1, eot
    counted = [s.status for s in got.values() if s.status in ("done", "partial", "overdue")]
    assert bcn.done == counted.count("done") == 1
    assert bcn.partial == counted.count("partial") == 1
    assert bcn.overdue == counted.count("overdue") == 2
    assert bcn.completeness_pct == pytest.approx(100 * 1 / 4, abs=0.05)
    assert bcn.patients_on_drug == 0


def test_lost_to_follow_up(db_url: str, tmp_path: Path) -> None:
    sheets = _sheets()
    sheets["patients"][0]["last_follow_up"] = "2021-04-15"
    sheets["patients"][0]["lost_to_follow_up"] = "yes"
    import_path(write_study(tmp_path / "study", sheets), db_url, actor="setup")
    with db.open_session(db_url) as session:
        load_protocol(session, parse_protocol(V1), V1, actor="setup")
        session.commit()
        got = _by_visit(visit_statuses(session, as_of=D(2021, 6, 1)))
        before = _by_visit(visit_statuses(session, as_of=D(2021, 4, 14)))
    # month 1 (26 March - 1 April) was due while the patient was followed: its IDDA is missing
    assert got["m1"].status == "overdue"
    assert got["m3"].status == "not_applicable"
    assert got["m3"].reason == "lost to follow-up on 2021-04-15"
    assert not any(k.startswith("rep_") for k in got)
    # as of a date before the last follow-up nothing is known about the loss yet
    assert before["m3"].status == "upcoming"
    assert before["rep_1"].status == "upcoming"


def test_cli_monitor_json_and_exit_code(study_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    args = ["monitor", "--db", study_url, "--as-of", "2021-06-01", "--format", "json"]
    fake = types.ModuleType("jakreg.monitoring.signals")
    fake.open_critical_count = lambda session, *, centres=None: 0  # type: ignore[attr-defined]
    fake.list_signals = lambda session, *, centres=None, states=None: []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jakreg.monitoring.signals", fake)
    monkeypatch.setattr(jakreg.monitoring, "signals", fake, raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["protocols"][-1] == "test-protocol 2 (effective 2021-03-20)"
    assert {v["visit"]: v["status"] for v in data["visits"]}["rep_1"] == "overdue"
    assert {v["status"] for v in data["visits"]} <= {"due", "partial", "overdue"}
    assert data["centres"][0]["centre"] == "BCN"
    fake.open_critical_count = lambda session, *, centres=None: 2  # type: ignore[attr-defined]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert json.loads(result.output)["open_critical_signals"] == 2
    csv_out = runner.invoke(app, [*args[:-1], "csv", "--all"])
    assert csv_out.output.splitlines()[0].startswith("pseudonym,centre,course_id,drug,visit")
    bad = runner.invoke(app, ["monitor", "--db", study_url, "--centre", "XXX"])
    assert bad.exit_code == 1
    assert "no centre 'XXX'" in bad.output
