"""The prospective-shaped synthetic example: valid, reproducible, and showing every kind of status."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from jakreg.cli.monitoring import build_prospective_demo
from jakreg.monitoring.visits import visit_statuses
from jakreg.store import db
from jakreg.synth.visits import prospective_sheets

TODAY = dt.date(2026, 12, 1)


def test_same_seed_same_study() -> None:
    a = prospective_sheets(patients=10, today=TODAY, seed=3)
    assert a == prospective_sheets(patients=10, today=TODAY, seed=3)
    assert a != prospective_sheets(patients=10, today=TODAY, seed=4)


def test_demo_database_shows_due_and_overdue(tmp_path: Path) -> None:
    path = build_prospective_demo(tmp_path / "prospective", patients=40, today=TODAY)
    with db.open_session(f"sqlite:///{path}") as session:
        statuses = visit_statuses(session, as_of=TODAY)
    counts = Counter(s.status for s in statuses)
    assert {"done", "partial", "overdue", "due", "upcoming"} <= set(counts)
    assert {s.centre for s in statuses} == {"PRA", "PRB"}


def test_demo_database_shows_open_signals_that_match_its_labs(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from jakreg.cli import app
    from jakreg.monitoring.signals import list_signals
    from jakreg.rules.signals import default_rules
    from jakreg.store.tables import LabResult

    path = build_prospective_demo(tmp_path / "prospective", patients=40, today=TODAY)
    url = f"sqlite:///{path}"
    with db.open_session(url) as session:
        signals = list_signals(session, states=("open",))
        anc = {r.id: r for r in session.query(LabResult).filter(LabResult.analyte == "neutrophils")}
    low_anc = [s for s in signals if s.rule_id == "anc_low"]
    assert low_anc, "the example holds ANC values below the threshold"
    (rule,) = [r for r in default_rules().rules if r.id == "anc_low"]
    for s in low_anc:  # each signal names a record whose value is below the rule's threshold
        assert s.record_table == "lab_result"
        assert anc[s.record_id].value < 1.0
        assert "meets threshold" in s.text
        assert rule.version == s.rule_version
    below = {i for i, r in anc.items() if r.value < 1.0 and r.unit == "10^9/L"}
    assert {s.record_id for s in low_anc} == below
    result = CliRunner().invoke(app, ["monitor", "--db", url, "--as-of", TODAY.isoformat(),
                                      "--format", "json"])  # fmt: skip
    data = json.loads(result.output)
    critical = sum(1 for s in signals if s.severity == "critical")
    assert result.exit_code == (3 if critical else 0)
    assert data["open_critical_signals"] == critical
    assert len(data["open_signals"]) == len(signals)


def test_monitor_notify_queues_each_overdue_visit_once(tmp_path: Path) -> None:
    import json

    from sqlalchemy import select
    from typer.testing import CliRunner

    from jakreg.cli import app
    from jakreg.store.workflow import OutboxEvent

    path = build_prospective_demo(tmp_path / "prospective", patients=40, today=TODAY)
    url = f"sqlite:///{path}"
    with db.open_session(url) as session:
        overdue = [s for s in visit_statuses(session, as_of=TODAY) if s.status == "overdue"]
    assert overdue
    args = ["monitor", "--db", url, "--as-of", TODAY.isoformat(), "--format", "json", "--notify"]
    first = json.loads(CliRunner().invoke(app, args).output)
    again = json.loads(CliRunner().invoke(app, args).output)
    assert (first["notifications_queued"], again["notifications_queued"]) == (len(overdue), 0)
    with db.open_session(url) as session:
        events = list(
            session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "visit_overdue"))
        )
    assert sorted(e.patient_id or "" for e in events) == sorted(s.pseudonym for s in overdue)
    assert {e.audience for e in events} == {"centre"}
    assert all(e.centre == e.patient_id[:3] for e in events if e.patient_id)  # the patient's centre


def test_one_patient_reads_the_same_visits(tmp_path: Path) -> None:
    from sqlalchemy import select

    from jakreg.store.tables import Patient

    path = build_prospective_demo(tmp_path / "prospective", patients=12, today=TODAY)
    with db.open_session(f"sqlite:///{path}") as session:
        everyone = visit_statuses(session, as_of=TODAY)
        pks = dict(session.execute(select(Patient.id, Patient.patient_id)).all())
        per_patient = {
            pid: visit_statuses(session, as_of=TODAY, patient_pks=[pk]) for pk, pid in pks.items()
        }
        nobody = visit_statuses(session, as_of=TODAY, patient_pks=[max(pks) + 1])
    assert len({s.pseudonym for s in everyone}) >= 10
    for pid, got in per_patient.items():
        assert got == [s for s in everyone if s.pseudonym == pid]
    assert nobody == []
