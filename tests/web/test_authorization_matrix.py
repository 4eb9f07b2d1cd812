"""Every route × every role × own/other centre: the expected status, and nothing leaks.

Writes are sent with values that fail validation (or a stale version), so a permitted request answers
422 (or 409) and changes nothing, while a refused one answers 403/404 before validation runs. A route
added to the app without a row here fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jakreg.store import db
from jakreg.store.tables import LabResult, Patient
from tests.web.conftest import page_csrf
from tests.web.webdata import (
    OTHER,
    OTHER_LOCAL_ID,
    OTHER_MARKER,
    OTHER_PATIENT,
    OWN,
    OWN_LOCAL_ID,
    OWN_PATIENT,
)

ROLES = ("admin", "centre_editor", "centre_viewer", "analyst", "monitor", "anonymous")
WHERE = ("own", "other")

# Expected status per kind of route: role -> (own centre, other centre).
READ = {"admin": (200, 200), "centre_editor": (200, 404), "centre_viewer": (200, 404),
        "analyst": (200, 200), "monitor": (200, 200)}  # fmt: skip
EDIT_OK = 422  # permitted: validation refuses the deliberately invalid values
EDIT = {"admin": (EDIT_OK, EDIT_OK), "centre_editor": (EDIT_OK, 404),
        "centre_viewer": (403, 404), "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
EDIT_FORM = {"admin": (200, 200), "centre_editor": (200, 404), "centre_viewer": (403, 404),
             "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
DELETE = {"admin": (409, 409), "centre_editor": (409, 404), "centre_viewer": (403, 404),
          "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
NEW_PATIENT = {"admin": (EDIT_OK, EDIT_OK), "centre_editor": (EDIT_OK, 403),
               "centre_viewer": (403, 403), "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
LOCK_WEB = {"admin": (303, 303), "centre_editor": (303, 404), "centre_viewer": (403, 404),
            "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
LOCK_API = {k: tuple(200 if s == 303 else s for s in v) for k, v in LOCK_WEB.items()}
UNLOCK = {"admin": (409, 409), "centre_editor": (403, 404), "centre_viewer": (403, 404),
          "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
SIGNED_IN = ("admin", "centre_editor", "centre_viewer", "analyst", "monitor")
EVERYONE = dict.fromkeys(SIGNED_IN, (200, 200))
REDIRECT = dict.fromkeys(SIGNED_IN, (303, 303))
ADMIN_ONLY = {"admin": (200, 200), "centre_editor": (403, 403), "centre_viewer": (403, 403),
              "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
ADMIN_ONLY_POST = {**ADMIN_ONLY, "admin": (EDIT_OK, EDIT_OK)}
EDITORS = {"admin": (200, 200), "centre_editor": (200, 200), "centre_viewer": (403, 403),
           "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
UPLOAD = {**EDITORS, "admin": (EDIT_OK, EDIT_OK), "centre_editor": (EDIT_OK, 403)}
AUDIT = {"admin": (200, 200), "centre_editor": (200, 200), "centre_viewer": (200, 200),
         "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
EXPORT = {"admin": (200, 200), "centre_editor": (200, 403), "centre_viewer": (200, 403),
          "analyst": (200, 200), "monitor": (200, 200)}  # fmt: skip

BAD_LAB = {"date": "not a date", "analyte": "alt", "value": "1", "unit": "U/L"}
BAD_PATIENT = {"sex": "sometimes", "birth_year_month": "2012-05"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {pid}, {centre}, {lab} filled per own/other
    expect: dict[str, tuple[int, int]]
    form: dict[str, str] | None = None  # web POST fields (CSRF added)
    json: dict[str, object] | None = None  # API body
    api: bool = False
    upload: bool = False


CASES: list[Case] = [
    # pages
    Case("GET", "/", EVERYONE),
    Case("GET", "/patients", EVERYONE),
    Case("GET", "/patients?centre={centre}&q={pid}", EVERYONE),
    Case("GET", "/patients/{pid}", READ),
    Case("GET", "/patients/{pid}/edit", EDIT_FORM),
    Case("POST", "/patients/{pid}/edit", EDIT, form={**BAD_PATIENT, "version": "1"}),
    Case("GET", "/patients/{pid}/labs/new", EDIT_FORM),
    Case("POST", "/patients/{pid}/labs/new", EDIT, form=BAD_LAB),
    Case("GET", "/patients/{pid}/labs/{lab}/edit", EDIT_FORM),
    Case("POST", "/patients/{pid}/labs/{lab}/edit", EDIT, form={**BAD_LAB, "version": "1"}),
    Case("POST", "/patients/{pid}/labs/{lab}/delete", DELETE, form={"version": "99"}),
    Case("POST", "/patients/{pid}/lock", LOCK_WEB, form={}),
    Case("POST", "/patients/{pid}/unlock", UNLOCK, form={}),
    Case("GET", "/new-patient", EDITORS),
    Case(
        "POST",
        "/new-patient",
        NEW_PATIENT,
        form={**BAD_PATIENT, "patient_id": "NEW-1", "centre": "{centre}"},
    ),
    Case("GET", "/new-centre", ADMIN_ONLY),
    Case("POST", "/new-centre", ADMIN_ONLY_POST, form={"centre": "x", "name": "n"}),
    Case("GET", "/upload", EDITORS),
    Case("POST", "/upload", UPLOAD, form={"centre": "{centre}"}, upload=True),
    Case("GET", "/export?centre={centre}", EXPORT),
    Case("GET", "/report?centre={centre}", EXPORT),
    Case("GET", "/audit", AUDIT),
    Case("GET", "/audit?centre={centre}&patient_id={pid}", AUDIT),
    Case("GET", "/account", EVERYONE),
    Case("POST", "/account/tokens", EVERYONE, form={"name": "matrix"}),
    Case("POST", "/account/tokens/999999/revoke", REDIRECT, form={}),
    # API
    Case("GET", "/api/v1/me", EVERYONE, api=True),
    Case("GET", "/api/v1/centres", EVERYONE, api=True),
    Case("GET", "/api/v1/patients", EVERYONE, api=True),
    Case(
        "POST",
        "/api/v1/patients",
        NEW_PATIENT,
        api=True,
        json={"values": {**BAD_PATIENT, "patient_id": "NEW-1", "centre": "{centre}"}},
    ),
    Case("GET", "/api/v1/patients/{pid}", READ, api=True),
    Case(
        "PUT", "/api/v1/patients/{pid}", EDIT, api=True, json={"values": BAD_PATIENT, "version": 1}
    ),
    Case("POST", "/api/v1/patients/{pid}/lock", LOCK_API, api=True),
    Case("POST", "/api/v1/patients/{pid}/unlock", UNLOCK, api=True),
    Case("GET", "/api/v1/patients/{pid}/timeline", READ, api=True),
    Case("GET", "/api/v1/patients/{pid}/labs", READ, api=True),
    Case("POST", "/api/v1/patients/{pid}/labs", EDIT, api=True, json={"values": BAD_LAB}),
    Case("GET", "/api/v1/patients/{pid}/labs/{lab}", READ, api=True),
    Case(
        "PUT",
        "/api/v1/patients/{pid}/labs/{lab}",
        EDIT,
        api=True,
        json={"values": BAD_LAB, "version": 1},
    ),
    Case("DELETE", "/api/v1/patients/{pid}/labs/{lab}?version=99", DELETE, api=True),
    Case("GET", "/api/v1/audit", AUDIT, api=True),
    # fixes-b:
    Case("GET", "/api/v1/audit/head", ADMIN_ONLY, api=True),
]

# quality: data queries (monitor raises and closes, the centre's editors answer) and data quality findings.
Q_READ = {**READ, "analyst": (403, 403)}
Q_QUEUE = {**EVERYONE, "analyst": (403, 403)}
Q_RAISE_FORM = {"admin": (200, 200), "centre_editor": (403, 404), "centre_viewer": (403, 404),
                "analyst": (403, 403), "monitor": (200, 200)}  # fmt: skip
Q_RAISE = {k: tuple(EDIT_OK if s == 200 else s for s in v) for k, v in Q_RAISE_FORM.items()}
Q_ANSWER = {"admin": (EDIT_OK, EDIT_OK), "centre_editor": (EDIT_OK, 404),
            "centre_viewer": (403, 404), "analyst": (403, 403), "monitor": (403, 403)}  # fmt: skip
Q_CLOSE = {"admin": (EDIT_OK, EDIT_OK), "centre_editor": (403, 404),
           "centre_viewer": (403, 404), "analyst": (403, 403), "monitor": (EDIT_OK, EDIT_OK)}  # fmt: skip
Q_REOPEN = {k: tuple(409 if s == EDIT_OK else s for s in v) for k, v in Q_CLOSE.items()}
TOO_LONG = "x" * 2001
RAISE_BODY = {"sheet": "labs", "record": "{lab}", "field": "value", "text": ""}
CASES += [
    Case("GET", "/queries", Q_QUEUE),
    Case("GET", "/queries?centre={centre}&state=open", Q_READ),
    Case("GET", "/queries/{query}", Q_READ),
    Case("POST", "/queries/{query}/answer", Q_ANSWER, form={"text": "", "version": "1"}),
    Case("POST", "/queries/{query}/close", Q_CLOSE, form={"text": TOO_LONG, "version": "1"}),
    Case("POST", "/queries/{query}/reopen", Q_REOPEN, form={"text": "why", "version": "1"}),
    Case("GET", "/patients/{pid}/new-query?sheet=labs&record={lab}&field=value", Q_RAISE_FORM),
    Case("POST", "/patients/{pid}/new-query", Q_RAISE, form=RAISE_BODY),
    Case("GET", "/quality", EVERYONE),
    Case("GET", "/quality?centre={centre}", READ),
    Case("GET", "/api/v1/queries", Q_QUEUE, api=True),
    Case("GET", "/api/v1/queries?centre={centre}", Q_READ, api=True),
    Case(
        "POST",
        "/api/v1/queries",
        Q_RAISE,
        api=True,
        json={
            "patient_id": "{pid}",
            "sheet": "labs",
            "record_id": "{lab}",
            "field": "value",
            "text": "",
        },
    ),
    Case("GET", "/api/v1/queries/{query}", Q_READ, api=True),
    Case(
        "POST",
        "/api/v1/queries/{query}/answer",
        Q_ANSWER,
        api=True,
        json={"text": "", "version": 1},
    ),
    Case(
        "POST",
        "/api/v1/queries/{query}/close",
        Q_CLOSE,
        api=True,
        json={"text": TOO_LONG, "version": 1},
    ),
    Case(
        "POST",
        "/api/v1/queries/{query}/reopen",
        Q_REOPEN,
        api=True,
        json={"text": "why", "version": 1},
    ),
    Case("GET", "/api/v1/quality", EVERYONE, api=True),
    Case("GET", "/api/v1/quality?centre={centre}", READ, api=True),
    Case("GET", "/account/notifications", EVERYONE),
    Case(
        "POST",
        "/account/notifications",
        dict.fromkeys(SIGNED_IN, (422, 422)),
        form={"email": "not an address", "frequency": "daily"},
    ),
]

# the dashboard (home page) and acting on a patient's safety signals (issue 12)
DASH_LIST = {**READ, "analyst": (403, 403)}  # the patients behind a number: never for analysts
SIGNAL_ACT = {"admin": (EDIT_OK, EDIT_OK), "centre_editor": (EDIT_OK, 404),
              "centre_viewer": (403, 404), "analyst": (403, 403), "monitor": (EDIT_OK, EDIT_OK)}  # fmt: skip
CASES += [
    Case("GET", "/?as_of=2026-01-31", EVERYONE),
    Case("GET", "/?as_of=31/01/2026", dict.fromkeys(SIGNED_IN, (400, 400))),
    Case("GET", "/?centre={centre}&show=overdue", DASH_LIST),
    Case("GET", "/?centre={centre}&show=signals", DASH_LIST),
    Case("GET", "/patients/{pid}?as_of=2024-06-01", READ),
    # refused: 403/404; permitted: the comment is refused (422), nothing changes
    Case("POST", "/patients/{pid}/signals/{signal}/acknowledge", SIGNAL_ACT,
         form={"comment": "", "version": "1"}),
    Case("POST", "/patients/{pid}/signals/{signal}/close", SIGNAL_ACT,
         form={"comment": TOO_LONG, "version": "1"}),
]  # fmt: skip

# Routes covered by their own tests rather than the matrix.
ELSEWHERE = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
             ("GET", "/api/v1/openapi.json")}  # fmt: skip


def _route_key(method: str, path: str) -> tuple[str, str]:
    import re

    bare = path.split("?")[0]
    bare = bare.replace("{pid}", "{patient_id}").replace("{lab}", "{pk}")
    bare = re.sub(r"/labs(?=/|$)", "/{sheet}", bare)
    bare = bare.replace("/999999/", "/{token_pk}/").replace("{query}", "{query_id}")
    bare = bare.replace("{signal}", "{signal_id}")
    if bare.startswith("/api/"):
        bare = bare.replace("{pk}", "{record_id}")
    return method, bare


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {
        (m, r.path)
        for r in app.routes
        for m in getattr(r, "methods", set()) or set()
        if m != "HEAD" and hasattr(r, "methods")
    }
    covered = {_route_key(c.method, c.path) for c in CASES} | ELSEWHERE
    assert routes - covered == set(), "routes without an authorization-matrix row"


def _ids(url: str) -> dict[str, dict[str, str]]:
    with db.open_session(url) as session:
        out = {}
        for where, pid, centre in (("own", OWN_PATIENT, OWN), ("other", OTHER_PATIENT, OTHER)):
            lab = session.scalar(
                select(LabResult.id).join(Patient).where(Patient.patient_id == pid).limit(1)
            )
            out[where] = {
                "pid": pid,
                "centre": centre,
                "lab": str(lab),
                "query": str(_a_query(session, pid)),
                "signal": str(_a_signal(session, pid)),
            }
        session.commit()
        return out


def _a_query(session: Session, pid: str) -> int:
    """An open data query on the patient's first lab value (quality branch)."""
    from jakreg.queries.service import raise_query
    from jakreg.store.users import Role
    from jakreg.web.scope import Principal

    patient = session.scalars(select(Patient).where(Patient.patient_id == pid)).one()
    lab = session.scalars(select(LabResult).where(LabResult.patient_pk == patient.id)).first()
    assert lab is not None
    setup = Principal(0, "setup", Role.admin, frozenset())
    centre = OWN if pid == OWN_PATIENT else OTHER
    return raise_query(session, setup, patient=patient, centre=centre, sheet="labs",
                       record_pk=lab.id, field="value", text="matrix").id  # fmt: skip


