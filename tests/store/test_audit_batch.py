"""Batch audit events: an import writes one event per slice, sheet and action; its stored rows are
proved by the Merkle root its hash covers, so a row edited, dropped or reordered, or an event deleted, is
found and named; per-row events of round-1 databases verify, replay and show history next to them."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from jakreg.store import audit_batch
from jakreg.store.audit import AuditWriter, SliceChanges
from jakreg.store.audit_rows import RowFilter, count_changes, record_history, row_changes
from jakreg.store.db import open_session
from jakreg.store.tables import AuditBatch, AuditEvent, LabResult
from jakreg.study import audit_events, import_path, replay_audit, verify_audit
from tests.studydata import BASE, TODAY, edited, with_rows, write_study

LABS = [
    {"patient_id": "BCN-01", "date": f"2022-01-{d:02d}", "analyte": "alt", "value": 20 + d,
     "unit": "U/L", "uln": 40}
    for d in range(1, 29)
]  # fmt: skip


def _imported(url: str, tmp_path: Path) -> int:
    """Import the base study with 28 more labs; the id of the labs' batch event."""
    import_path(
        write_study(tmp_path / "a", with_rows("labs", *LABS)), url, actor="alice", today=TODAY
    )
    with open_session(url) as s:
        event_id = s.scalar(select(AuditBatch.event_id).where(AuditBatch.entity == "labs"))
    assert event_id is not None
    return event_id


def _tamper(url: str, event_id: int, change: Callable[[dict[str, Any]], None]) -> None:
    with open_session(url) as s:
        stored = s.get(AuditBatch, event_id)
        assert stored is not None
        data = json.loads(zlib.decompress(stored.payload))
        change(data)
        s.execute(
            update(AuditBatch)
            .where(AuditBatch.event_id == event_id)
            .values(payload=zlib.compress(json.dumps(data).encode()))
        )
        s.commit()


def _broken(url: str) -> tuple[int, str]:
    _n, broken = verify_audit(url)
    assert broken is not None
    return broken.event_id, broken.reason


def test_an_import_writes_one_event_per_sheet_and_its_rows_verify(
    db_url: str, tmp_path: Path
) -> None:
    _imported(db_url, tmp_path)
    n_rows = sum(len(v) for v in BASE.values()) + len(LABS)
    n, broken = verify_audit(db_url)
    assert broken is None
    with open_session(db_url) as s:
        assert n == s.scalar(select(func.count(AuditEvent.id))) == len(BASE)  # one per sheet
        assert count_changes(s) == n_rows
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        changes = row_changes(s, stmt)
        assert len(changes) == n_rows
        assert {c.action for c in changes} == {"create"}
        assert all(c.entity_pk is not None for c in changes)
    assert replay_audit(db_url).differences == []


@pytest.mark.parametrize(
    ("what", "change", "reason"),
    [
        (
            "a value edited",
            lambda d: d["after"][d["columns"].index("value")].__setitem__(3, 99),
            "its stored rows do not match its hash (a row edited, removed or reordered?)",
        ),
        (
            "a row dropped",
            lambda d: (
                [d[k].pop(5) for k in ("pk", "key", "patient_id", "centre")]
                and [col.pop(5) for col in d["after"]]
            ),
            "it stores 29 row(s), but its hash covers 30 (rows removed or added?)",
        ),
        (
            "two rows swapped",
            lambda d: [
                col.__setitem__(slice(1, 3), col[2:0:-1])
                for col in (d["pk"], d["key"], d["patient_id"], d["centre"], *d["after"])
            ],
            "its stored rows do not match its hash (a row edited, removed or reordered?)",
        ),
        (
            "a column renamed",
            lambda d: d["columns"].__setitem__(0, "patient"),
            "its stored rows have other columns than its hash covers (edited?)",
        ),
    ],
)
def test_a_tampered_batch_is_found_and_its_event_named(
    sqlite_url: str,
    tmp_path: Path,
    what: str,
    change: Callable[[dict[str, Any]], None],
    reason: str,
) -> None:
    event_id = _imported(sqlite_url, tmp_path)
    _tamper(sqlite_url, event_id, change)
    assert _broken(sqlite_url) == (event_id, reason), what


