"""Keys of rows, and what the checks know of the database: its patients, courses and keys."""

from __future__ import annotations

import datetime as dt
import enum
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from jakreg.model.introspect import base_type
from jakreg.model.sheets import SheetSpec

Key = tuple[Any, ...]


@dataclass(frozen=True)
class KnownPatient:
    patient_id: str
    centre: str
    local_id: str | None
    birth_year_month: str | None
    last_follow_up: dt.date | None
    vital_status: str
    locked_by: str | None = None  # a locked patient's records are read-only (the server locks them)


class Existing(Protocol):
    """What is already in the database, as far as the checks need it."""

    def has(self, sheet: str, key: Key) -> bool: ...

    def patient(self, patient_id: str) -> KnownPatient | None: ...

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None: ...

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None: ...


class NothingExisting:
    """An empty database."""

    def has(self, sheet: str, key: Key) -> bool:
        return False

    def patient(self, patient_id: str) -> KnownPatient | None:
        return None

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        return None

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        return None


def row_key(spec: SheetSpec, row: Any, columns: Iterable[str] | None = None) -> Key:
    return key_getter(spec, tuple(columns or spec.key))(row)


def key_getter(spec: SheetSpec, columns: tuple[str, ...]) -> Callable[[Any], Key]:
    """A function giving a row's values of ``columns`` as a key (enums as their text), made once per
    sheet and columns: the checks take a key from every row."""
    found = _GETTERS.get((spec.name, columns))
    if found is not None:
        return found
    enums = [
        isinstance(base_type(spec.row.model_fields[c].annotation), enum.EnumType) for c in columns
    ]
    if any(enums):

        def get(row: Any) -> Key:
            values = row.__dict__
            return tuple([plain_value(values[c]) for c in columns])

    elif len(columns) == 1:
        (column,) = columns

        def get(row: Any) -> Key:
            return (row.__dict__[column],)

    else:
        pick = operator.itemgetter(*columns)

        def get(row: Any) -> Key:
            return pick(row.__dict__)  # type: ignore[no-any-return]

    _GETTERS[(spec.name, columns)] = get
    return get


_GETTERS: dict[tuple[str, tuple[str, ...]], Callable[[Any], Key]] = {}


def plain_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def nullable_column(spec: SheetSpec, column: str) -> bool:
    annotation = spec.row.model_fields[column].annotation
    return type(None) in getattr(annotation, "__args__", ())
