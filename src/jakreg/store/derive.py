"""Values jakreg derives on import and stores beside the data: canonical lab units, CTCAE grades, doses per
kg and m². Recomputed for every patient an import touched, so a changed course start or weight is followed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
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
    labs = session.scalars(
        select(LabResult)
        .where(LabResult.patient_pk.in_(pks))
        .order_by(LabResult.patient_pk, LabResult.analyte, LabResult.date)
    ).all()
    # Baseline: the last value on or before the first JAK-inhibitor start (CTCAE's baseline path).
    baseline: dict[tuple[int, str], LabResult] = {}
    for lab in labs:
        first = firsts.get(lab.patient_pk)
        if first is not None and lab.date <= first:
            baseline[(lab.patient_pk, lab.analyte)] = lab
    for lab in labs:
        converted = units.convert(lab.analyte, lab.value, lab.unit)
        lab.canonical_value = converted.value
        lab.canonical_unit = converted.unit
        terms = ctcae.terms_for_analyte(lab.analyte)
        if not terms:
            lab.ctcae_term = lab.ctcae_grade = lab.ctcae_version = lab.ctcae_reason = None
            continue
        base = baseline.get((lab.patient_pk, lab.analyte))
        base_value = None
        if base is not None and base is not lab:
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
            lab.ctcae_term, lab.ctcae_grade = terms[0], None
            lab.ctcae_version, lab.ctcae_reason = ctcae.CTCAE_VERSION, f"not graded: {exc}"
            continue
        lab.ctcae_term = graded.term
        lab.ctcae_grade = graded.grade
        lab.ctcae_version = graded.version
        lab.ctcae_reason = graded.reason


def _canonical(analyte: str, value: float | None, unit: str) -> float | None:
    return None if value is None else units.convert(analyte, value, unit).value


def _derive_doses(session: Session, pks: list[int]) -> None:
    measurements: dict[int, list[dosing.BodyMeasurement]] = {}
    for m in session.scalars(select(BodyMeasurement).where(BodyMeasurement.patient_pk.in_(pks))):
        measurements.setdefault(m.patient_pk, []).append(
            dosing.BodyMeasurement(on=m.date, weight_kg=m.weight_kg, height_cm=m.height_cm)
        )
    for dose in session.scalars(select(Dose).where(Dose.patient_pk.in_(pks))):
        record = dosing.DoseRecord(
            on=dose.date,
            mg_per_dose=dose.mg_per_dose,
            doses_per_day=dose.doses_per_day,
            weight_kg=dose.weight_kg,
            height_cm=dose.height_cm,
        )
        result = dosing.dose_intensity(record, measurements.get(dose.patient_pk, []))
        dose.mg_per_kg_day = result.mg_per_kg_per_day
        dose.mg_per_m2_day = result.mg_per_m2_per_day
        dose.dose_rule = f"{result.info.name} {result.info.version}"
        dose.dose_note = result.reason
