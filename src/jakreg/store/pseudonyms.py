"""Pseudonyms allocated by the server, per centre: ``<CENTRE>-0001``, ``<CENTRE>-0002``, ...

A centre's users never choose a pseudonym that another centre may hold: the server hands out the next
number of the centre's own series, so two centres cannot collide and nobody learns, by being refused,
that an id exists elsewhere. The counter is one row per centre, bumped by one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite 3.35+ and PostgreSQL): on PostgreSQL the row
stays locked until the transaction ends, on SQLite the whole database is (one writer at a time), so two
concurrent creations never get the same number; a creation that is rolled back gives its number back.
Numbers already taken (a pseudonym typed in a workbook in the same form) are skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jakreg.ingest.centre_view import in_series, series_of  # noqa: F401 (the series)
from jakreg.store.tables import Centre, Patient, PseudonymCounter

DIGITS = 4  # shown at least this wide; the series does not stop at 9999


class UnknownCentre(LookupError):
    """No centre has this code."""


def shown(centre: str, number: int) -> str:
    return f"{centre}-{number:0{DIGITS}d}"


def _bump(session: Session, centre_pk: int) -> int:
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(PseudonymCounter)
        .values(centre_pk=centre_pk, last_no=1)
        .on_conflict_do_update(
            index_elements=[PseudonymCounter.centre_pk],
            set_={"last_no": PseudonymCounter.last_no + 1},
        )
        .returning(PseudonymCounter.last_no)
    )
    return int(session.execute(stmt).scalar_one())


def allocate(session: Session, centre: str) -> str:
    """The next free pseudonym of ``centre``'s series, in the caller's transaction."""
    centre_pk = session.scalar(select(Centre.id).where(Centre.centre == centre))
    if centre_pk is None:
        raise UnknownCentre(centre)
    while True:
        candidate = shown(centre, _bump(session, centre_pk))
        taken = session.scalar(select(Patient.id).where(Patient.patient_id == candidate))
        if taken is None:
            return candidate
