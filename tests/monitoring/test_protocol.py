"""Protocol files: validation with located errors, the shipped default, the hand-computed schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from jakreg.cli import app
from jakreg.protocol.schedule import expected_visits
from jakreg.protocol.schema import ProtocolFileError, default_protocol, parse_protocol
from jakreg.protocol.store import ProtocolVersion, active_protocols, version_for
from jakreg.store import db
from jakreg.store.tables import AuditEvent
from tests.monitoring.protocols import V1, V2

D = dt.date


def test_default_protocol_cites_sources_and_is_provisional() -> None:
    protocol, _ = default_protocol()
    assert [v.id for v in protocol.visits][:8] == [
        "screening", "week_2", "week_4", "week_8", "week_12", "month_6", "month_9", "month_12"
    ]  # fmt: skip
    screening = protocol.visits[0]
    assert (screening.day, screening.before, screening.after) == (0, 30, 0)
    assert all(item.provisional and item.source for item in protocol.items.values())
    assert "clinical_rules.md §4" in protocol.items["cbc"].source


def test_errors_are_located_with_line_value_and_fix() -> None:
    bad = V1.replace("day: 14,", "day: two,").replace("2000-01-01", "2000-13-01")
    with pytest.raises(ProtocolFileError) as info:
        parse_protocol(bad, "bad.yaml")
    problems = {p.field: p for p in info.value.problems}
    assert problems["effective_date"].line == 3
    assert problems["effective_date"].value == "2000-13-01"
    assert "YYYY-MM-DD" in problems["effective_date"].message
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "day: two" in t)
    assert problems["visits.1.day"].line == line
    assert "bad.yaml:" in str(info.value)


def test_unknown_item_and_bad_yaml() -> None:
    with pytest.raises(ProtocolFileError, match=r"unknown item.*lipids"):
        parse_protocol(V1.replace("items: [cbc]}", "items: [lipids]}"), "x.yaml")
    with pytest.raises(ProtocolFileError, match=r"x\.yaml:.*not valid YAML"):
        parse_protocol("name: [unclosed\n", "x.yaml")


def test_schedule_hand_computed() -> None:
    protocol = parse_protocol(V1)
    got = {v.visit: v for v in expected_visits(protocol, start=D(2024, 1, 1), stop=None,
                                               as_of=D(2024, 3, 15))}  # fmt: skip
    # 2024 is a leap year: day 60 after 1 January is 1 March
    assert (got["base"].window_start, got["base"].window_end) == (D(2023, 12, 2), D(2024, 1, 1))
    assert (got["w2"].planned, got["w2"].window_start, got["w2"].window_end) == (
        D(2024, 1, 15), D(2024, 1, 12), D(2024, 1, 18))  # fmt: skip
    # repeats every 30 days from day 60, listed up to as-of + 90 days (13 June)
    reps = sorted(v.planned for k, v in got.items() if k.startswith("rep_"))
    assert reps == [D(2024, 3, 1), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 30)]
    assert "eot" not in got
    assert all(v.applicable for v in got.values())


def test_schedule_after_stop_and_death() -> None:
    protocol = parse_protocol(V1)
    stopped = {v.visit: v for v in expected_visits(protocol, start=D(2024, 1, 1),
                                                   stop=D(2024, 2, 1), as_of=D(2024, 6, 1))}  # fmt: skip
    assert not any(k.startswith("rep_") for k in stopped)
    assert stopped["w2"].applicable
    assert not stopped["m3"].applicable
    assert stopped["m3"].reason == "course stopped on 2024-02-01"
    assert (stopped["eot"].window_start, stopped["eot"].window_end) == (
        D(2024, 2, 1),
        D(2024, 2, 11),
    )
    dead = {v.visit: v for v in expected_visits(protocol, start=D(2024, 1, 1), stop=None,
                                                as_of=D(2024, 6, 1), death=D(2024, 1, 10))}  # fmt: skip
    assert dead["base"].applicable
    assert not dead["w2"].applicable
    assert dead["w2"].reason == "death on 2024-01-10"


def test_load_amend_and_pick_version(sqlite_url: str) -> None:
    with db.open_session(sqlite_url) as session:
        assert active_protocols(session)[0].shipped_default
    runner = CliRunner()
    folder = Path(sqlite_url.removeprefix("sqlite:///")).parent
    (folder / "v1.yaml").write_text(V1)
    (folder / "v2.yaml").write_text(V2)
    for name in ("v1.yaml", "v2.yaml"):
        result = runner.invoke(app, ["protocol", "load", str(folder / name), "--db", sqlite_url,
                                     "--actor", "coordinator"])  # fmt: skip
        assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["protocol", "load", str(folder / "v1.yaml"), "--db", sqlite_url])
    assert "already stored" in again.output
    with db.open_session(sqlite_url) as session:
        versions = active_protocols(session)
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "protocol_version"))
        assert [(e.actor, e.entity_key) for e in events] == [
            ("coordinator", "test-protocol 1"), ("coordinator", "test-protocol 2")]  # fmt: skip
    assert [v.protocol.version for v in versions] == ["1", "2"]
    assert version_for(versions, D(2021, 3, 19)).protocol.version == "1"
    assert version_for(versions, D(2021, 3, 20)).protocol.version == "2"
    shown = runner.invoke(app, ["protocol", "show", "--db", sqlite_url])
    assert "test-protocol 2 (effective 2021-03-20)" in shown.output


def test_bad_file_changes_nothing(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(V1.replace("before: 30", "before: -30"))
    with db.open_session(db_url) as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEvent))
    result = CliRunner().invoke(app, ["protocol", "load", str(bad), "--db", db_url])
    assert result.exit_code == 1
    line = next(i for i, t in enumerate(V1.splitlines(), 1) if "before: 30" in t)
    assert f"bad.yaml:{line}: visits.0.before (value '-30')" in result.output
    assert "nothing was stored" in result.output
    with db.open_session(db_url) as session:
        assert session.scalar(select(func.count()).select_from(ProtocolVersion)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
    check = CliRunner().invoke(app, ["protocol", "check", str(bad)])
    assert check.exit_code == 1
    assert "visits.0.before" in check.output
