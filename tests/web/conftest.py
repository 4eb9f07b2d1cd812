"""Server fixtures: the two-centre study on each backend, the app, logged-in clients and API tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jakreg.store import db
from jakreg.web import accounts
from jakreg.web.app import create_app
from tests.web.webdata import PASSWORD, USERS, seed, settings_for

BASE_URL = "https://testserver"  # cookies are Secure outside development


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, with the smallest cost: the tests hash dozens of passwords."""
    from argon2 import PasswordHasher

    from jakreg.web import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def seeded_url(db_url: str, tmp_path: Path) -> str:
    seed(db_url, tmp_path / "study")
    return db_url


@pytest.fixture
def app(seeded_url: str) -> Iterator[FastAPI]:
    application = create_app(settings_for(seeded_url))
    yield application
    application.state.engine.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def login(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    return client


def page_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/account").text)


@pytest.fixture
def clients(app: FastAPI) -> dict[str, TestClient]:
    """One logged-in browser per role, and an anonymous one."""
    out = {role: login(app, name) for role, (name, _) in USERS.items()}
    out["anonymous"] = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    return out


@pytest.fixture
def tokens(app: FastAPI, seeded_url: str) -> dict[str, str]:
    """One API token per role."""
    out: dict[str, str] = {}
    with db.open_session(seeded_url) as session:
        for role, (name, _) in USERS.items():
            user = accounts.get_user(session, name)
            out[role] = accounts.create_api_token(session, app.state.settings, user, "tests")
        session.commit()
    return out
