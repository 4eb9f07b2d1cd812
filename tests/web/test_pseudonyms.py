"""No cross-centre existence oracle: creating a patient under another centre's pseudonym is answered as any
unusable pseudonym (API, upload, form), and the server allocates pseudonyms per centre, distinct under
concurrent creation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jakreg.ingest.centre_view import PSEUDONYM_UNAVAILABLE, PSEUDONYM_UNAVAILABLE_FIX
from jakreg.store import db
from jakreg.store.pseudonyms import allocate
from jakreg.store.tables import Centre, Patient
from tests.web.conftest import BASE_URL, login, page_csrf
from tests.web.webdata import OTHER, OTHER_PATIENT, OWN

# another centre's patient; an id nobody holds, of the other centre's series; a free id of no series
HELD_ELSEWHERE, NOBODYS, FREE_LEGACY = OTHER_PATIENT, f"{OTHER}-0077", "S03"
NEW = {"centre": OWN, "sex": "male", "birth_year_month": "2015-02"}
PATIENT_HEADER = "patient_id,centre,sex,birth_year_month\n"


def _api(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})


def _without(problems: list[dict[str, Any]], pid: str) -> list[dict[str, Any]]:
    """The problems with the typed id taken out (each answer echoes the value it was given)."""
    return [{k: v for k, v in p.items() if k != "value"} | {"echo": p["value"] == pid}
            for p in problems]  # fmt: skip


def _pseudonyms(url: str) -> dict[str, str]:
    with db.open_session(url) as session:
        query = select(Patient.patient_id, Centre.centre).join(
            Centre, Centre.id == Patient.centre_pk
        )
        return {str(pid): str(centre) for pid, centre in session.execute(query)}


def test_api_answers_another_centres_id_as_any_unusable_id(
    app: FastAPI, tokens: dict[str, str], seeded_url: str
) -> None:
    api = _api(app, tokens["centre_editor"])
    answers = {}
    for pid in (HELD_ELSEWHERE, NOBODYS, FREE_LEGACY):
        r = api.post("/api/v1/patients", json={"values": {**NEW, "patient_id": pid}})
        assert r.status_code == 422, r.text
        assert OTHER not in r.text.replace(pid, "")  # the other centre is never named
        answers[pid] = _without(r.json()["problems"], pid)
    assert answers[HELD_ELSEWHERE] == answers[NOBODYS] == answers[FREE_LEGACY]
    assert [(p["column"], p["message"], p["fix"]) for p in answers[HELD_ELSEWHERE]] == [
        (
            "patient_id",
            PSEUDONYM_UNAVAILABLE.format(centre=OWN),
            PSEUDONYM_UNAVAILABLE_FIX.format(centre=OWN),
        )
    ]
    assert _pseudonyms(seeded_url)[HELD_ELSEWHERE] == OTHER  # nothing moved
    assert FREE_LEGACY not in _pseudonyms(seeded_url)


def test_admin_still_chooses_any_pseudonym(app: FastAPI, tokens: dict[str, str]) -> None:
    r = _api(app, tokens["admin"]).post(
        "/api/v1/patients", json={"values": {**NEW, "patient_id": FREE_LEGACY}}
    )
    assert r.status_code == 201, r.text


def test_upload_answers_another_centres_id_as_any_unusable_id(app: FastAPI) -> None:
    client = login(app, "eddie")
    pages = {}
    for pid in (HELD_ELSEWHERE, NOBODYS):
        body = f"{PATIENT_HEADER}{pid},{OWN},male,2015-02\n"
        r = client.post("/upload", data={"centre": OWN, "csrf_token": page_csrf(client)},
                        files={"file": ("patients.csv", body.encode(), "text/csv")})  # fmt: skip
        assert r.status_code == 422, r.text
        page = r.text.replace(pid, "<ID>")
        assert PSEUDONYM_UNAVAILABLE.format(centre=OWN) in page
        assert "belongs to centre" not in page
        assert f"{OTHER}" not in page.split("<main", 1)[1]
        pages[pid] = page.split("<main", 1)[1]
    assert pages[HELD_ELSEWHERE] == pages[NOBODYS]


def test_upload_of_a_new_patient_of_the_centres_series_is_accepted(
    app: FastAPI, seeded_url: str
) -> None:
    client = login(app, "eddie")
    body = f"{PATIENT_HEADER}{OWN}-0001,{OWN},male,2015-02\n"
    r = client.post("/upload", data={"centre": OWN, "csrf_token": page_csrf(client)},
                    files={"file": ("patients.csv", body.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200, r.text
    with db.open_session(seeded_url) as session:  # the server's allocation skips the number taken
        assert allocate(session, OWN) == f"{OWN}-0002"
        session.rollback()


def test_form_answers_another_centres_id_as_any_unusable_id(app: FastAPI) -> None:
    client = login(app, "eddie")
    pages = {}
    for pid in (HELD_ELSEWHERE, NOBODYS):
        form = {**NEW, "patient_id": pid, "csrf_token": page_csrf(client)}
        r = client.post("/new-patient", data=form)
        assert r.status_code == 422, r.text
        main = r.text.split("<main", 1)[1].split("</form>", 1)[0]
        main = main.replace(pid, "<ID>").replace(form["csrf_token"], "")
        assert PSEUDONYM_UNAVAILABLE.format(centre=OWN) in main
        pages[pid] = main
    assert pages[HELD_ELSEWHERE] == pages[NOBODYS]


def test_blank_pseudonym_is_allocated_by_the_server(
    app: FastAPI, tokens: dict[str, str], seeded_url: str
) -> None:
    api = _api(app, tokens["centre_editor"])
    first = api.post("/api/v1/patients", json={"values": NEW})
    assert first.status_code == 201, first.text
    assert first.json()["values"]["patient_id"] == f"{OWN}-0001"
    second = api.post("/api/v1/patients", json={"values": {**NEW, "patient_id": ""}})
    assert second.json()["values"]["patient_id"] == f"{OWN}-0002"
    client = login(app, "eddie")
    r = client.post("/new-patient", data={**NEW, "csrf_token": page_csrf(client)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/patients/{OWN}-0003"
    # a refused creation gives its number back (the transaction is rolled back)
    bad = api.post("/api/v1/patients", json={"values": {**NEW, "sex": "sometimes"}})
    assert bad.status_code == 422
    again = api.post("/api/v1/patients", json={"values": NEW})
    assert again.json()["values"]["patient_id"] == f"{OWN}-0004"
    other = _api(app, tokens["admin"]).post(
        "/api/v1/patients", json={"values": {**NEW, "centre": OTHER}}
    )
    assert other.json()["values"]["patient_id"] == f"{OTHER}-0001"  # one series per centre
    assert _pseudonyms(seeded_url)[f"{OTHER}-0001"] == OTHER


def test_concurrent_creations_get_distinct_pseudonyms(
    app: FastAPI, tokens: dict[str, str], seeded_url: str
) -> None:
    n = 8

    def create(_: int) -> tuple[int, str]:
        r = _api(app, tokens["centre_editor"]).post("/api/v1/patients", json={"values": NEW})
        return r.status_code, r.json().get("values", {}).get("patient_id", r.text)

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(create, range(n)))
    assert [status for status, _ in results] == [201] * n, results
    ids = sorted(pid for _, pid in results)
    assert ids == [f"{OWN}-{i:04d}" for i in range(1, n + 1)]
    assert all(_pseudonyms(seeded_url)[pid] == OWN for pid in ids)
