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


def _spy_on_form_parsing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from starlette.requests import Request

    calls: list[int] = []
    original = Request.form

    def form(self: Request, *args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Request, "form", form)
    return calls


BIG = b"x" * (8 * 1024 * 1024)  # 8 MB: under the upload limit, far over what the token check reads


@pytest.mark.parametrize("token", ["forged-token", ""])
def test_bad_csrf_token_with_a_big_body_is_refused_unparsed(
    app: FastAPI, seeded_url: str, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    client = login(app, "eddie")
    calls = _spy_on_form_parsing(monkeypatch)
    before = _labs(seeded_url)
    r = client.post("/upload", data={"csrf_token": token, "centre": "BCN"},
                    files={"file": ("labs.csv", BIG, "text/csv")})  # fmt: skip
    assert r.status_code == 403
    assert "the form has expired or did not come from this site" in r.text
    assert calls == []  # the multipart body was never parsed
    assert _labs(seeded_url) == before


def test_token_must_come_first(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    client = login(app, "eddie")
    token = page_csrf(client)
    calls = _spy_on_form_parsing(monkeypatch)
    boundary = "jakregboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="labs.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{'x' * 1000}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    r = client.post("/upload", content=body,
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
    assert r.status_code == 403
    assert calls == []


def test_declared_body_over_the_limit_is_refused_unparsed(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = login(app, "eddie")
    token = page_csrf(client)
    calls = _spy_on_form_parsing(monkeypatch)
    r = client.post("/upload", data={"csrf_token": token, "centre": "BCN"},
                    files={"file": ("labs.csv", b"y" * (22 * 1024 * 1024), "text/csv")})  # fmt: skip
    assert r.status_code == 422
    assert "the file is larger than 20 MB; split it by centre" in r.text
    assert calls == []


def test_good_token_first_still_uploads(app: FastAPI) -> None:
    client = login(app, "eddie")
    good = "patient_id,date,analyte,value,unit,uln\nBCN-01,2022-01-05,alt,45,U/L,40\n"
    r = client.post("/upload", data={"csrf_token": page_csrf(client), "centre": "BCN"},
                    files={"file": ("labs.csv", good.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "1 created, 0 updated" in r.text