def _a_signal(session: Session, pid: str) -> int:
    """An open safety signal of the patient (the seeded ALT > 3x ULN), derived as `jakreg signals` does."""
    from jakreg.monitoring.signals import derive_signals
    from jakreg.store.signal_tables import SafetySignal

    derive_signals(session, user="setup")
    found = session.scalar(
        select(SafetySignal.id).join(Patient).where(Patient.patient_id == pid).limit(1)
    )
    assert found is not None, f"the seeded study gives {pid} no safety signal"
    return found


def _unlock_all(url: str) -> None:
    with db.open_session(url) as session:
        session.execute(update(Patient).values(locked_by=None, locked_at=None))
        session.commit()


def _fill(text: str, ids: dict[str, str]) -> str:
    for k, v in ids.items():
        text = text.replace("{" + k + "}", v)
    return text


def _send(
    case: Case, client: TestClient, ids: dict[str, str], token: str | None, csrf: str
) -> tuple[int, str]:
    path = _fill(case.path, ids)
    if case.api:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = None
        if case.json is not None:
            top = {k: _fill(v, ids) if isinstance(v, str) else v for k, v in case.json.items()}
            values = case.json.get("values")
            filled = {k: _fill(v, ids) if isinstance(v, str) else v
                      for k, v in (values or {}).items()}  # type: ignore[union-attr]  # fmt: skip
            body = {**top, "values": filled} if "values" in case.json else top
        r = client.request(case.method, path, json=body, headers=headers)
        return r.status_code, r.text
    if case.method == "GET":
        r = client.get(path)
        return r.status_code, r.text if "spreadsheet" not in r.headers.get(
            "content-type", ""
        ) else ""
    data = {k: _fill(v, ids) for k, v in (case.form or {}).items()}
    data["csrf_token"] = csrf
    files = {"file": ("notes.txt", b"not a workbook", "text/plain")} if case.upload else None
    r = client.post(path, data=data, files=files)
    return r.status_code, r.text


