"""PostgreSQL's COPY write path (jakreg.store.bulk) writes exactly what executemany writes: the same
values read back, the same rows left out by skip_conflicts, and nothing at all when the transaction
fails. Runs on PostgreSQL only (JAKREG_TEST_POSTGRES_URL); SQLite always takes executemany."""

from __future__ import annotations

import datetime as dt
import enum
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jakreg.ingest import pipeline
from jakreg.ingest.problems import ValidationFailed
from jakreg.store import bulk
from jakreg.store.bulk import BulkInsert, CopySql
from jakreg.store.db import open_session
from jakreg.store.tables import TABLE_FOR_SHEET, AuditBatch, AuditEvent, ImportBatch
from jakreg.study import import_path
from tests.studydata import BASE, TODAY, write_study

METHODS = ["off", "text", "binary"]
COPIES = ["text", "binary"]


class Grade(enum.StrEnum):
    SEVERE = "severe"


BERLIN = dt.timezone(dt.timedelta(hours=2))

# every kind of value the registry stores, and the ones text COPY must escape (tab, newline, backslash)
ROWS: list[list[Any]] = [
    [1, "K-1", dt.date(2021, 5, 1), dt.datetime(2021, 5, 1, 8, 30, 15, tzinfo=dt.UTC), True,
     0.1, 7, "Müller ☃ 𝄞 ﬁ", '{"a": [1, "ß"], "b": null, "c": "x\\"y"}'],
    [2, "K-2", dt.date(1, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=BERLIN), False,
     -1e-300, -2147483648, "tab\there\nnewline \\ backslash \\N", "[]"],
    [3, "K-3", None, None, None, None, None, None, None],
    [4, "K-4", dt.date(9999, 12, 31), dt.datetime(1970, 1, 1, tzinfo=dt.UTC), True,
     1.7976931348623157e308, 0, "", '{"empty": ""}'],
    # an int for a float column and a str enum for a text column, as validated rows may hold them
    [5, "K-5", dt.date(2020, 2, 29), None, False, 3, 2**31 - 1, Grade.SEVERE, None],
]  # fmt: skip


def _table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("key", String(16), unique=True, nullable=False),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("flag", Boolean),
        Column("amount", Float),
        Column("count", Integer),
        Column("label", String(200)),
        Column("payload", Text),
        Column("note", String(20), server_default="server"),  # excluded: the database's default
    )


@pytest.fixture
def pg(db_url: str) -> str:
    return db_url


def on_postgres(test: Any) -> Any:
    """Only the PostgreSQL database of conftest's ``db_url``; skipped without one."""
    test = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)(test)
    reason = "COPY is PostgreSQL's: set JAKREG_TEST_POSTGRES_URL"
    return pytest.mark.skipif("JAKREG_TEST_POSTGRES_URL" not in os.environ, reason=reason)(test)


def _write(url: str, name: str, method: str, rows: list[list[Any]], **kw: Any) -> list[Any]:
    """Write ``rows`` into a new table ``name`` by ``method``; the table read back by id."""
    engine = create_engine(url)
    table = _table(name)
    table.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        writer = BulkInsert(session, table, exclude=("note",), copy=method, **kw)  # type: ignore[arg-type]
        assert (writer.copy is None) == (method == "off")
        writer.run_rows([list(r) for r in rows])
    with engine.connect() as conn:
        found = list(conn.execute(select(table).order_by(table.c.id)))
    engine.dispose()
    return found


@on_postgres
@pytest.mark.parametrize("method", COPIES)
def test_copy_writes_what_executemany_writes(pg: str, method: str) -> None:
    expected = _write(pg, "by_executemany", "off", ROWS)
    got = _write(pg, f"by_copy_{method}", method, ROWS)
    assert got == expected
    assert [tuple(r[:9]) for r in got] == [tuple(r) for r in ROWS]  # instants equal across zones
    assert {r.note for r in got} == {"server"}
    assert got[1].at.utcoffset() == dt.timedelta(0)  # read back as UTC, as from executemany


@on_postgres
@pytest.mark.parametrize("method", METHODS)
def test_skip_conflicts_leaves_out_exactly_the_conflicting_rows(pg: str, method: str) -> None:
    name = f"skip_{method}"
    _write(pg, name, "off", [ROWS[0], ROWS[2]])  # K-1 (id 1) and K-3 (id 3) are stored
    later = [
        [5, "K-1", None, None, None, None, None, "a new id, a key given before", None],
        [3, "K-9", None, None, None, None, None, "an id given before, a new key", None],
        ROWS[1],
        ROWS[3],
    ]
    engine = create_engine(pg)
    table = _table(name)
    with Session(engine) as session, session.begin():
        BulkInsert(session, table, exclude=("note",), skip_conflicts=True, copy=method).run_rows(  # type: ignore[arg-type]
            [list(r) for r in later]
        )
        # twice in one transaction: the staging table is reused, emptied in between
        BulkInsert(session, table, exclude=("note",), skip_conflicts=True, copy=method).run_rows(  # type: ignore[arg-type]
            [[6, "K-6", *[None] * 7], [7, "K-2", *[None] * 7]]
        )
    with engine.connect() as conn:
        found = {r.id: r.key for r in conn.execute(select(table.c.id, table.c.key))}
        staging = conn.scalar(
            text("SELECT count(*) FROM pg_class WHERE relname LIKE 'jakreg_stage%'")
        )
    engine.dispose()
    assert found == {1: "K-1", 2: "K-2", 3: "K-3", 4: "K-4", 6: "K-6"}
    assert staging == 0  # dropped at commit


