"""The server publishes the audit trail's head (admins): saved as a file it is an anchor for
``jakreg audit verify --anchor``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from jakreg.store import db
from jakreg.store.tables import AuditEvent
from jakreg.study import check_audit_anchor
from tests.web.conftest import BASE_URL, login


def _api(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})


def test_the_published_head_is_an_anchor(
    app: FastAPI, tokens: dict[str, str], seeded_url: str, tmp_path: Path
) -> None:
    r = _api(app, tokens["admin"]).get("/api/v1/audit/head")
    assert r.status_code == 200, r.text
    head = r.json()
    with db.open_session(seeded_url) as session:
        n = session.scalar(select(func.count(AuditEvent.id)))
        last = session.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).one()
    assert (head["events"], head["head_event_id"], head["head_hash"]) == (n, last[0], last[1])
    assert head["written_for"] == "server"
    saved = tmp_path / "head.anchor.json"
    saved.write_text(r.text)
    assert check_audit_anchor(seeded_url, saved).ok
    with db.open_session(seeded_url) as session:
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last[0]})
        session.commit()
    problem = check_audit_anchor(seeded_url, saved).problem
    assert problem is not None
    assert problem.startswith("the audit trail was truncated")
    assert _api(app, tokens["centre_editor"]).get("/api/v1/audit/head").status_code == 403


def test_admins_downloads_carry_the_head(app: FastAPI, seeded_url: str, tmp_path: Path) -> None:
    admin, editor = login(app, "ada"), login(app, "eddie")
    r = admin.get("/export")
    assert r.status_code == 200
    saved = tmp_path / "export.anchor.json"
    saved.write_text(r.headers["x-jakreg-audit-head"])
    checked = check_audit_anchor(seeded_url, saved)
    assert checked.ok
    assert checked.anchor.written_for == "export"
    assert "x-jakreg-audit-head" not in editor.get("/export").headers  # admins only
    r = admin.get("/report")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        (tmp_path / "report.anchor.json").write_bytes(archive.read("audit.anchor.json"))
    assert check_audit_anchor(seeded_url, tmp_path / "report.anchor.json").ok
    with zipfile.ZipFile(io.BytesIO(editor.get("/report").content)) as archive:
        assert "audit.anchor.json" not in archive.namelist()
