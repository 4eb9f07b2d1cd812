"""The import's batched write path gives what the per-row path gives: the same audit hashes as
``_hash`` (which ``jakreg audit verify`` recomputes) and the same INSERT rows as ``BulkInsert.run`` over
``to_record`` dicts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from jakreg.model.sheets import SHEETS
from jakreg.store.audit import GENESIS, Change, _chained_hashes, _hash, _json, verify_chain
from jakreg.store.bulk import BulkInsert
from jakreg.store.db import open_session
from jakreg.store.repository import Directory, _insert_rows, from_record, iter_records, to_record
from jakreg.store.tables import TABLE_FOR_SHEET, AuditEvent
from jakreg.study import import_path
from tests.studydata import TODAY, write_study

AWKWARD = [
    Change("t", "create", "labs", "BCN-01 / 2021-05-01 / alt", 7, "BCN-01", "BCN",
           None, {"value": 30.5, "unit": "U/L", "note": 'quote " and \\ and \n'}, 3),
    Change("ÿ actor", "update", "patients", "Zoë ✓", None, None, None,
           {"b": dt.date(2020, 1, 2), "a": None}, {"z": "日本", "a": [1, 2]}, None),
    Change("t", "create", "labs", "k", 2**40, "BCN-02", "BCN", None, {}, 3),
    Change("t", "delete", "centres", "", 1, None, "X", {"x": 1.0e-300}, None, None),
]  # fmt: skip


def test_chained_hashes_are_those_of_hash() -> None:
    when = dt.datetime(2026, 12, 8, 1, 2, 3, tzinfo=dt.UTC)
    for changes in (AWKWARD, AWKWARD[::-1], AWKWARD * 3):
        prev = GENESIS
        for c, (before, after, got_prev, got) in zip(
            changes, _chained_hashes(GENESIS, when, changes), strict=True
        ):
            fields = {"at": when, "actor": c.actor, "action": c.action, "entity": c.entity,
                      "entity_pk": c.entity_pk, "entity_key": c.entity_key,
                      "patient_id": c.patient_id, "centre": c.centre, "before": _json(c.before),
                      "after": _json(c.after), "batch_pk": c.batch_pk}  # fmt: skip
            assert (before, after) == (fields["before"], fields["after"])
            assert got_prev == prev
            assert got == _hash(prev, fields)
            prev = got


def test_a_naive_time_hashes_as_utc() -> None:
    naive = dt.datetime(2026, 12, 8, 1, 2, 3)
    ((_b, after, _p, got),) = _chained_hashes(GENESIS, naive, AWKWARD[:1])
    c = AWKWARD[0]
    fields = {"at": naive.replace(tzinfo=dt.UTC), "actor": c.actor, "action": c.action,
              "entity": c.entity, "entity_pk": c.entity_pk, "entity_key": c.entity_key,
              "patient_id": c.patient_id, "centre": c.centre, "before": None, "after": after,
              "batch_pk": c.batch_pk}  # fmt: skip
    assert got == _hash(GENESIS, fields)


def test_insert_rows_are_those_of_bulk_run(tmp_path: Path, sqlite_url: str) -> None:
    import_path(write_study(tmp_path / "s"), sqlite_url, actor="t", today=TODAY)
    with open_session(sqlite_url) as session:
        d = Directory(session)
        compared = 0
        for spec in SHEETS:
            table: Any = TABLE_FOR_SHEET[spec.name].__table__
            values = [from_record(spec, r, d) for r in iter_records(session, spec)]
            ids = list(range(1000, 1000 + len(values)))
            fast = BulkInsert(session, table)
            expected = [
                [rec.get(name, default) for name, default in fast.fields]
                for rec in (
                    {**to_record(spec, v, d), "id": pk, "version": 1}
                    for pk, v in zip(ids, values, strict=True)
                )
            ]
            assert _insert_rows(spec, fast, values, ids, d) == expected
            compared += len(values)
        assert compared > 10
        # the batched events of that import form an intact chain
        assert verify_chain(session) is None
        assert session.scalar(select(AuditEvent.id).limit(1)) is not None
