"""The audit page and API show an import's batch events row by row, each caller only their centres'."""

from __future__ import annotations

from fastapi import FastAPI

from tests.web.conftest import login
from tests.web.webdata import OTHER_LOCAL_ID, OTHER_PATIENT, OWN_LOCAL_ID, OWN_PATIENT


def test_a_centre_user_sees_the_imported_rows_of_their_centre_only(app: FastAPI) -> None:
    page = login(app, "eddie").get("/audit?entity=patients&action=create")
    assert page.status_code == 200
    assert OWN_PATIENT in page.text
    assert OWN_LOCAL_ID in page.text
    assert OTHER_PATIENT not in page.text
    assert OTHER_LOCAL_ID not in page.text


def test_an_admin_sees_every_centres_imported_rows_and_can_filter_by_patient(app: FastAPI) -> None:
    client = login(app, "ada")
    page = client.get("/audit?entity=patients")
    assert OWN_PATIENT in page.text
    assert OTHER_PATIENT in page.text
    one = client.get(f"/audit?patient_id={OTHER_PATIENT}&action=create")
    assert OTHER_PATIENT in one.text
    assert OWN_PATIENT not in one.text
