"""Accounts, logging in, lock-out, sessions, CSRF, the secret key, and their audit events."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jakreg.store import db
from jakreg.store.tables import AuditEvent
from jakreg.study import verify_audit
from jakreg.web import cli_support, errors
from jakreg.web.accounts import NEEDS_CENTRE, SHORT_PASSWORD, USER_EXISTS
from jakreg.web.deps import SESSION_COOKIE
from jakreg.web.errors import AccountError, ConfigurationError
from jakreg.web.settings import DEV_SECRET, SECRET_IS_DEFAULT, SECRET_MISSING, load_settings
from tests.web.conftest import BASE_URL, csrf_of, login, page_csrf
from tests.web.webdata import PASSWORD


def _events(url: str, action: str) -> list[AuditEvent]:
    with db.open_session(url) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _after(event: AuditEvent) -> dict:  # type: ignore[type-arg]
    after = event.after
    return json.loads(after) if isinstance(after, str) else dict(after or {})


def _try_login(app: FastAPI, username: str, password: str) -> tuple[int, str]:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    return r.status_code, r.text


def test_login_sets_a_safe_cookie_and_is_audited(app: FastAPI, seeded_url: str) -> None:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": "eddie", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" in cookie
    assert [e.actor for e in _events(seeded_url, "login")] == ["eddie"]


def test_failed_login_is_audited_and_says_nothing_about_the_name(
    app: FastAPI, seeded_url: str
) -> None:
    status, body = _try_login(app, "eddie", "wrong password!!")
    assert status == 401
    assert errors.LOGIN_FAILED in body
    status, body = _try_login(app, "nobody-at-all", "wrong password!!")
    assert status == 401
    assert errors.LOGIN_FAILED in body
    failed = _events(seeded_url, "login_failed")
    assert [(e.actor, json.loads(e.after or "{}")["reason"]) for e in failed] == [
        ("eddie", "wrong password"),
        ("nobody-at-all", "unknown user"),
    ]
    assert verify_audit(seeded_url)[1] is None


def test_repeated_failures_lock_the_name_out(app: FastAPI, seeded_url: str) -> None:
    for _ in range(app.state.settings.max_failed_logins):
        assert _try_login(app, "vera", "not her password")[0] == 401
    status, body = _try_login(app, "vera", PASSWORD)  # even the right password, now
    assert status == 401
    assert errors.LOGIN_LOCKED.format(minutes=15) in body
    assert json.loads(_events(seeded_url, "login_failed")[-1].after or "{}") == {
        "reason": "locked out"
    }
    assert _try_login(app, "eddie", PASSWORD)[0] == 303  # other names are not affected


def test_login_form_needs_its_csrf_token(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    client.get("/login")
    r = client.post("/login", data={"username": "eddie", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403
    assert errors.CSRF_FAILED in r.text


def test_every_post_needs_the_session_csrf_token(app: FastAPI) -> None:
    client = login(app, "eddie")
    r = client.post("/patients/BCN-01/lock", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert errors.CSRF_FAILED in r.text
    r = client.post("/patients/BCN-01/lock", data={})
    assert r.status_code == 403


def test_logout_ends_the_session(app: FastAPI) -> None:
    client = login(app, "eddie")
    token = client.cookies.get(SESSION_COOKIE)
    assert client.post("/logout", data={"csrf_token": page_csrf(client)}).status_code == 303
    stale = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    stale.cookies.set(SESSION_COOKIE, token or "")
    r = stale.get("/patients")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_expired_sessions_are_refused(app: FastAPI, seeded_url: str) -> None:
    from sqlalchemy import update

    from jakreg.store.users import WebSession

    client = login(app, "eddie")
    with db.open_session(seeded_url) as session:
        session.execute(
            update(WebSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        session.commit()
    assert client.get("/patients").status_code == 303


def test_next_parameter_cannot_redirect_elsewhere(app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    page = client.get("/login?next=//evil.example/x")
    r = client.post(
        "/login",
        data={"username": "eddie", "password": PASSWORD, "csrf_token": csrf_of(page.text),
              "next": "//evil.example/x"},
    )  # fmt: skip
    assert r.headers["location"] == "/"


def test_secret_is_required_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAKREG_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError) as exc:
        load_settings("sqlite://")
    assert str(exc.value) == SECRET_MISSING
    monkeypatch.setenv("JAKREG_SECRET_KEY", DEV_SECRET)
    with pytest.raises(ConfigurationError) as exc:
        load_settings("sqlite://")
    assert str(exc.value) == SECRET_IS_DEFAULT
    assert load_settings("sqlite://", dev=True).cookie_secure is False


def test_serve_refuses_to_start_without_a_secret(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAKREG_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="JAKREG_SECRET_KEY"):
        cli_support.serve("127.0.0.1", 0, seeded_url, dev=False)


def test_user_commands(seeded_url: str) -> None:
    info = cli_support.user_add(seeded_url, "newbie", "centre_viewer", ["BCN"], PASSWORD)
    assert (info.username, info.role, info.centres) == ("newbie", "centre_viewer", ["BCN"])
    with pytest.raises(AccountError) as exc:
        cli_support.user_add(seeded_url, "newbie", "centre_viewer", ["BCN"], PASSWORD)
    assert str(exc.value) == USER_EXISTS.format(username="newbie")
    with pytest.raises(AccountError) as exc:
        cli_support.user_add(seeded_url, "x2", "centre_editor", [], PASSWORD)
    assert str(exc.value) == NEEDS_CENTRE.format(role="centre_editor")
    with pytest.raises(AccountError) as exc:
        cli_support.user_add(seeded_url, "x3", "analyst", [], "short")
    assert str(exc.value) == SHORT_PASSWORD.format(n=12)
    cli_support.user_set_password(seeded_url, "newbie", "another long password")
    assert cli_support.user_disable(seeded_url, "newbie").disabled
    names = [u.username for u in cli_support.user_list(seeded_url)]
    assert "newbie" in names
    assert names == sorted(names)
    actions = [e.action for e in _events(seeded_url, "user_create")]
    assert len(actions) == 7  # six from the set-up (one per role and otto), one here
    assert verify_audit(seeded_url)[1] is None


def test_set_password_can_revoke_api_tokens(
    app: FastAPI, seeded_url: str, tokens: dict[str, str]
) -> None:
    """set-password alone leaves tokens valid (and says so); --revoke-tokens ends them."""
    client = TestClient(app, base_url=BASE_URL)
    bearer = {"Authorization": f"Bearer {tokens['analyst']}"}
    _, valid = cli_support.user_set_password(seeded_url, "anna", "another long password")
    assert valid == 1
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    _, valid = cli_support.user_set_password(
        seeded_url, "anna", "yet another long password", revoke_tokens=True
    )
    assert valid == 0
    r = client.get("/api/v1/me", headers=bearer)
    assert r.status_code == 401
    assert r.json() == {"detail": errors.API_TOKEN_INVALID}
    revoked = [_after(e)["tokens_revoked"] for e in _events(seeded_url, "user_password")]
    assert revoked == [0, 1]  # audited: none the first time, the one token the second


def test_disabled_users_cannot_log_in(app: FastAPI, seeded_url: str) -> None:
    client = login(app, "vera")
    cli_support.user_disable(seeded_url, "vera")
    assert client.get("/patients").status_code == 303  # the open session ended too
    assert _try_login(app, "vera", PASSWORD)[0] == 401


def test_api_needs_a_valid_token(app: FastAPI, tokens: dict[str, str]) -> None:
    client = TestClient(app, base_url=BASE_URL)
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json() == {"detail": errors.API_TOKEN_REQUIRED}
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer jkr_not-a-token"})
    assert r.json() == {"detail": errors.API_TOKEN_INVALID}
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['analyst']}"})
    assert r.json() == {"username": "anna", "role": "analyst", "centres": []}


def test_tokens_are_stored_hashed(seeded_url: str, tokens: dict[str, str]) -> None:
    from jakreg.store.users import ApiToken

    with db.open_session(seeded_url) as session:
        stored = set(session.scalars(select(ApiToken.token_hash)))
    assert not stored & set(tokens.values())


@pytest.mark.parametrize(
    ("username", "password"),
    [("x" * 101, PASSWORD), ("eddie", "p" * 1025), ("e" * 100_000, "p" * 1_000_000)],
)
def test_overlong_login_fields_are_refused_before_hashing(
    app: FastAPI, seeded_url: str, username: str, password: str
) -> None:
    """Stored user names have 100 characters; passwords are hashed on every try."""
    from jakreg.store.users import LoginFailure
    from jakreg.web.accounts import LONG_LOGIN

    status, text = _try_login(app, username, password)
    assert status == 400
    assert LONG_LOGIN in text
    with db.open_session(seeded_url) as session:
        assert session.scalar(select(LoginFailure.id).limit(1)) is None


def test_overlong_password_is_refused_by_set_password(seeded_url: str) -> None:
    from jakreg.web.accounts import LONG_PASSWORD
    from jakreg.web.errors import AccountError

    with pytest.raises(AccountError) as exc:
        cli_support.user_set_password(seeded_url, "eddie", "p" * 1025)
    assert str(exc.value) == LONG_PASSWORD
