"""What one request needs of the database, by point queries: never a whole table per request.

``jakreg.store.repository``'s ``Directory`` and ``DatabaseState`` read every patient at once: right for an
import of thousands of rows, a full scan per form or API call on the server. Here the same two interfaces
load only the keys a request touches, each with one indexed query:

- ``LazyDirectory`` is a ``Directory`` whose maps fill on first use (pseudonym <-> patient key, centre code
  <-> centre key), so ``to_record``/``from_record`` and the audit code work unchanged;
- ``PointState`` is the ``Existing`` of ``check_study`` for one request: ``DatabaseState``'s point
  queries, with patients read one at a time instead of all at once.

Both live for one request (one session): nothing here is cached across requests. A ``Scope`` keeps one
``LazyDirectory`` and hands out ``PointState``s sharing it (``Scope.existing``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.ingest.checks import KnownPatient
from jakreg.store.repository import DatabaseState, Directory
from jakreg.store.tables import Centre, Patient

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


class PointState(DatabaseState):
    """``jakreg.ingest.checks.Existing`` for one request: ``DatabaseState``'s point queries for keys and
    courses, and patients read one at a time (``DatabaseState`` reads them all at once, as an import
    needs)."""

    def __init__(
        self,
        session: Session,
        directory: Directory | None = None,
        known: Iterable[Patient] = (),
    ) -> None:
        """``directory``: share one (a scope's); ``known``: patients already read in this session."""
        super().__init__(session)
        self.d: Directory = directory if directory is not None else LazyDirectory(session)
        self._read: dict[str, KnownPatient | None] = {p.patient_id: self._known(p) for p in known}
        # the centres the caller may know of (None: all); the checks then see them through a CentreView
        self.visible: frozenset[str] | None = None

    def patient(self, patient_id: str) -> KnownPatient | None:
        if patient_id not in self._read:
            p = self.session.scalar(select(Patient).where(Patient.patient_id == patient_id))
            self._read[patient_id] = None if p is None else self._known(p)
        return self._read[patient_id]

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