def _expected_anonymous(case: Case) -> int:
    if case.api:
        return 401
    return 303


def test_authorization_matrix(
    app: FastAPI, seeded_url: str, clients: dict[str, TestClient], tokens: dict[str, str]
) -> None:
    ids = _ids(seeded_url)
    csrf = {role: page_csrf(c) for role, c in clients.items() if role != "anonymous"}
    failures: list[str] = []
    leaks: list[str] = []
    for case in CASES:
        for role in ROLES:
            for i, where in enumerate(WHERE):
                if role == "anonymous":
                    expected = _expected_anonymous(case)
                    if case.path == "/" and not case.api:
                        expected = 303
                else:
                    expected = case.expect[role][i]
                status, body = _send(
                    case, clients[role], ids[where], tokens.get(role), csrf.get(role, "")
                )
                if status != expected:
                    failures.append(
                        f"{case.method} {case.path} as {role} ({where}): {status}, "
                        f"expected {expected}: {body[:200]}"
                    )
                if case.path.endswith("/lock"):
                    _unlock_all(seeded_url)
                leaks.extend(_leaks(role, f"{case.method} {case.path} ({where})", body))
    assert failures == []
    assert leaks == []


def _leaks(role: str, what: str, body: str) -> list[str]:
    forbidden: list[str] = []
    if role in ("centre_editor", "centre_viewer", "anonymous"):
        forbidden += [OTHER_LOCAL_ID, OTHER_MARKER, "Test centre Madrid"]
    if role in ("analyst", "monitor", "anonymous"):
        forbidden += [OWN_LOCAL_ID, OTHER_LOCAL_ID]
    return [f"{what} as {role} shows {text!r}" for text in forbidden if text in body]


@pytest.mark.parametrize("role", ["centre_editor", "centre_viewer"])
def test_centre_users_see_only_their_patients(clients: dict[str, TestClient], role: str) -> None:
    html = clients[role].get("/patients").text
    assert OWN_PATIENT in html
    assert OTHER_PATIENT not in html


def test_analysts_see_all_patients_without_local_ids(clients: dict[str, TestClient]) -> None:
    html = clients["analyst"].get("/patients").text
    assert OWN_PATIENT in html
    assert OTHER_PATIENT in html
    assert OWN_LOCAL_ID not in html
    assert OTHER_LOCAL_ID not in html
    # searching by a local id finds nothing for an analyst
    assert OWN_PATIENT not in clients["analyst"].get(f"/patients?q={OWN_LOCAL_ID}").text
