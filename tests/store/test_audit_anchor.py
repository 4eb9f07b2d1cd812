"""The anchor: a trail whose last events were deleted still verifies as a chain, but not against an anchor
written before (by an import, export, report or backup, or fetched from the server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from jakreg.store.anchor import AnchorError, read_anchor
from jakreg.store.audit import AuditWriter, Change
from jakreg.store.db import open_session
from jakreg.store.tables import AuditEvent
from jakreg.study import anchor_beside, check_audit_anchor, import_path, verify_audit
from tests.studydata import TODAY, edited, write_study


def _imported(url: str, tmp_path: Path) -> tuple[Path, int]:
    folder = write_study(tmp_path / "a")
    import_path(folder, url, actor="alice", today=TODAY)
    anchor = anchor_beside(url, folder, "import")
    assert anchor == tmp_path / "a.anchor.json"
    return anchor, json.loads(anchor.read_text())["events"]


def _drop_last(url: str, n: int) -> None:
    with open_session(url) as s:
        last = s.scalar(select(func.max(AuditEvent.id)))
        assert last is not None
        s.execute(text("DELETE FROM audit_event WHERE id > :keep"), {"keep": last - n})
        s.commit()


def test_a_truncated_trail_verifies_as_a_chain_but_not_against_its_anchor(
    db_url: str, tmp_path: Path
) -> None:
    anchor, events = _imported(db_url, tmp_path)
    assert check_audit_anchor(db_url, anchor).ok
    _drop_last(db_url, 3)
    n, broken = verify_audit(db_url)
    assert (n, broken) == (events - 3, None)  # the shorter chain is a valid chain
    checked = check_audit_anchor(db_url, anchor)
    assert checked.problem == (
        f"the audit trail was truncated: it holds {events - 3} event(s), but {events} were "
        f"recorded at {checked.anchor.written_at} (events deleted from its end?)"
    )


def test_a_rewritten_tail_of_the_same_length_is_found(db_url: str, tmp_path: Path) -> None:
    anchor, events = _imported(db_url, tmp_path)
    _drop_last(db_url, 2)
    with open_session(db_url) as s:  # two new events, properly chained: the count is back
        writer = AuditWriter(s)
        for i in range(2):
            writer.write(Change("mallory", "update", "labs", f"x{i}"))
        s.commit()
    assert verify_audit(db_url) == (events, None)
    problem = check_audit_anchor(db_url, anchor).problem
    assert problem is not None
    assert problem.startswith(f"the anchored event {events} (hash ")
    assert problem.endswith("is not in the audit trail: the trail was truncated or rewritten since")


def test_an_anchor_holds_while_the_trail_grows(db_url: str, tmp_path: Path) -> None:
    anchor, events = _imported(db_url, tmp_path)
    later = edited("patients", 0, sex="male")
    import_path(write_study(tmp_path / "b", later), db_url, actor="bob", today=TODAY)
    checked = check_audit_anchor(db_url, anchor)
    assert checked.ok
    assert checked.events == events + 1


def test_an_unreadable_anchor_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.anchor.json"
    bad.write_text('{"events": 3}')
    with pytest.raises(AnchorError, match="is not a jakreg audit anchor"):
        read_anchor(bad)
    with pytest.raises(AnchorError, match="does not exist"):
        read_anchor(tmp_path / "missing.json")
