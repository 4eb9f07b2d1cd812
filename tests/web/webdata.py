"""A two-centre study and one account per role, for the server tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jakreg.store import db
from jakreg.study import import_path
from jakreg.web import accounts
from jakreg.web.settings import Settings
from tests.studydata import BASE, write_study

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
OWN, OTHER = "BCN", "MAD"
OWN_PATIENT, OTHER_PATIENT = "BCN-01", "MAD-01"
# Values that must never reach a caller outside their centre (or any analyst).
OWN_LOCAL_ID, OTHER_LOCAL_ID = "LOCAL-BCN-SECRET", "LOCAL-MAD-SECRET"
OTHER_MARKER = "madrid only marker"

# role -> (user name, centres)
USERS: dict[str, tuple[str, list[str]]] = {
    "admin": ("ada", []),
    "centre_editor": ("eddie", [OWN]),
    "centre_viewer": ("vera", [OWN]),
    "analyst": ("anna", []),
    "monitor": ("mona", []),
}


def two_centre_study() -> dict[str, list[dict[str, Any]]]:
    sheets = {k: [dict(r) for r in v] for k, v in BASE.items()}
    sheets["centres"].append({"centre": OTHER, "name": "Test centre Madrid", "country": "ES"})
    sheets["patients"][0]["local_id"] = OWN_LOCAL_ID
    other: dict[str, list[dict[str, Any]]] = {}
    for sheet, rows in BASE.items():
        if sheet == "centres":
            continue
        other[sheet] = []
        for row in rows:
            copy = dict(row, patient_id=OTHER_PATIENT)
            if sheet == "patients":
                copy.update(centre=OTHER, local_id=OTHER_LOCAL_ID)
            if sheet == "courses":
                copy["indication"] = OTHER_MARKER
            other[sheet].append(copy)
    for sheet, rows in other.items():
        sheets[sheet].extend(rows)
    return sheets


def seed(url: str, folder: Path) -> None:
    import_path(write_study(folder, two_centre_study()), url, actor="setup")
    with db.open_session(url) as session:
        for role, (name, centres) in USERS.items():
            accounts.create_user(
                session, username=name, role=role, centres=centres, password=PASSWORD, actor="setup"
            )
        accounts.create_user(
            session, username="otto", role="centre_editor", centres=[OTHER], password=PASSWORD,
            actor="setup",
        )  # fmt: skip
        session.commit()


def settings_for(url: str, *, dev: bool = False) -> Settings:
    return Settings(db_url=url, secret_key=SECRET, dev=dev)