def test_a_deleted_batch_event_or_payload_is_found(sqlite_url: str, tmp_path: Path) -> None:
    event_id = _imported(sqlite_url, tmp_path)
    with open_session(sqlite_url) as s:
        s.execute(text("DELETE FROM audit_batch WHERE event_id = :id"), {"id": event_id})
        s.commit()
    assert _broken(sqlite_url) == (event_id, "its batch of row changes is missing (deleted?)")
    with open_session(sqlite_url) as s:
        s.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id})
        s.commit()
    assert _broken(sqlite_url) == (
        event_id + 1,
        "its link to the previous event is broken (an event deleted or reordered?)",
    )


def test_a_batch_index_moved_to_hide_rows_is_found(sqlite_url: str, tmp_path: Path) -> None:
    event_id = _imported(sqlite_url, tmp_path)
    with open_session(sqlite_url) as s:
        s.execute(update(AuditBatch).where(AuditBatch.event_id == event_id).values(min_pk=10**6))
        s.commit()
    assert _broken(sqlite_url) == (
        event_id,
        "its batch's index (entity, record ids, rows) does not match its hash (edited?)",
    )


def test_the_merkle_root_covers_order_and_tells_leaves_from_nodes() -> None:
    a, b, c = (bytes([i]) * 32 for i in range(3))
    assert audit_batch.merkle_root([a, b, c]) != audit_batch.merkle_root([b, a, c])
    assert audit_batch.merkle_root([a, b]) != audit_batch.merkle_root([a, b, c])
    assert audit_batch.merkle_root([a]) == a.hex()  # one leaf is its own root


def test_history_of_an_updated_record_says_who_when_and_from_what(
    db_url: str, tmp_path: Path
) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    changed = edited("labs", 0, value=99)
    import_path(write_study(tmp_path / "b", changed), db_url, actor="bob", today=TODAY)
    with open_session(db_url) as s:
        lab = s.scalars(select(LabResult).order_by(LabResult.id)).first()
        assert lab is not None
        history = record_history(s, "labs", lab.id)
    assert [(c.actor, c.action) for c in history] == [("alice", "create"), ("bob", "update")]
    old, new = history[1].before_values, history[1].after_values
    assert old is not None
    assert new is not None
    assert (old["value"], new["value"]) == (BASE["labs"][0]["value"], 99)
    assert {k for k in new if old[k] != new[k]} == {"value"}  # the rest the same before and after
    assert json.loads(history[1].before or "")["value"] == BASE["labs"][0]["value"]
    # jakreg audit log: the newest row changes first, the patient's only
    newest = audit_events(db_url, patient="BCN-01", limit=2)
    assert next((e.actor, e.action, e.entity) for e in newest) == ("bob", "update", "labs")
    assert replay_audit(db_url).differences == []


def _per_row(writer: AuditWriter, changes: SliceChanges) -> None:
    writer.write_many(list(changes.one_by_one()))


def test_round_1_per_row_events_and_batch_events_verify_and_replay_together(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the first import writes one event per row, as jakreg did before batch events
    with monkeypatch.context() as m:
        m.setattr(AuditWriter, "write_slice", _per_row)
        import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    with open_session(db_url) as s:
        assert s.scalar(select(func.count(AuditBatch.event_id))) == 0
        per_row = s.scalar(select(func.count(AuditEvent.id)))
    assert per_row == sum(len(v) for v in BASE.values())
    changed = edited("labs", 0, value=99)
    import_path(
        write_study(tmp_path / "b", {**changed, "labs": changed["labs"] + LABS}),
        db_url,
        actor="bob",
        today=TODAY,
    )
    assert verify_audit(db_url)[1] is None
    assert replay_audit(db_url).differences == []
    with open_session(db_url) as s:
        lab = s.scalars(select(LabResult).order_by(LabResult.id)).first()
        assert lab is not None
        history = record_history(s, "labs", lab.id)
        assert [(c.actor, c.action, c.row is None) for c in history] == [
            ("alice", "create", True),  # a per-row event
            ("bob", "update", False),  # a row of a batch event
        ]
        bob = row_changes(s, select(AuditEvent).order_by(AuditEvent.id), RowFilter(action="create"))
        assert sum(c.actor == "bob" for c in bob) == len(LABS)
        # a per-row event edited is still found
        first = s.scalar(select(func.min(AuditEvent.id)))
        s.execute(text("UPDATE audit_event SET after = '{}' WHERE id = :id"), {"id": first})
        s.commit()
    assert _broken(db_url) == (first, "its content does not match its hash (edited?)")
