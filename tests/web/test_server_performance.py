"""What keeps a server request cheap, checked as behaviour: point queries instead of whole tables, the
same answers as the whole-table code they replace, no write per API read, connections given back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.store import db
from jakreg.store.repository import DatabaseState, Directory, from_record
from jakreg.store.tables import TABLE_FOR_SHEET, Patient
from jakreg.store.users import Role
from jakreg.study import import_path
from jakreg.synth import write_synthetic
from jakreg.web import accounts
from jakreg.web.app import create_app
from jakreg.web.scope import CHILD_SHEETS, Principal, Scope
from jakreg.web.state import LazyDirectory, PointState
from tests.web.conftest import BASE_URL
from tests.web.webdata import OWN, OWN_PATIENT, seed, settings_for

ADMIN = Principal(0, "admin", Role.admin, frozenset())


@pytest.fixture
def synthetic_url(db_url: str, tmp_path: Path) -> str:
    """Twelve synthetic patients at two centres: every record type, many rows per patient."""
    write_synthetic(tmp_path / "study", patients=12, centres=2, seed=3)
    import_path(tmp_path / "study", db_url, actor="setup")
    return db_url


def test_record_rows_give_the_orm_values(synthetic_url: str) -> None:
    with db.open_session(synthetic_url) as session:
        centre = session.scalar(select(Patient.centre_pk))
        scopes = [Scope(session, ADMIN)]
        codes = {pk: code for code, pk in Directory(session).centre_pk.items()}
        scopes.append(
            Scope(session, Principal(0, "c", Role.centre_viewer, frozenset({codes[centre]})))
        )
        seen = 0
        for scope in scopes:
            for pid in session.scalars(select(Patient.patient_id)):
                try:
                    patient = scope.patient(pid)
                except Exception:
                    continue  # another centre's patient: not visible to the centre viewer
                for sheet in CHILD_SHEETS:
                    orm = [
                        (o.id, o.version, scope.values(sheet, o))
                        for o in scope.records(sheet, patient)
                    ]  # type: ignore[attr-defined]
                    rows = [(r.id, r.version, v) for r, v in scope.record_rows(sheet, patient)]
                    assert rows == orm, (sheet, pid)
                    seen += len(rows)
        assert seen > 500


def test_lazy_directory_maps_like_the_full_one(synthetic_url: str) -> None:
    with db.open_session(synthetic_url) as session:
        full, lazy = Directory(session), LazyDirectory(session)
        for pid, pk in full.patient_pk.items():
            assert lazy.patient_pk[pid] == pk
            assert lazy.pseudonym[pk] == pid
            assert lazy.patient_centre[pk] == full.patient_centre[pk]
        for code, pk in full.centre_pk.items():
            assert code in lazy.centre_pk
            assert lazy.centre_code[pk] == code
        assert "NOPE-1" not in lazy.patient_pk
        assert lazy.patient_pk.get("NOPE-1") is None
        with pytest.raises(KeyError):
            lazy.pseudonym[10**9]
        known = dict.__len__(lazy.patient_pk)
        lazy.reload()  # what was read stays: it cannot change
        assert dict.__len__(lazy.patient_pk) == known
        lazy.forget()
        assert dict.__len__(lazy.patient_pk) == 0


def _keys(session: Any, sheet: str) -> list[tuple[Any, ...]]:
    spec = SHEETS_BY_NAME[sheet]
    d = Directory(session)
    found = [
        tuple(from_record(spec, o, d)[k] for k in spec.key)
        for o in session.scalars(select(TABLE_FOR_SHEET[sheet]))
    ]
    return found


def test_point_state_answers_as_the_whole_table_state(synthetic_url: str) -> None:
    with db.open_session(synthetic_url) as session:
        whole, point = DatabaseState(session), PointState(session)
        for sheet in ("centres", "patients", "courses", "assessments", "manifestations"):
            keys = _keys(session, sheet)
            assert keys
            probes = [
                *keys[:20],
                tuple("NOPE-1" if isinstance(v, str) else v for v in keys[0]),
                tuple(v + 1000 if isinstance(v, int) else v for v in keys[-1]),
                tuple(
                    v - dt.timedelta(days=3000) if isinstance(v, dt.date) else v for v in keys[-1]
                ),
            ]
            for key in probes:
                assert point.has(sheet, key) == whole.has(sheet, key), (sheet, key)
        patients = list(
            session.execute(select(Patient.patient_id, Patient.local_id, Patient.centre_pk))
        )
        for pid, _local, _cpk in patients:
            assert point.patient(pid) == whole.patient(pid)
            for no in (1, 2, 3, 99):
                assert point.course(pid, no) == whole.course(pid, no)
        assert point.patient("NOPE-1") is None
        assert whole.patient("NOPE-1") is None
        d = Directory(session)
        for pid, local, cpk in patients:
            if local is not None:
                code = d.centre_code[cpk]
                assert point.patient_with_local_id(code, local) == pid
                assert point.patient_with_local_id(code, local + "x") is None
        assert point.patient_with_local_id("NOPE", "x") is None


# --- the HTTP requests the load test sends ---------------------------------------------------------


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient, list[str]]]:
    seed(db_url, tmp_path / "study")
    settings = settings_for(db_url)
    with db.open_session(db_url) as session:
        user = accounts.get_user(session, "ada")
        token = accounts.create_api_token(session, settings, user, "test")
        session.commit()
    app = create_app(settings)
    statements: list[str] = []
    event.listen(
        app.state.engine,
        "before_cursor_execute",
        lambda *a: statements.append(" ".join(a[2].split())),
    )
    client = TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})
    yield app, client, statements
    app.state.engine.dispose()


def _whole_table_reads(statements: list[str]) -> list[str]:
    """SELECTs without WHERE or LIMIT: reads that grow with the registry."""
    return [
        s
        for s in statements
        if s.startswith("SELECT") and " WHERE " not in s and " LIMIT " not in s
    ]


def test_reading_a_patient_takes_a_fixed_number_of_point_queries(
    api: tuple[FastAPI, TestClient, list[str]],
) -> None:
    app, client, statements = api
    assert client.get(f"/api/v1/patients/{OWN_PATIENT}").status_code == 200
    statements.clear()
    response = client.get(f"/api/v1/patients/{OWN_PATIENT}")
    assert response.status_code == 200
    assert response.json()["records"]["courses"]
    # token + memberships, the patient, its centre, one query per record type; nothing written
    assert len(statements) <= 4 + len(CHILD_SHEETS), statements
    assert not _whole_table_reads(statements)
    assert not [s for s in statements if not s.startswith("SELECT")]
    assert app.state.engine.pool.checkedout() == 0  # the connection went back to the pool


def test_writing_an_assessment_takes_point_queries_and_one_audit_event(
    api: tuple[FastAPI, TestClient, list[str]],
) -> None:
    app, client, statements = api
    body = {"values": {"date": "2021-02-03", "score": "IDDA", "score_version": "unknown",
                       "total": 12.5}}  # fmt: skip
    client.get("/api/v1/me")
    statements.clear()
    response = client.post(f"/api/v1/patients/{OWN_PATIENT}/assessments", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["values"]["total"] == 12.5
    assert not _whole_table_reads(statements), _whole_table_reads(statements)
    assert len(statements) <= 16, statements
    assert [s for s in statements if s.startswith("INSERT INTO audit_event")]
    assert app.state.engine.pool.checkedout() == 0
    again = client.post(f"/api/v1/patients/{OWN_PATIENT}/assessments", json=body)
    assert again.status_code == 422  # the key is taken: found by the point query
    assert "already" in again.text or "taken" in again.text or "exists" in again.text


def test_an_api_read_writes_the_token_use_at_most_once_a_minute(
    api: tuple[FastAPI, TestClient, list[str]],
) -> None:
    _app, client, statements = api
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    assert len([s for s in statements if s.startswith("UPDATE api_token")]) == 1


def test_security_headers_on_every_answer(api: tuple[FastAPI, TestClient, list[str]]) -> None:
    _app, client, _statements = api
    for path, status in (
        ("/api/v1/me", 200),
        (f"/api/v1/patients/{OWN_PATIENT}", 200),
        ("/api/v1/patients/NOPE-1", 404),
        ("/login", 200),
        ("/api/v1/me%00", 400),
        ("/api/v1/me?x=%00", 400),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], path
        assert response.headers["Cache-Control"] == "no-store", path


def test_a_centre_user_still_cannot_read_another_centre(
    api: tuple[FastAPI, TestClient, list[str]], db_url: str
) -> None:
    _app, client, _statements = api
    settings = settings_for(db_url)
    with db.open_session(db_url) as session:
        token = accounts.create_api_token(
            session, settings, accounts.get_user(session, "vera"), "viewer"
        )
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    own = client.get(f"/api/v1/patients/{OWN_PATIENT}", headers=headers)
    assert own.status_code == 200
    assert own.json()["centre"] == OWN
    assert client.get("/api/v1/patients/MAD-01", headers=headers).status_code == 404
    assert client.get("/api/v1/patients/MAD-01/labs", headers=headers).status_code == 404
