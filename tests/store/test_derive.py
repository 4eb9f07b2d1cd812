"""Derivation's fast path (memo, grading tables, chunked Core reads, executemany of changed rows) gives
exactly what the straightforward one gives: every row converted with units.convert and graded with
ctcae.grade, the way jakreg derived values before."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.rules import ctcae, dosing, units
from jakreg.rules.base import RuleError
from jakreg.store import derive
from jakreg.store.db import open_session
from jakreg.store.tables import BodyMeasurement, Dose, LabResult, TreatmentCourse
from jakreg.study import import_path
from jakreg.synth import write_synthetic

# --- the reference: one lab row at a time, through the rules' public, object-building functions ---


def reference_series(
    analyte: str, labs: Sequence[tuple[Any, ...]], baseline_at: int | None
) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for i, (value, unit, lln, uln) in enumerate(labs):
        converted = units.convert(analyte, value, unit)
        terms = ctcae.terms_for_analyte(analyte)
        if not terms:
            out.append((converted.value, converted.unit, None, None, None, None))
            continue
        baseline = None
        if baseline_at is not None and i != baseline_at:
            b_value, b_unit = labs[baseline_at][:2]
            baseline = units.convert(analyte, b_value, b_unit).value
        try:
            graded = ctcae.grade(
                terms[0],
                converted.value,
                converted.unit,
                lln=None if lln is None else units.convert(analyte, lln, unit).value,
                uln=None if uln is None else units.convert(analyte, uln, unit).value,
                baseline=baseline,
            )
        except RuleError as exc:
            out.append(
                (converted.value, converted.unit, terms[0], None, "5.0", f"not graded: {exc}")
            )
            continue
        out.append(
            (
                converted.value,
                converted.unit,
                graded.term,
                graded.grade,
                graded.version,
                graded.reason,
            )
        )
    return out


def outcome(f: Any, *args: Any) -> str:
    """What a call gives, as text that tells -0.0 from 0.0 and shows nan: its result or its error."""
    try:
        return repr(f(*args))
    except JakregError as exc:
        return f"{type(exc).__name__}: {exc}"


# --- property tests of the pure part ---

ANALYTES = sorted(units.ANALYTES)
SPELLINGS = ["u/l", "IU/L", "x10^9/L", "10e9/l", "/uL", "cells/mm3", "mg/dl", "G/L", "furlongs"]
EDGES = [0.0, -0.0, -1.0, 1.0, 40.0, 100.0, 120.0, 1.5, 0.5, 1.71, 7.75, math.inf, math.nan]
number = st.sampled_from(EDGES) | st.floats(min_value=0, max_value=1e4) | st.floats()
shared = derive.LabDeriver()  # one memo over all examples, as over one import


@st.composite
def series(draw: st.DrawFn) -> tuple[str, list[tuple[Any, ...]], int | None]:
    analyte = draw(st.sampled_from(ANALYTES))
    unit = st.sampled_from([*units.accepted_units(analyte), *SPELLINGS])
    # Unknown units must fail the same way, but rarely, or they would hide everything else.
    unit = st.sampled_from(units.accepted_units(analyte)) if draw(st.integers(0, 9)) else unit
    limit = st.none() | number
    labs = draw(st.lists(st.tuples(number, unit, limit, limit), min_size=1, max_size=6))
    baseline_at = draw(st.none() | st.integers(0, len(labs) - 1))
    return analyte, labs, baseline_at


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series())
def test_series_equals_row_by_row_reference(case: tuple[str, list[Any], int | None]) -> None:
    analyte, labs, baseline_at = case
    expected = outcome(reference_series, analyte, labs, baseline_at)
    assert outcome(derive.LabDeriver().series, analyte, labs, baseline_at) == expected
    assert outcome(shared.series, analyte, labs, baseline_at) == expected  # from the memo, too


@settings(max_examples=500, deadline=None)
@given(
    term=st.sampled_from(sorted(ctcae.TERMS)),
    value=st.none() | number,
    lln=st.none() | number,
    uln=st.none() | number,
    baseline=st.none() | number,
)
def test_grade_canonical_equals_grade(
    term: str, value: Any, lln: Any, uln: Any, baseline: Any
) -> None:
    unit = units.ANALYTES[ctcae.TERMS[term].analyte].canonical_unit

    def slow() -> tuple[int | None, str]:
        graded = ctcae.grade(term, value, unit, lln=lln, uln=uln, baseline=baseline)
        return graded.grade, graded.reason

    def fast() -> tuple[int | None, str]:
        return ctcae.grade_canonical(term, value, lln=lln, uln=uln, baseline=baseline)

    assert outcome(fast) == outcome(slow)


def test_canonical_unit_converts_by_one() -> None:
    # grade_canonical skips the conversion grade() makes: it must be the identity.
    for code, analyte in units.ANALYTES.items():
        assert units.conversion(code, analyte.canonical_unit) == (1.0, analyte.canonical_unit)


def test_conversion_errors_are_those_of_convert() -> None:
    with pytest.raises(units.UnknownUnitError, match="use one of: U/L"):
        units.conversion("alt", "mg/dL")
    with pytest.raises(units.UnknownAnalyteError):
        units.conversion("unobtainium", "U/L")
    with pytest.raises(ctcae.UnknownTermError):
        ctcae.grade_canonical("Hair increased", 1.0)


def test_signed_zero_is_not_taken_from_the_memo() -> None:
    deriver = derive.LabDeriver()
    plus = deriver.series("alt", [(0.0, "U/L", None, 40.0)], None)
    minus = deriver.series("alt", [(-0.0, "U/L", None, 40.0)], None)
    assert plus[0][5].startswith("0 U/L")
    assert minus[0][5].startswith("-0 U/L")
    assert repr(minus) == repr(reference_series("alt", [(-0.0, "U/L", None, 40.0)], None))


def test_memo_starts_afresh_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive, "_MEMO_LIMIT", 3)
    deriver = derive.LabDeriver()
    labs = [(float(v), "10^9/L", 1.5, 8.0) for v in range(10)]
    for _ in range(2):
        assert deriver.series("neutrophils", labs, 2) == reference_series("neutrophils", labs, 2)
    assert len(deriver._memo) <= 3


def test_unused_baseline_is_still_checked() -> None:
    # Neutrophils are graded without a baseline, but an impossible one is refused as before.
    labs = [(-1.0, "10^9/L", 1.5, 8.0), (2.0, "10^9/L", 1.5, 8.0)]
    got = derive.LabDeriver().series("neutrophils", labs, 0)
    assert got == reference_series("neutrophils", labs, 0)
    assert got[1][5] == "not graded: baseline cannot be negative, got -1.0"


# --- the database path, on SQLite and PostgreSQL ---

LAB_INPUTS = ("patient_pk", "analyte", "date", "value", "unit", "lln", "uln")
# Rows the synthetic study never has: other analytes and units, missing and impossible limits,
# abnormal baselines, zero, no CTCAE term.
EXTRA_LABS = [
    ("bilirubin", "2021-01-01", 2.0, "mg/dL", None, 1.2),  # baseline above ULN
    ("bilirubin", "2022-01-01", 4.0, "mg/dL", None, 1.2),
    ("bilirubin", "2022-02-01", 60.0, "µmol/L", None, 20.0),
    ("creatinine", "2021-01-01", 50.0, "µmol/L", None, 100.0),
    ("creatinine", "2022-01-01", 1.0, "mg/dL", None, 1.1),
    ("creatinine", "2022-02-01", 0.0, "mg/dL", None, 1.1),
    ("triglycerides", "2022-01-01", 250.0, "mg/dL", None, None),
    ("cholesterol", "2022-01-01", 5.0, "mmol/L", None, None),
    ("cholesterol", "2022-02-01", 5.0, "mmol/L", None, 6.0),
    ("crp", "2022-01-01", 3.0, "mg/dL", None, None),
    ("neutrophils", "2000-01-01", 1.8, "10^9/L", None, None),
    ("ggt", "2022-01-01", -3.0, "U/L", None, 50.0),
    ("ast", "2022-01-01", 80.0, "U/L", None, 0.0),
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "study"
    write_synthetic(out, patients=12, centres=3, seed=7)
    return out


def reference_database(session: Session) -> tuple[dict[int, tuple[Any, ...]], dict[int, Any]]:
    """Derived columns of every lab and dose, recomputed row by row from the stored inputs."""
    firsts: dict[int, dt.date] = {}
    for course in session.scalars(select(TreatmentCourse)):
        if course.patient_pk not in firsts or course.start_date < firsts[course.patient_pk]:
            firsts[course.patient_pk] = course.start_date
    series: dict[tuple[int, str], list[LabResult]] = {}
    order = (LabResult.patient_pk, LabResult.analyte, LabResult.date)
    for lab in session.scalars(select(LabResult).order_by(*order)):
        series.setdefault((lab.patient_pk, lab.analyte), []).append(lab)
    labs: dict[int, tuple[Any, ...]] = {}
    for (pk, analyte), rows in series.items():
        first = firsts.get(pk)
        at = None
        for i, lab in enumerate(rows):
            if first is not None and lab.date <= first:
                at = i
        inputs = [(lab.value, lab.unit, lab.lln, lab.uln) for lab in rows]
        for lab, derived in zip(rows, reference_series(analyte, inputs, at), strict=True):
            labs[lab.id] = derived
    measurements: dict[int, list[dosing.BodyMeasurement]] = {}
    for m in session.scalars(select(BodyMeasurement)):
        measurements.setdefault(m.patient_pk, []).append(
            dosing.BodyMeasurement(on=m.date, weight_kg=m.weight_kg, height_cm=m.height_cm)
        )
    doses: dict[int, Any] = {}
    for d in session.scalars(select(Dose)):
        record = dosing.DoseRecord(d.date, d.mg_per_dose, d.doses_per_day, d.weight_kg, d.height_cm)
        r = dosing.dose_intensity(record, measurements.get(d.patient_pk, []))
        doses[d.id] = (
            r.mg_per_kg_per_day,
            r.mg_per_m2_per_day,
            f"{r.info.name} {r.info.version}",
            r.reason,
        )
    return labs, doses


def stored(session: Session) -> tuple[dict[int, tuple[Any, ...]], dict[int, Any]]:
    lab = LabResult.__table__.c
    dose = Dose.__table__.c
    labs = {
        r[0]: tuple(r[1:])
        for r in session.execute(select(lab.id, *(lab[c] for c in derive.LAB_DERIVED)))
    }
    doses = {
        r[0]: tuple(r[1:])
        for r in session.execute(select(dose.id, *(dose[c] for c in derive.DOSE_DERIVED)))
    }
    return labs, doses


class UpdateCounter:
    """Rows sent in UPDATE statements while it listens."""

    def __init__(self, session: Session) -> None:
        self.rows = 0
        self.engine = session.get_bind()

    def __enter__(self) -> UpdateCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("UPDATE"):
            self.rows += len(params) if many else 1


@pytest.fixture
def imported(db_url: str, synthetic: Path) -> str:
    import_path(synthetic, db_url, actor="tester")
    with open_session(db_url) as s:
        pks = sorted(set(s.scalars(select(LabResult.patient_pk))))
        rows = [
            dict(zip(LAB_INPUTS, (pk, a, dt.date.fromisoformat(d), v, u, lo, hi), strict=True))
            for pk in pks[:3]
            for a, d, v, u, lo, hi in EXTRA_LABS
        ]
        s.execute(insert(LabResult), rows)
        s.commit()
    return db_url


@pytest.mark.parametrize("through", ["dbapi", "sqlalchemy"])
def test_derived_values_equal_the_reference(
    imported: str, through: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if through == "sqlalchemy":  # as for a driver with named parameters
        monkeypatch.setattr(derive, "_MARKS", {})
    with open_session(imported) as s:
        pks = sorted(set(s.scalars(select(LabResult.patient_pk))))
        derive.derive_patients(s, pks, chunk=5)  # the extra rows, and chunk boundaries
        s.commit()
        labs, doses = stored(s)
        ref_labs, ref_doses = reference_database(s)
    assert labs == ref_labs
    assert doses == ref_doses
    assert {r[5] for r in labs.values()} >= {
        "not graded: value cannot be negative, got -3.0",
        "not graded: ULN must be greater than 0",
    }
    assert any(r[5] and "× baseline" in r[5] for r in labs.values())


def test_only_changed_rows_are_written(imported: str) -> None:
    with open_session(imported) as s:
        pks = sorted(set(s.scalars(select(LabResult.patient_pk))))
        derive.derive_patients(s, pks)
        s.commit()
        before = stored(s)
        with UpdateCounter(s) as nothing:
            derive.derive_patients(s, pks)
        assert nothing.rows == 0
        some = s.scalars(select(LabResult.id).order_by(LabResult.id).limit(4)).all()
        s.execute(update(LabResult).where(LabResult.id.in_(some)).values(ctcae_reason=None))
        s.execute(
            update(Dose).where(Dose.id == s.scalars(select(Dose.id)).first()).values(dose_note="x")
        )
        with UpdateCounter(s) as repaired:
            derive.derive_patients(s, pks, chunk=7)
        assert repaired.rows == 5
        assert stored(s) == before