@on_postgres
@pytest.mark.parametrize("method", COPIES)
def test_a_failing_transaction_leaves_nothing(pg: str, method: str) -> None:
    engine = create_engine(pg)
    plain, staged = _table("plain"), _table("staged")
    plain.metadata.create_all(engine)
    staged.metadata.create_all(engine)
    with Session(engine) as session:
        BulkInsert(session, plain, exclude=("note",), copy=method).run_rows(  # type: ignore[arg-type]
            [list(r) for r in ROWS]
        )
        BulkInsert(session, staged, exclude=("note",), skip_conflicts=True, copy=method).run_rows(  # type: ignore[arg-type]
            [list(r) for r in ROWS]
        )
        again = BulkInsert(session, plain, exclude=("note",), copy=method)  # type: ignore[arg-type]
        with pytest.raises(IntegrityError, match="duplicate key value"):
            again.run_rows([[9, "K-1", *[None] * 7]])  # a key given before: no conflicts skipped
        session.rollback()
        assert session.scalar(select(func.count()).select_from(plain)) == 0
        assert session.scalar(select(func.count()).select_from(staged)) == 0
    engine.dispose()


def _registry(url: str) -> dict[str, list[Any]]:
    """Every patient-data table and the audit trail, read back in id order (times and hashes, which
    differ from one import to the next, left out)."""
    found: dict[str, list[Any]] = {}
    with open_session(url) as s:
        for model in TABLE_FOR_SHEET.values():
            table: Table = model.__table__  # type: ignore[assignment]
            found[table.name] = list(s.execute(select(table).order_by(table.c.id)))
        audit: Table = AuditEvent.__table__  # type: ignore[assignment]
        kept = [c for c in audit.c if c.name not in {"at", "hash", "prev_hash"}]
        found["audit_event"] = list(s.execute(select(*kept).order_by(audit.c.id)))
        batch: Table = AuditBatch.__table__  # type: ignore[assignment]
        found["audit_batch"] = list(s.execute(select(batch).order_by(batch.c.event_id)))
    return found


def _empty(url: str) -> None:
    with open_session(url) as s:
        models = (*TABLE_FOR_SHEET.values(), AuditEvent, AuditBatch, ImportBatch)
        names = [m.__tablename__ for m in models]
        s.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        s.commit()


@on_postgres
def test_an_import_by_copy_stores_what_one_by_executemany_stores(
    pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_study(tmp_path / "s")
    stored = {}
    for method in METHODS:
        monkeypatch.setattr(bulk, "COPY_FORMAT", method)
        import_path(folder, pg, actor="t", today=TODAY)
        stored[method] = _registry(pg)
        _empty(pg)
    assert sum(len(rows) for rows in stored["off"].values()) > 20
    assert stored["text"] == stored["off"]
    assert stored["binary"] == stored["off"]


@on_postgres
def test_a_failing_import_by_copy_writes_nothing(
    pg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "SLICE_ROWS", 2)  # the second lab in a later slice: COPY staged
    study = {k: [dict(r) for r in v] for k, v in BASE.items()}
    study["labs"] = study["labs"] + [
        dict(study["labs"][0])
    ]  # a lab given twice: the index finds it
    with pytest.raises(ValidationFailed):
        import_path(write_study(tmp_path / "s", study), pg, actor="t", today=TODAY)
    assert all(rows == [] for rows in _registry(pg).values())


def test_the_copy_statements_as_data() -> None:
    direct = CopySql.build("lab_result", ["id", "value"], lambda n: f'"{n}"', skip_conflicts=False)
    assert direct.copy == 'COPY "lab_result" ("id", "value") FROM STDIN'
    assert (direct.before, direct.after) == ((), ())
    staged = CopySql.build("lab_result", ["id", "value"], lambda n: f'"{n}"', skip_conflicts=True)
    stage = staged.copy.split()[1]
    assert stage.startswith('"jakreg_stage_lab_result_')
    assert staged.before == (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
        'SELECT "id", "value" FROM "lab_result" WITH NO DATA',
    )
    assert staged.after == (
        f'INSERT INTO "lab_result" ("id", "value") SELECT "id", "value" FROM {stage} '
        "ON CONFLICT DO NOTHING",
        f"TRUNCATE {stage}",
    )
