"""The database as a centre's user may know it: other centres' patients and their rows do not exist.

A check that answered "patient S03 belongs to centre SYN-B" would let a centre enumerate the pseudonyms and
centres of the others. Behind a ``CentreView`` such a patient is, for every check, a patient that is not
there; a new patient whose pseudonym another centre holds is refused with ``PSEUDONYM_UNAVAILABLE``, the
same words as for any pseudonym the caller may not use (with ``series_only``: every new pseudonym outside
the centre's own series ``<CENTRE>-<number>``, held elsewhere or not, so being refused tells nothing).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jakreg.ingest.checks import Existing, Key, KnownPatient

PSEUDONYM_UNAVAILABLE = "this patient_id cannot be used for a new patient of centre {centre}"
PSEUDONYM_UNAVAILABLE_FIX = (
    "leave patient_id blank and the server allocates the next one of the centre's series "
    "({centre}-0001, {centre}-0002, ...), or use a pseudonym of that series"
)


def series_of(centre: str) -> re.Pattern[str]:
    """The pseudonyms of ``centre``'s series (``SYN-A-0001``). Never another centre's: ``SYN-0001`` is
    not in ``SYN-A``'s series and ``SYN-A-0001`` not in ``SYN``'s, since the number is digits only."""
    return re.compile(re.escape(centre) + r"-[0-9]+")


def in_series(centre: str, patient_id: str) -> bool:
    return series_of(centre).fullmatch(patient_id) is not None


class CentreView:
    """``Existing`` limited to ``centres``: what a user of those centres may know exists."""

    def __init__(
        self, inner: Existing, centres: frozenset[str], *, series_only: bool = False
    ) -> None:
        self.inner = inner
        self.centres = centres
        self.series_only = series_only

    def has(self, sheet: str, key: Key) -> bool:
        from jakreg.model.sheets import SHEETS_BY_NAME

        columns = SHEETS_BY_NAME[sheet].key
        if len(key) != len(columns):
            return False
        if sheet == "centres":
            return key[0] in self.centres and self.inner.has(sheet, key)
        if sheet == "patients":
            return self.patient(str(key[0])) is not None
        if "patient_id" in columns and self.patient(str(key[columns.index("patient_id")])) is None:
            return False
        return self.inner.has(sheet, key)

    def patient(self, patient_id: str) -> KnownPatient | None:
        found = self.inner.patient(patient_id)
        return found if found is not None and found.centre in self.centres else None

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        if centre not in self.centres:
            return None
        return self.inner.patient_with_local_id(centre, local_id)

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        if self.patient(patient_id) is None:
            return None
        return self.inner.course(patient_id, course_no)

    def unavailable(self, patient_id: str, centre: str) -> bool:
        """May the caller not give ``patient_id`` to a new patient of ``centre``? True when another
        centre holds it, and (``series_only``) for any new pseudonym outside ``centre``'s series."""
        found = self.inner.patient(patient_id)
        if found is not None:
            return found.centre not in self.centres
        return self.series_only and not in_series(centre, patient_id)
