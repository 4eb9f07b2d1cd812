"""The web /export writes text a centre editor typed as text, never as a live formula."""

from __future__ import annotations

import io

from fastapi import FastAPI
from openpyxl import load_workbook

from tests.web.conftest import login, page_csrf


def test_web_export_writes_hostile_text_as_text(app: FastAPI, seeded_url: str) -> None:
    client = login(app, "eddie")
    hostile = (
        "patient_id,course_no,drug,start_date,azole_comedication,indication,prior_therapies\n"
        'BCN-01,1,ruxolitinib,2021-03-01,no,=HYPERLINK(1),"@SUM(A1:A2)"\n'
    )
    r = client.post("/upload", data={"centre": "BCN", "csrf_token": page_csrf(client)},
                    files={"file": ("courses.csv", hostile.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.get("/export")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    cells = [c for row in wb["courses"].iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert len(cells) == 1
    assert [c.value for row in wb["courses"].iter_rows() for c in row if c.value == "@SUM(A1:A2)"]
    assert all(c.data_type == "s" for c in cells)
