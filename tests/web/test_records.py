"""Data entry through pages and API: the importer's words next to the field, 409 on a stale edit,
locking, all-or-nothing upload, and an audit event for each change (the chain still verifies)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from jakreg.store import db
from jakreg.store.tables import AuditEvent, LabResult, Patient
from jakreg.study import replay_audit, verify_audit
from jakreg.web import errors
from tests.web.conftest import BASE_URL, login, page_csrf
from tests.web.webdata import OWN_LOCAL_ID, OWN_PATIENT

NEW_LAB = {"date": "2021-05-01", "analyte": "alt", "value": "250", "unit": "U/L", "uln": "40"}


def _api(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})


def _audit(url: str, **where: str) -> list[AuditEvent]:
    with db.open_session(url) as session:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEvent, k) == v)
        return list(session.scalars(stmt))


def test_form_shows_the_importers_words_next_to_the_field(app: FastAPI) -> None:
    client = login(app, "eddie")
    csrf = page_csrf(client)
    r = client.post(
        f"/patients/{OWN_PATIENT}/labs/new",
        data={**NEW_LAB, "date": "2021-13-01", "value": "lots", "csrf_token": csrf},
    )
    assert r.status_code == 422
    html = r.text
    # the same words `jakreg validate` prints for these cells
    assert (
        '<p class="field-error" id="error-date" role="alert">not a calendar date '
        "(value 2021-13-01). Fix: write a real date as YYYY-MM-DD</p>"
    ) in html
    assert "not a number (value lots). Fix: write a number only (e.g. 12.5), without units" in html
    assert 'value="lots"' in html  # what was typed is kept


def test_cross_row_checks_apply_to_forms(app: FastAPI) -> None:
    client = login(app, "eddie")
    r = client.post(
        f"/patients/{OWN_PATIENT}/labs/new",
        data={**NEW_LAB, "date": "2010-01-01", "csrf_token": page_csrf(client)},
    )
    assert r.status_code == 422
    assert "the date is before the patient&#39;s birth (2012-05)" in r.text


def test_create_edit_delete_are_audited(app: FastAPI, seeded_url: str) -> None:
    client = login(app, "eddie")
    csrf = page_csrf(client)
    r = client.post(f"/patients/{OWN_PATIENT}/labs/new", data={**NEW_LAB, "csrf_token": csrf})
    assert r.status_code == 303, r.text
    with db.open_session(seeded_url) as session:
        lab = session.scalars(select(LabResult).where(LabResult.value == 250)).one()
        assert lab.ctcae_grade is not None  # derived values follow a form entry too
        pk, version = lab.id, lab.version
    r = client.post(
        f"/patients/{OWN_PATIENT}/labs/{pk}/edit",
        data={**NEW_LAB, "value": "260", "version": str(version), "csrf_token": csrf},
    )
    assert r.status_code == 303, r.text
    r = client.post(
        f"/patients/{OWN_PATIENT}/labs/{pk}/delete",
        data={"version": str(version + 1), "csrf_token": csrf},
    )
    assert r.status_code == 303, r.text
    events = _audit(seeded_url, entity="labs", actor="eddie")
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert json.loads(events[1].before or "{}")["value"] == 250
    assert json.loads(events[1].after or "{}")["value"] == 260
    assert events[2].after is None
    assert events[2].centre == "BCN"
    assert verify_audit(seeded_url)[1] is None
    assert replay_audit(seeded_url).differences == []  # the data are what the trail says


def test_a_stale_edit_gets_409(app: FastAPI, seeded_url: str) -> None:
    alice, bob = login(app, "eddie"), login(app, "ada")
    with db.open_session(seeded_url) as session:
        lab = session.scalars(select(LabResult).join(Patient).where(
            Patient.patient_id == OWN_PATIENT)).first()  # fmt: skip
        assert lab is not None
        pk, version = lab.id, lab.version
    form = {"date": lab.date.isoformat(), "analyte": lab.analyte, "value": "33",
            "unit": lab.unit, "uln": "40", "version": str(version)}  # fmt: skip
    r = alice.post(f"/patients/{OWN_PATIENT}/labs/{pk}/edit",
                   data={**form, "csrf_token": page_csrf(alice)})  # fmt: skip
    assert r.status_code == 303
    r = bob.post(f"/patients/{OWN_PATIENT}/labs/{pk}/edit",
                 data={**form, "value": "34", "csrf_token": page_csrf(bob)})  # fmt: skip
    assert r.status_code == 409
    assert errors.STALE.format(sheet="labs", had=version, now=version + 1) in r.text
    with db.open_session(seeded_url) as session:
        assert session.get(LabResult, pk).value == 33  # type: ignore[union-attr]


def test_api_stale_update_gets_409(app: FastAPI, tokens: dict[str, str]) -> None:
    api = _api(app, tokens["centre_editor"])
    labs = api.get(f"/api/v1/patients/{OWN_PATIENT}/labs").json()
    lab = labs[0]
    values = {k: v for k, v in lab["values"].items() if k != "patient_id"}
    first = api.put(f"/api/v1/patients/{OWN_PATIENT}/labs/{lab['id']}",
                    json={"values": {**values, "value": 31}, "version": lab["version"]})  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json()["version"] == lab["version"] + 1
    second = api.put(f"/api/v1/patients/{OWN_PATIENT}/labs/{lab['id']}",
                     json={"values": {**values, "value": 32}, "version": lab["version"]})  # fmt: skip
    assert second.status_code == 409
    assert second.json() == {
        "detail": errors.STALE.format(sheet="labs", had=lab["version"], now=lab["version"] + 1)
    }


def test_api_validation_lists_problems_in_the_importers_words(
    app: FastAPI, tokens: dict[str, str]
) -> None:
    api = _api(app, tokens["admin"])
    r = api.post(
        f"/api/v1/patients/{OWN_PATIENT}/labs", json={"values": {**NEW_LAB, "unit": "furlongs"}}
    )
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert [(p["column"], p["message"]) for p in problems] == [
        ("unit", "this unit is not known for alt")
    ]
    r = api.post(f"/api/v1/patients/{OWN_PATIENT}/labs", json={"values": NEW_LAB})
    assert r.status_code == 201, r.text
    r = api.post(f"/api/v1/patients/{OWN_PATIENT}/labs", json={"values": NEW_LAB})
    assert r.status_code == 422
    assert r.json()["problems"][0]["message"] == errors.KEY_TAKEN.format(
        sheet="labs", columns="date, analyte"
    )


def test_api_creates_a_patient(app: FastAPI, tokens: dict[str, str], seeded_url: str) -> None:
    api = _api(app, tokens["centre_editor"])
    body = {"values": {"patient_id": "BCN-02", "centre": "BCN", "sex": "male",
                       "birth_year_month": "2015-02", "local_id": "H-99"}}  # fmt: skip
    r = api.post("/api/v1/patients", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["values"]["local_id"] == "H-99"
    analyst = _api(app, tokens["analyst"]).get("/api/v1/patients/BCN-02").json()
    assert "local_id" not in analyst["values"]
    assert [e.action for e in _audit(seeded_url, patient_id="BCN-02")] == ["create"]


def test_locking(app: FastAPI, seeded_url: str) -> None:
    editor, admin = login(app, "eddie"), login(app, "ada")
    r = editor.post(f"/patients/{OWN_PATIENT}/lock", data={"csrf_token": page_csrf(editor)})
    assert r.status_code == 303
    page = admin.get(f"/patients/{OWN_PATIENT}").text
    assert "Locked by eddie since" in page
    # read-only for everyone, the admin included
    for client in (editor, admin):
        r = client.post(f"/patients/{OWN_PATIENT}/labs/new",
                        data={**NEW_LAB, "csrf_token": page_csrf(client)})  # fmt: skip
        assert r.status_code == 423
        assert f"patient {OWN_PATIENT} is locked by eddie since" in r.text
    # only an admin unlocks
    r = editor.post(f"/patients/{OWN_PATIENT}/unlock", data={"csrf_token": page_csrf(editor)})
    assert r.status_code == 403
    assert errors.ADMIN_ONLY in r.text
    r = admin.post(f"/patients/{OWN_PATIENT}/unlock", data={"csrf_token": page_csrf(admin)})
    assert r.status_code == 303
    events = _audit(seeded_url, patient_id=OWN_PATIENT)
    assert [(e.action, e.actor) for e in events if e.action in ("lock", "unlock")] == [
        ("lock", "eddie"),
        ("unlock", "ada"),
    ]
    r = editor.post(f"/patients/{OWN_PATIENT}/labs/new",
                    data={**NEW_LAB, "csrf_token": page_csrf(editor)})  # fmt: skip
    assert r.status_code == 303
    assert verify_audit(seeded_url)[1] is None
    assert replay_audit(seeded_url).differences == []  # lock and unlock replayed too


def test_upload_is_all_or_nothing(app: FastAPI, seeded_url: str, tmp_path: Path) -> None:
    client = login(app, "eddie")
    good = "patient_id,date,analyte,value,unit,uln\nBCN-01,2022-01-05,alt,45,U/L,40\n"
    bad = good + "BCN-01,2022-02-30,alt,45,U/L,40\n"
    r = client.post("/upload", data={"centre": "BCN", "csrf_token": page_csrf(client)},
                    files={"file": ("labs.csv", bad.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 422
    assert "not a calendar date" in r.text
    assert "nothing was written" in r.text
    with db.open_session(seeded_url) as session:
        assert session.scalar(select(LabResult.id).where(LabResult.value == 45)) is None
    r = client.post("/upload", data={"centre": "BCN", "csrf_token": page_csrf(client)},
                    files={"file": ("labs.csv", good.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "1 created, 0 updated" in r.text
    assert replay_audit(seeded_url).differences == []
    other = "patient_id,date,analyte,value,unit,uln\nMAD-01,2022-01-05,alt,45,U/L,40\n"
    r = client.post("/upload", data={"centre": "BCN", "csrf_token": page_csrf(client)},
                    files={"file": ("labs.csv", other.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 422
    # another centre's patient is, to the checks, a patient that is not there (no centre named)
    assert "refers to patients MAD-01, which is neither in the file nor in the database" in r.text
    assert "belongs to centre" not in r.text


def test_export_is_audited_and_scoped(app: FastAPI, seeded_url: str) -> None:
    client = login(app, "vera")
    r = client.get("/export")
    assert r.status_code == 200
    assert r.content[:2] == b"PK"  # an xlsx
    events = _audit(seeded_url, action="export")
    assert [(e.actor, e.centre) for e in events] == [("vera", "BCN")]
    assert json.loads(events[0].after or "{}") == {"centre": "BCN", "local_ids": True}
    analyst = login(app, "anna")
    assert analyst.get("/export").status_code == 200
    assert json.loads(_audit(seeded_url, action="export")[-1].after or "{}") == {
        "centre": "pooled", "local_ids": False,
    }  # fmt: skip


def test_report_download_is_audited_scoped_and_holds_no_local_ids(
    app: FastAPI, seeded_url: str
) -> None:
    import io
    import zipfile

    client = login(app, "vera")
    r = client.get("/report")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        assert {"report.html", "report.pdf", "results.json"} <= names
        results = zf.read("results.json").decode()
    assert OWN_LOCAL_ID not in results
    events = _audit(seeded_url, action="report")
    assert [(e.actor, e.centre) for e in events] == [("vera", "BCN")]
    assert json.loads(events[0].after or "{}")["centre"] == "BCN"
    assert client.get("/report?centre=MAD").status_code == 403


def test_pages_escape_what_centres_typed(app: FastAPI) -> None:
    client = login(app, "eddie")
    r = client.post(f"/patients/{OWN_PATIENT}/hsct/new",
                    data={"date": "2022-03-01", "indication": "<script>alert(1)</script>",
                          "csrf_token": page_csrf(client)})  # fmt: skip
    assert r.status_code == 303
    page = client.get(f"/patients/{OWN_PATIENT}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_patient_page_shows_the_timeline_with_ctcae_grades(app: FastAPI) -> None:
    page = login(app, "vera").get(f"/patients/{OWN_PATIENT}").text
    assert "Course 1 started: ruxolitinib" in page
    assert "grade 2" in page or "grade 1" in page
    assert "Response (course 1): PR" in page
