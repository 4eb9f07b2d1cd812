"""Loading the snapshot: the fingerprint is the documented canonical dump, whatever the batching."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jakreg.analysis import load
from jakreg.analysis.load import _CHILD_TABLES, canonical_sha256, load_snapshot
from jakreg.store.db import open_session
from jakreg.store.tables import Centre, Patient
from tests.analysis.example import database, example_copy
from tests.analysis.test_literature_side import _with_literature

NOT_DATA = {"id", "version", "patient_pk", "centre_pk", "locked_by", "locked_at"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("load")
    return database(tmp, example_copy(tmp / "study", _with_literature))


def _texts(objects: list[Any], pseudonyms: dict[int, str], codes: dict[int, str]) -> list[str]:
    """The canonical dump of one table, straight from its definition (ORM objects, json.dumps)."""
    if not objects:
        return []
    names = [
        c.name
        for c in objects[0].__table__.columns
        if c.name not in NOT_DATA or c.name in ("patient_pk", "centre_pk")
    ]
    texts = []
    for o in objects:
        values = []
        for name in names:
            value = getattr(o, name)
            if name == "patient_pk":
                value = pseudonyms[value]
            elif name == "centre_pk":
                value = codes[value]
            elif isinstance(value, dt.date):
                value = value.isoformat()
            values.append(value)
        texts.append(json.dumps(values, ensure_ascii=False, separators=(",", ":")))
    return [json.dumps(names), *sorted(texts)]


def reference_sha256(
    url: str, centre: str | None, source: str | None, with_literature: bool
) -> str:
    with open_session(url) as session:
        centres = list(session.scalars(select(Centre)))
        codes = {c.id: c.centre for c in centres}
        patients = list(session.scalars(select(Patient)))
        pseudonyms = {p.id: p.patient_id for p in patients}
        chosen = [
            p
            for p in patients
            if (centre is None or codes[p.centre_pk] == centre)
            and (source is None or p.source == source)
        ]
        extra = [p for p in patients if p.source == "literature"] if with_literature else []
        dumped = list({p.id: p for p in chosen + extra}.values())
        keys = {p.id for p in dumped}
        used = {codes[p.centre_pk] for p in chosen}
        tables = {
            "centre": _texts([c for c in centres if c.centre in used], pseudonyms, codes),
            "patient": _texts(dumped, pseudonyms, codes),
        }
        for table in _CHILD_TABLES:
            rows = [r for r in session.scalars(select(table)) if r.patient_pk in keys]
            tables[table.__tablename__] = _texts(rows, pseudonyms, codes)
    return canonical_sha256(tables)


@pytest.mark.parametrize(
    ("centre", "source", "with_literature"),
    [
        (None, "cohort", True),
        (None, "cohort", False),
        (None, None, True),
        ("SYN-A", "cohort", True),
        ("SYN-A", None, False),
    ],
)
def test_fingerprint_is_the_canonical_dump(
    url: str, centre: str | None, source: str | None, with_literature: bool
) -> None:
    with open_session(url) as session:
        snapshot = load_snapshot(
            session, centre=centre, source=source, with_literature=with_literature
        )
    assert snapshot.sha256 == reference_sha256(url, centre, source, with_literature)


def test_an_unknown_centre_is_refused(url: str) -> None:
    from jakreg.errors import SelectionError

    with open_session(url) as session, pytest.raises(SelectionError, match="no centre 'NOWHERE'"):
        load_snapshot(session, centre="NOWHERE")


def test_batches_change_nothing(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_session(url) as session:
        whole = load_snapshot(session)
    monkeypatch.setattr(load, "BATCH", 2)
    with open_session(url) as session:
        batched = load_snapshot(session)
    assert batched == whole
    assert len(whole.patients) == 10
    assert [p.patient_id for p in whole.literature] == ["L01", "L02"]


def test_records_are_sorted_like_the_sheets(url: str) -> None:
    with open_session(url) as session:
        snapshot = load_snapshot(session)
    for p in snapshot.patients:
        assert list(p.labs) == sorted(p.labs, key=lambda x: (x.on, x.analyte))
        assert list(p.courses) == sorted(p.courses, key=lambda c: (c.start, c.course_no))
        assert list(p.assessments) == sorted(p.assessments, key=lambda a: (a.on, a.score))
    assert sum(len(p.labs) for p in snapshot.patients) > 0


def test_an_empty_database(tmp_path: Path) -> None:
    url = database(tmp_path, None)
    with open_session(url) as session:
        snapshot = load_snapshot(session)
    assert snapshot.patients == ()
    assert snapshot.sha256 == reference_sha256(url, None, "cohort", True)
