"""What one request needs of the database, by point queries: never a whole table per request.

``jakreg.store.repository`` reads whole tables (the directory of every patient, every key of a sheet): right
for an import of thousands of rows, a full scan per form or API call on the server. Here the same two
interfaces load only the keys a request touches, each with one indexed query:

- ``LazyDirectory`` is a ``Directory`` whose maps fill on first use (pseudonym <-> patient key, centre code
  <-> centre key), so ``to_record``/``from_record`` and the audit code work unchanged;
- ``PointState`` is an ``Existing`` for ``check_study``: ``has``, ``patient``, ``course`` by key.

Both live for one request (one session): nothing here is cached across requests. A ``Scope`` keeps one
``LazyDirectory`` and hands out ``PointState``s sharing it (``Scope.existing``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.ingest.checks import Key, KnownPatient
from jakreg.model.sheets import SHEETS_BY_NAME
from jakreg.store.repository import Directory
from jakreg.store.tables import TABLE_FOR_SHEET, Centre, Patient, TreatmentCourse

K = TypeVar("K")
V = TypeVar("V")


class _LazyMap(dict[K, V]):
    """A dict that asks ``load(key)`` to fill it on a miss (``[]``, ``in``, ``get``)."""

    def __init__(self, load: Callable[[Any], None]) -> None:
        super().__init__()
        self._load = load

    def __missing__(self, key: K) -> V:
        self._load(key)
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        self._load(key)
        return dict.__contains__(self, key)

    def get(self, key: K, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


class LazyDirectory(Directory):
    """``Directory`` for one request: each patient or centre is read when first asked for."""

    def __init__(self, session: Session) -> None:
        # No super().__init__(): it would read every patient.
        self.session = session
        self.patient_pk = _LazyMap(self._patient_by_id)
        self.pseudonym = _LazyMap(self._patient_by_pk)
        self.patient_centre = _LazyMap(self._patient_by_pk)
        self.centre_pk = _LazyMap(self._centre_by_code)
        self.centre_code = _LazyMap(self._centre_by_pk)

    def reload(self) -> None:
        """Nothing to do: what was read cannot change (pseudonyms, centre codes and a patient's centre
        are fixed once saved), and a key not read yet, a new one included, is read when asked for."""

    def forget(self) -> None:
        """Drop everything read so far."""
        for cache in (
            self.patient_pk,
            self.pseudonym,
            self.patient_centre,
            self.centre_pk,
            self.centre_code,
        ):
            cache.clear()

    def remember_patient(self, pk: int, patient_id: str, centre_pk: int) -> None:
        """A patient the caller has just read: no query when its key or pseudonym is asked for."""
        dict.__setitem__(self.patient_pk, patient_id, pk)
        dict.__setitem__(self.pseudonym, pk, patient_id)
        dict.__setitem__(self.patient_centre, pk, self.centre_code[centre_pk])

    def remember_centre(self, pk: int, code: str) -> None:
        """A centre the caller has just read (with a patient): no query when it is asked for."""
        dict.__setitem__(self.centre_pk, code, pk)
        dict.__setitem__(self.centre_code, pk, code)

    def _patient_by_id(self, patient_id: object) -> None:
        if isinstance(patient_id, str):
            self._patients(Patient.patient_id == patient_id)

    def _patient_by_pk(self, pk: object) -> None:
        if isinstance(pk, int):
            self._patients(Patient.id == pk)

    def _patients(self, where: Any) -> None:
        for pk, pid, cpk in self.session.execute(
            select(Patient.id, Patient.patient_id, Patient.centre_pk).where(where)
        ):
            dict.__setitem__(self.patient_pk, pid, pk)
            dict.__setitem__(self.pseudonym, pk, pid)
            dict.__setitem__(self.patient_centre, pk, self.centre_code[cpk])

    def _centre_by_code(self, code: object) -> None:
        if isinstance(code, str):
            self._centres(Centre.centre == code)

    def _centre_by_pk(self, pk: object) -> None:
        if isinstance(pk, int):
            self._centres(Centre.id == pk)

    def _centres(self, where: Any) -> None:
        for pk, code in self.session.execute(select(Centre.id, Centre.centre).where(where)):
            dict.__setitem__(self.centre_pk, code, pk)
            dict.__setitem__(self.centre_code, pk, code)


class PointState:
    """``jakreg.ingest.checks.Existing`` by point queries (``DatabaseState`` reads whole tables)."""

    def __init__(
        self,
        session: Session,
        directory: Directory | None = None,
        known: Iterable[Patient] = (),
    ) -> None:
        """``directory``: share one (a scope's); ``known``: patients already read in this session."""
        self.session = session
        self.d: Directory = directory if directory is not None else LazyDirectory(session)
        self._patients: dict[str, KnownPatient | None] = {
            p.patient_id: self._known(p) for p in known
        }

    def has(self, sheet: str, key: Key) -> bool:
        spec = SHEETS_BY_NAME[sheet]
        if len(key) != len(spec.key):
            return False
        if sheet == "patients":
            return self.d.patient_pk.get(key[0]) is not None
        table = TABLE_FOR_SHEET[sheet]
        conditions = []
        for column, value in zip(spec.key, key, strict=True):
            if column == "patient_id" and sheet != "patients":
                pk = self.d.patient_pk.get(value)
                if pk is None:
                    return False
                conditions.append(table.patient_pk == pk)  # type: ignore[attr-defined]
            else:
                attribute = getattr(table, column)
                conditions.append(attribute.is_(None) if value is None else attribute == value)
        found = self.session.scalar(select(table.id).where(*conditions).limit(1))  # type: ignore[attr-defined]
        return found is not None

    def patient(self, patient_id: str) -> KnownPatient | None:
        if patient_id not in self._patients:
            p = self.session.scalar(select(Patient).where(Patient.patient_id == patient_id))
            self._patients[patient_id] = None if p is None else self._known(p)
        return self._patients[patient_id]

    def _known(self, p: Patient) -> KnownPatient:
        if isinstance(self.d, LazyDirectory):
            self.d.remember_patient(p.id, p.patient_id, p.centre_pk)
        return KnownPatient(
            p.patient_id,
            self.d.centre_code[p.centre_pk],
            p.local_id,
            p.birth_year_month,
            p.last_follow_up,
            p.vital_status,
            p.locked_by,
        )

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        cpk = self.d.centre_pk.get(centre)
        if cpk is None:
            return None
        return self.session.scalar(
            select(Patient.patient_id).where(Patient.centre_pk == cpk, Patient.local_id == local_id)
        )

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        pk = self.d.patient_pk.get(patient_id)
        if pk is None:
            return None
        found = self.session.execute(
            select(TreatmentCourse.start_date, TreatmentCourse.stop_date).where(
                TreatmentCourse.patient_pk == pk, TreatmentCourse.course_no == course_no
            )
        ).first()
        return None if found is None else (found[0], found[1])
