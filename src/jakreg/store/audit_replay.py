"""Data against trail: replay the audit trail's after-images record by record and compare with the tables.

The hash chain (jakreg.store.audit.verify_chain) proves the trail was not edited; it says nothing about the
data. A row changed, inserted or deleted with SQL behind jakreg's back leaves the chain intact. Replaying
the trail rebuilds, for every record of every patient-data table, what the trail says it holds now: the
after-image of its last create or update (each holds every workbook column of the record), the lock
fields of a patient's lock and unlock events, nothing after a delete. Each row whose stored values differ
is named, with the column, the trail's value and the database's; so are rows the trail does not know and
records the trail holds that are gone.

Both sides are read in record-id order, one table at a time (the trail a window of record ids at a time,
per-row and batch events alike, through jakreg.store.audit_rows), so memory does not grow with the size
of the registry. Columns the trail does not record
(versions, the values jakreg derives such as mg/kg doses and CTCAE grades) are not compared.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.model.sheets import SHEETS
from jakreg.store.audit import as_utc
from jakreg.store.audit_rows import record_changes, record_range
from jakreg.store.repository import Directory, from_record
from jakreg.store.tables import TABLE_FOR_SHEET

LOCK_COLUMNS = ("locked_by", "locked_at")
DIFFERS, UNTRACKED, MISSING = "differs", "untracked", "missing"


@dataclass(frozen=True)
class RowDifference:
    """One record where the tables and the trail disagree."""

    kind: str  # differs | untracked (a row the trail does not hold) | missing (the trail's row is gone)
    table: str  # the sheet name (the trail's entity)
    row_id: int
    patient_id: str | None
    column: str | None = None
    trail: Any = None
    database: Any = None

    def __str__(self) -> str:
        who = f"{self.table} row {self.row_id}" + (
            f" (patient {self.patient_id})" if self.patient_id else ""
        )
        if self.kind == DIFFERS:
            return (
                f"{who}, column {self.column}: the trail says {self.trail!r}, "
                f"the database holds {self.database!r}"
            )
        if self.kind == UNTRACKED:
            return f"{who}: in the database, but the audit trail has no such record"
        return f"{who}: the audit trail holds it, but it is not in the database"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "table": self.table, "row_id": self.row_id,
            "patient_id": self.patient_id, "column": self.column, "trail": self.trail,
            "database": self.database,
        }  # fmt: skip


@dataclass
class ReplayResult:
    records: int  # records the trail says exist
    rows: int  # rows in the tables
    differences: list[RowDifference]
    more: int = 0  # differences found beyond ``limit`` (not listed)

    @property
    def ok(self) -> bool:
        return not self.differences


def _plain(value: Any) -> Any:
    """A stored value as the trail writes it (JSON: dates as ISO text, enums as their value)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _same(trail: Any, database: Any) -> bool:
    if isinstance(trail, int | float) and isinstance(database, int | float):
        return float(trail) == float(database)
    return bool(trail == database)


WINDOW = 20_000  # record ids per read of the trail: bounds memory whatever the registry's size


def _trail_states(
    session: Session, entity: str
) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    """(record id, pseudonym, values the trail says it holds) per record the trail says exists."""
    span = record_range(session, entity)
    if span is None:
        return
    pk: int | None = None
    pid: str | None = None
    state: dict[str, Any] | None = None
    for lo in range(span[0], span[1] + 1, WINDOW):
        for change in record_changes(session, entity, lo, lo + WINDOW - 1):
            if change.entity_pk != pk:
                if pk is not None and state is not None:
                    yield pk, pid, state
                pk, pid, state = change.entity_pk, change.patient_id, None
            state = _applied(entity, state, change.action, change.after_values)
    if pk is not None and state is not None:
        yield pk, pid, state


def _applied(
    entity: str, state: dict[str, Any] | None, action: str, image: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A record's state after one change."""
    if action in ("create", "update") and image is not None:
        # a patient is created unlocked; only lock and unlock events change the lock
        kept = {c: (state or {}).get(c) for c in LOCK_COLUMNS} if entity == "patients" else {}
        return {**image, **kept}
    if action == "delete":
        return None
    if action == "lock" and image is not None:
        return {**(state or {}), **{c: image.get(c) for c in LOCK_COLUMNS}}
    if action == "unlock":
        return {**(state or {}), **dict.fromkeys(LOCK_COLUMNS)}
    return state


def _table_rows(
    session: Session, sheet: str, d: Directory
) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    spec = next(s for s in SHEETS if s.name == sheet)
    table = TABLE_FOR_SHEET[sheet].__table__
    query = select(*table.columns).order_by(table.c.id).execution_options(yield_per=5000)
    lock = sheet == "patients"
    for row in session.execute(query):
        values = from_record(spec, row, d)  # type: ignore[arg-type]  # a plain row: same attributes
        if lock:
            values.update({c: getattr(row, c) for c in LOCK_COLUMNS})
        pid = values.get("patient_id")
        yield row.id, None if pid is None else str(pid), values


def replay(session: Session, *, limit: int = 1000) -> ReplayResult:
    """Every record where the tables and the trail disagree (the first ``limit`` listed)."""
    d = Directory(session)
    result = ReplayResult(0, 0, [])

    def found(diff: RowDifference) -> None:
        if len(result.differences) < limit:
            result.differences.append(diff)
        else:
            result.more += 1

    for spec in SHEETS:
        sheet = spec.name
        trail = _trail_states(session, sheet)
        rows = _table_rows(session, sheet, d)
        t = next(trail, None)
        r = next(rows, None)
        while t is not None or r is not None:
            if r is None or (t is not None and t[0] < r[0]):
                assert t is not None
                result.records += 1
                found(RowDifference(MISSING, sheet, t[0], t[1]))
                t = next(trail, None)
            elif t is None or r[0] < t[0]:
                result.rows += 1
                found(RowDifference(UNTRACKED, sheet, r[0], r[1]))
                r = next(rows, None)
            else:
                result.records += 1
                result.rows += 1
                for column, said in t[2].items():
                    if column not in r[2]:
                        continue
                    held = _plain(r[2][column])
                    if not _same(said, held):
                        found(RowDifference(DIFFERS, sheet, r[0], r[1] or t[1], column, said, held))
                t, r = next(trail, None), next(rows, None)
    return result
