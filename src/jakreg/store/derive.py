"""Values jakreg derives on import and stores beside the data: canonical lab units, CTCAE grades, doses per
kg and m². Recomputed for every patient an import touched, so a changed course start or weight is followed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from jakreg.rules import ctcae, dosing, units
from jakreg.rules.base import RuleError
from jakreg.store.tables import BodyMeasurement, Dose, LabResult, TreatmentCourse

# Sheets whose change can change a derived value.
DERIVATION_INPUTS = frozenset({"courses", "doses", "body_measurements", "labs"})


def derive_patients(session: Session, patient_pks: Iterable[int]) -> None:
    pks = sorted(set(patient_pks))
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        _derive_labs(session, chunk)
        _derive_doses(session, chunk)


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


def _derive_labs(session: Session, pks: list[int]) -> None:
    firsts = _first_starts(session, pks)
    t = LabResult.__table__.c
    labs = session.execute(
        select(t.id, t.patient_pk, t.analyte, t.date, t.value, t.unit, t.lln, t.uln)
        .where(t.patient_pk.in_(pks))
        .order_by(t.patient_pk, t.analyte, t.date)
    ).all()
    # Baseline: the last value on or before the first JAK-inhibitor start (CTCAE's baseline path).
    baseline: dict[tuple[int, str], Any] = {}
    for lab in labs:
        first = firsts.get(lab.patient_pk)
        if first is not None and lab.date <= first:
            baseline[(lab.patient_pk, lab.analyte)] = lab
    updates = []
    for lab in labs:
        converted = units.convert(lab.analyte, lab.value, lab.unit)
        derived: dict[str, Any] = {
            "b_id": lab.id,
            "b_canonical_value": converted.value,
            "b_canonical_unit": converted.unit,
            "b_ctcae_term": None,
            "b_ctcae_grade": None,
            "b_ctcae_version": None,
            "b_ctcae_reason": None,
        }
        updates.append(derived)
        terms = ctcae.terms_for_analyte(lab.analyte)
        if not terms:
            continue
        base = baseline.get((lab.patient_pk, lab.analyte))
        base_value = None
        if base is not None and base.id != lab.id:
            base_value = units.convert(lab.analyte, base.value, base.unit).value
        try:
            graded = ctcae.grade(
                terms[0],
                converted.value,
                converted.unit,
                lln=_canonical(lab.analyte, lab.lln, lab.unit),
                uln=_canonical(lab.analyte, lab.uln, lab.unit),
                baseline=base_value,
            )
        except RuleError as exc:
            derived |= {
                "b_ctcae_term": terms[0],
                "b_ctcae_version": ctcae.CTCAE_VERSION,
                "b_ctcae_reason": f"not graded: {exc}",
            }
            continue
        derived |= {
            "b_ctcae_term": graded.term,
            "b_ctcae_grade": graded.grade,
            "b_ctcae_version": graded.version,
            "b_ctcae_reason": graded.reason,
        }
    _bulk_update(session, LabResult.__table__, updates)


def _bulk_update(session: Session, table: Any, params: list[dict[str, Any]]) -> None:
    if not params:
        return
    names = [k.removeprefix("b_") for k in params[0] if k != "b_id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({n: bindparam(f"b_{n}") for n in names})
    )
    for i in range(0, len(params), 2000):
        session.execute(statement, params[i : i + 2000])


def _canonical(analyte: str, value: float | None, unit: str) -> float | None:
    return None if value is None else units.convert(analyte, value, unit).value


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
    updates = []
    for dose in session.execute(
        select(
            t.id, t.patient_pk, t.date, t.mg_per_dose, t.doses_per_day, t.weight_kg, t.height_cm
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
        updates.append(
            {
                "b_id": dose.id,
                "b_mg_per_kg_day": result.mg_per_kg_per_day,
                "b_mg_per_m2_day": result.mg_per_m2_per_day,
                "b_dose_rule": f"{result.info.name} {result.info.version}",
                "b_dose_note": result.reason,
            }
        )
    _bulk_update(session, Dose.__table__, updates)
