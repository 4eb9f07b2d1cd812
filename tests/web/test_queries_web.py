"""Data queries through the pages and the API (TestClient): the whole loop, form errors, scoping."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jakreg.store import db
from jakreg.store.audit import verify_chain
from jakreg.store.tables import LabResult, Patient
from tests.web.conftest import csrf_of, page_csrf
from tests.web.webdata import OTHER_PATIENT, OWN_LOCAL_ID, OWN_PATIENT


def _lab(url: str, pid: str = OWN_PATIENT) -> int:
    with db.open_session(url) as s:
        lab = s.scalar(select(LabResult.id).join(Patient).where(Patient.patient_id == pid).limit(1))
        assert lab is not None
        return lab


def test_raise_answer_close_through_the_pages(
    app: FastAPI, seeded_url: str, clients: dict[str, TestClient]
) -> None:
    mona, eddie = clients["monitor"], clients["centre_editor"]
    lab = _lab(seeded_url)
    form = mona.get(f"/patients/{OWN_PATIENT}/new-query?sheet=labs&record={lab}&field=value")
    assert form.status_code == 200
    r = mona.post(f"/patients/{OWN_PATIENT}/new-query",
                  data={"csrf_token": csrf_of(form.text), "sheet": "labs", "record": str(lab),
                        "field": "value", "text": "Is this ALT right?"})  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    page = eddie.get(url)
    assert "Is this ALT right?" in page.text
    assert f"/patients/{OWN_PATIENT}/labs/{lab}/edit" in page.text  # the correction link
    # an empty answer is a form error on the same page, nothing changes
    r = eddie.post(
        f"{url}/answer", data={"csrf_token": csrf_of(page.text), "text": " ", "version": "1"}
    )
    assert r.status_code == 422
    assert "the message must have 1 to 2000 characters (it has 0)" in r.text
    r = eddie.post(
        f"{url}/answer", data={"csrf_token": csrf_of(page.text), "text": "yes", "version": "1"}
    )
    assert r.status_code == 303
    # a second answer from a stale page is refused
    r = eddie.post(
        f"{url}/answer", data={"csrf_token": csrf_of(page.text), "text": "y", "version": "1"}
    )
    assert r.status_code == 409
    page = mona.get(url)
    r = mona.post(
        f"{url}/close", data={"csrf_token": csrf_of(page.text), "text": "", "version": "2"}
    )
    assert r.status_code == 303
    assert 'id="query-state">closed' in mona.get(url).text
    patient_page = mona.get(f"/patients/{OWN_PATIENT}").text
    assert "?1" in patient_page  # the flag next to the field
    assert OWN_LOCAL_ID not in patient_page
    queue = eddie.get("/queries?state=closed").text
    assert OWN_PATIENT in queue
    with db.open_session(seeded_url) as s:
        assert verify_chain(s) is None


def test_api_loop_and_scoping(app: FastAPI, seeded_url: str, tokens: dict[str, str]) -> None:
    client = TestClient(app, base_url="https://testserver")

    def h(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    body = {"patient_id": OTHER_PATIENT, "sheet": "labs", "record_id": _lab(seeded_url, OTHER_PATIENT),
            "field": "value", "text": "check"}  # fmt: skip
    r = client.post("/api/v1/queries", json=body, headers=h("monitor"))
    assert r.status_code == 201, r.text
    q = r.json()
    assert (q["state"], q["patient_id"], q["raised_by"]) == ("open", OTHER_PATIENT, "mona")
    # the BCN editor does not see a Madrid query; the analyst sees no queries at all
    assert client.get(f"/api/v1/queries/{q['id']}", headers=h("centre_editor")).status_code == 404
    assert client.get("/api/v1/queries", headers=h("centre_editor")).json() == []
    assert client.get("/api/v1/queries", headers=h("analyst")).status_code == 403
    r = client.post(
        f"/api/v1/queries/{q['id']}/close", json={"text": "", "version": 1}, headers=h("monitor")
    )
    assert r.json()["state"] == "closed"
    missing = {**body, "record_id": 999999}
    r = client.post("/api/v1/queries", json=missing, headers=h("monitor"))
    assert r.status_code == 404
    assert r.json()["detail"] == f"there is no labs record 999999 for patient {OTHER_PATIENT}"
    findings = client.get("/api/v1/quality", headers=h("monitor")).json()
    assert all(set(f) >= {"id", "rule", "patient_id", "field", "fix"} for f in findings)


def test_bad_csrf_is_refused(clients: dict[str, TestClient], seeded_url: str) -> None:
    page_csrf(clients["monitor"])
    r = clients["monitor"].post(f"/patients/{OWN_PATIENT}/new-query",
                                data={"csrf_token": "forged", "sheet": "labs", "field": "value",
                                      "record": str(_lab(seeded_url)), "text": "x"})  # fmt: skip
    assert r.status_code == 403


def test_notification_preferences_on_the_account_page(clients: dict[str, TestClient]) -> None:
    eddie = clients["centre_editor"]
    page = eddie.get("/account/notifications")
    assert 'name="frequency"' in page.text
    csrf = csrf_of(page.text)
    r = eddie.post(
        "/account/notifications", data={"csrf_token": csrf, "email": "", "frequency": "daily"}
    )
    assert r.status_code == 422
    assert "give an e-mail address, or choose none" in r.text
    r = eddie.post(
        "/account/notifications",
        data={"csrf_token": csrf, "email": "e@x.test", "frequency": "hourly"},
    )
    assert r.status_code == 422
    assert "frequency &#39;hourly&#39;: use one of immediate, daily, none" in r.text  # autoescaped
    r = eddie.post(
        "/account/notifications",
        data={"csrf_token": csrf, "email": "e@x.test", "frequency": "daily"},
    )
    assert r.status_code == 200
    assert "Saved." in r.text
    assert 'value="e@x.test"' in eddie.get("/account/notifications").text


def test_a_locked_record_can_be_queried_but_not_corrected(
    seeded_url: str, clients: dict[str, TestClient]
) -> None:
    mona, eddie, ada = clients["monitor"], clients["centre_editor"], clients["admin"]
    lab = _lab(seeded_url)
    r = eddie.post(f"/patients/{OWN_PATIENT}/lock", data={"csrf_token": page_csrf(eddie)})
    assert r.status_code == 303
    form = mona.get(f"/patients/{OWN_PATIENT}/new-query?sheet=labs&record={lab}&field=value")
    r = mona.post(f"/patients/{OWN_PATIENT}/new-query",
                  data={"csrf_token": csrf_of(form.text), "sheet": "labs", "record": str(lab),
                        "field": "value", "text": "Check please"})  # fmt: skip
    assert r.status_code == 303
    edit = eddie.get(f"/patients/{OWN_PATIENT}/labs/{lab}/edit")
    assert edit.status_code == 423
    assert (
        ada.post(f"/patients/{OWN_PATIENT}/unlock", data={"csrf_token": page_csrf(ada)}).status_code
        == 303
    )
    assert eddie.get(f"/patients/{OWN_PATIENT}/labs/{lab}/edit").status_code == 200
