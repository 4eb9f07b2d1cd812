"""Uploads: a decompression bomb is refused before it is parsed; a bad CSRF token is refused before the
multipart body is parsed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from jakreg.store import db
from jakreg.store.tables import LabResult
from tests.ingest.bombs import row_bomb
from tests.web.conftest import login, page_csrf


def _labs(url: str) -> int:
    with db.open_session(url) as session:
        return int(session.scalar(select(func.count()).select_from(LabResult)) or 0)


def test_row_bomb_upload_is_refused_before_parsing(
    app: FastAPI, seeded_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = row_bomb(tmp_path / "labs.xlsx", 500_000, numbered=True).read_bytes()
    assert len(bomb) < 5 * 1024 * 1024  # well under the 20 MB upload limit
    import jakreg.ingest.read as read

    def never(*args: object) -> None:
        raise AssertionError("the spreadsheet reader was called")

    monkeypatch.setattr(read, "_read_excel", never)
    before = _labs(seeded_url)
    client = login(app, "eddie")
    r = client.post("/upload", data={"centre": "BCN", "csrf_token": page_csrf(client)},
                    files={"file": ("labs.xlsx", bomb, "application/octet-stream")})  # fmt: skip
    assert r.status_code == 422
    assert (
        "the sheet has more than 100,000 rows, the most jakreg reads from one sheet here" in r.text
    )
    assert "nothing was written" in r.text
    assert _labs(seeded_url) == before
