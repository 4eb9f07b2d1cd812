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
