"""Values jakreg derives on import and stores beside the data: canonical lab units, CTCAE grades, doses per
kg and m². Recomputed for every patient an import touched, so a changed course start or weight is followed.

Derivation runs inside the import's transaction and may cover every patient (``jakreg derive``), so it
works patient chunk by patient chunk (memory stays flat), reads only the columns it needs with SQLAlchemy
Core, and writes back, with one executemany per batch, only the rows whose derived values change.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from jakreg.rules import ctcae, dosing, units
from jakreg.rules.base import RuleError
from jakreg.store.tables import (
    DERIVED_COLUMNS,
    BodyMeasurement,
    Dose,
    LabResult,
    TreatmentCourse,
)

# Sheets whose change can change a derived value.
DERIVATION_INPUTS = frozenset({"courses", "doses", "body_measurements", "labs"})

# Derived columns, in the order the derive functions return them.
LAB_DERIVED = DERIVED_COLUMNS["labs"]
DOSE_DERIVED = DERIVED_COLUMNS["doses"]

PATIENTS_PER_CHUNK = 2000  # ~270,000 lab rows at the synthetic study's density
UPDATES_PER_BATCH = 5000
# Small fetches: rows die young, so the cyclic GC never promotes them and never runs a full collection
# (with 5,000-row fetches full collections took a quarter of the time).
ROWS_PER_FETCH = 100
_MEMO_LIMIT = 50_000  # distinct lab inputs remembered before the memo starts afresh

LabValues = tuple[float, str, float | None, float | None]  # value, unit, LLN, ULN
LabInputs = tuple[str, float, str, float | None, float | None, float | None]  # + analyte, baseline
LabDerived = tuple[float, str, str | None, int | None, str | None, str | None]
DoseDerived = tuple[float | None, float | None, str, str]


def derive_patients(
    session: Session, patient_pks: Iterable[int], *, chunk: int = PATIENTS_PER_CHUNK
) -> None:
    pks = sorted(set(patient_pks))
    labs = LabDeriver()
    for start in range(0, len(pks), chunk):
        part = pks[start : start + chunk]
        _derive_labs(session, part, labs)
        _derive_doses(session, part)


class LabDeriver:
    """Canonical values and CTCAE grades of lab rows, remembered per distinct inputs.

    Stored lab values repeat a great deal (the same analyte, unit, value and reference limits), so a
    row whose inputs were seen before costs one dictionary look-up. The rules themselves are
    jakreg.rules.units and jakreg.rules.ctcae; this class only avoids asking them twice.
    """

    def __init__(self) -> None:
        self._memo: dict[LabInputs, LabDerived] = {}

    def series(
        self, analyte: str, labs: Sequence[LabValues], baseline_at: int | None
    ) -> list[LabDerived]:
        """The derived columns of one patient's values of one analyte.

        `labs` are (value, unit, LLN, ULN) in date order; `baseline_at` indexes the baseline value
        (the last on or before the first JAK-inhibitor start), which grades every other value.
        """
        baseline = None
        terms = ctcae.terms_for_analyte(analyte)
        if baseline_at is not None and terms:
            # Row by row, the first value's unit is checked before the baseline's: same error first.
            units.conversion(analyte, labs[0][1])
            value, unit = labs[baseline_at][:2]
            baseline = value * units.conversion(analyte, unit)[0]
            if not ctcae.term_spec(terms[0]).uses_baseline and _plain(baseline):
                # Graded without a baseline, the term only checks it: a valid one is as good as
                # none, and leaving it out lets this patient's values share everyone's memo entries.
                baseline = None
        memo = self._memo
        derived = []
        for i, lab in enumerate(labs):
            key = (analyte, *lab, None if i == baseline_at else baseline)
            found = memo.get(key)
            if found is None:
                found = _derive_lab(*key)
                # 0.0 == -0.0 as a key, but they print differently in the reason: never memoise 0.
                if 0.0 not in key:
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                    memo[key] = found
            derived.append(found)
        return derived


def _derive_lab(
    analyte: str,
    value: float,
    unit: str,
    lln: float | None,
    uln: float | None,
    baseline: float | None,
) -> LabDerived:
    """Canonical value and CTCAE grade of one lab row; `baseline` is already in canonical units."""
    factor, canonical_unit = units.conversion(analyte, unit)
    v = value * factor
    terms = ctcae.terms_for_analyte(analyte)
    if not terms:
        return v, canonical_unit, None, None, None, None
    term = terms[0]
    try:
        g, reason = ctcae.grade_canonical(
            term,
            v,
            lln=None if lln is None else lln * factor,
            uln=None if uln is None else uln * factor,
            baseline=baseline,
        )
    except RuleError as exc:
        return v, canonical_unit, term, None, ctcae.CTCAE_VERSION, f"not graded: {exc}"
    return v, canonical_unit, term, g, ctcae.RULE.version, reason


def _first_starts(session: Session, pks: list[int]) -> dict[int, dt.date]:
    firsts: dict[int, dt.date] = {}
    for pk, start in session.execute(
        select(TreatmentCourse.patient_pk, TreatmentCourse.start_date).where(
            TreatmentCourse.patient_pk.in_(pks)
        )
    ):
        if pk not in firsts or start < firsts[pk]:
            firsts[pk] = start
    return firsts


# The lab query's columns: the series key, the date, the inputs (value, unit, LLN, ULN), id, derived.
_PK_ANALYTE, _DATE, _INPUTS, _ID, _STORED = itemgetter(0, 1), 2, slice(3, 7), 7, slice(8, None)


def _derive_labs(session: Session, pks: list[int], deriver: LabDeriver) -> None:
    firsts = _first_starts(session, pks)
    t = LabResult.__table__.c
    rows = session.execute(
        select(
            t.patient_pk,
            t.analyte,
            t.date,
            t.value,
            t.unit,
            t.lln,
            t.uln,
            t.id,
            *(t[name] for name in LAB_DERIVED),
        )
        .where(t.patient_pk.in_(pks))
        .order_by(t.patient_pk, t.analyte, t.date)
    )
    changed: list[tuple[Any, ...]] = []
    for (pk, analyte), group in groupby(
        chain.from_iterable(rows.partitions(ROWS_PER_FETCH)), key=_PK_ANALYTE
    ):
        labs = list(group)
        # Baseline: the last value on or before the first JAK-inhibitor start (CTCAE's baseline path).
        first = firsts.get(pk)
        baseline_at = None
        if first is not None:
            for i, lab in enumerate(labs):
                if lab[_DATE] <= first:
                    baseline_at = i
        derived = deriver.series(analyte, [lab[_INPUTS] for lab in labs], baseline_at)
        for new, lab in zip(derived, labs, strict=True):
            if new != lab[_STORED]:
                changed.append((*new, lab[_ID]))
    _update(session, LabResult.__table__, LAB_DERIVED, changed)


def _plain(x: float) -> bool:
    """A finite, non-negative float: a number every rule accepts as it is."""
    return type(x) is float and 0.0 <= x < math.inf


def _derive_doses(session: Session, pks: list[int]) -> None:
    measurements: dict[int, list[dosing.BodyMeasurement]] = {}
    m = BodyMeasurement.__table__.c
    for row in session.execute(
        select(m.patient_pk, m.date, m.weight_kg, m.height_cm).where(m.patient_pk.in_(pks))
    ):
        measurements.setdefault(row.patient_pk, []).append(
            dosing.BodyMeasurement(on=row.date, weight_kg=row.weight_kg, height_cm=row.height_cm)
        )
    t = Dose.__table__.c
    changed: list[tuple[Any, ...]] = []
    for dose in session.execute(
        select(
            t.id,
            t.patient_pk,
            t.date,
            t.mg_per_dose,
            t.doses_per_day,
            t.weight_kg,
            t.height_cm,
            *(t[name] for name in DOSE_DERIVED),
        ).where(t.patient_pk.in_(pks))
    ):
        record = dosing.DoseRecord(
            on=dose.date,
            mg_per_dose=dose.mg_per_dose,
            doses_per_day=dose.doses_per_day,
            weight_kg=dose.weight_kg,
            height_cm=dose.height_cm,
        )
        result = dosing.dose_intensity(record, measurements.get(dose.patient_pk, []))
        derived: DoseDerived = (
            result.mg_per_kg_per_day,
            result.mg_per_m2_per_day,
            f"{result.info.name} {result.info.version}",
            result.reason,
        )
        if derived != tuple(dose[-len(DOSE_DERIVED) :]):
            changed.append((*derived, dose.id))
    _update(session, Dose.__table__, DOSE_DERIVED, changed)


# Placeholder of the DBAPI's positional parameter styles (sqlite3: qmark; psycopg: pyformat).
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _update(
    session: Session, table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """UPDATE table SET columns WHERE id, for rows of (column values..., id): batched executemany."""
    if not rows:
        return
    connection = session.connection()
    mark = _MARKS.get(connection.dialect.paramstyle)
    if mark is None:  # a driver with named parameters: let SQLAlchemy bind them
        names = [*(f"b_{c}" for c in columns), "b_id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        for i in range(0, len(rows), UPDATES_PER_BATCH):
            batch = rows[i : i + UPDATES_PER_BATCH]
            session.execute(statement, [dict(zip(names, row, strict=True)) for row in batch])
        return
    # The DBAPI cursor directly: SQLAlchemy's per-row parameter processing would cost more than the
    # update itself, and these columns (float, int, str, None) need no type conversion.
    quote = connection.dialect.identifier_preparer.quote
    sets = ", ".join(f"{quote(c)} = {mark}" for c in columns)
    sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {quote('id')} = {mark}"
    for i in range(0, len(rows), UPDATES_PER_BATCH):
        connection.exec_driver_sql(sql, rows[i : i + UPDATES_PER_BATCH])
