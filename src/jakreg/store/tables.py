"""SQLAlchemy 2 tables of the registry. Separate from the import rows (jakreg.model.rows) on purpose.

Child tables carry ``patient_pk`` (the patient's surrogate key) instead of the pseudonym, and otherwise the
columns of their workbook row with the same names, so a row maps to a table by renaming one column.
Every patient-data table has a ``version`` column for optimistic locking.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Versioned:
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Centre(Versioned, Base):
    __tablename__ = "centre"
    id: Mapped[int] = mapped_column(primary_key=True)
    centre: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    data_cutoff: Mapped[dt.date | None] = mapped_column(Date)


class Patient(Versioned, Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("centre_pk", "local_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(32), unique=True)
    centre_pk: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    local_id: Mapped[str | None] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(16))
    birth_year_month: Mapped[str | None] = mapped_column(String(7))
    consanguinity: Mapped[str] = mapped_column(String(8))
    family_history: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16), index=True)
    citation: Mapped[str | None] = mapped_column(String(200))
    last_follow_up: Mapped[dt.date | None] = mapped_column(Date)
    vital_status: Mapped[str] = mapped_column(String(16))
    lost_to_follow_up: Mapped[str] = mapped_column(String(8), default="no", server_default="no")
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


def _patient_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)


class Variant(Versioned, Base):
    __tablename__ = "variant"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    gene: Mapped[str] = mapped_column(String(20))
    transcript: Mapped[str | None] = mapped_column(String(40))
    hgvs_c: Mapped[str | None] = mapped_column(String(200))
    hgvs_p: Mapped[str | None] = mapped_column(String(200))
    zygosity: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(20))


class Manifestation(Versioned, Base):
    __tablename__ = "manifestation"
    __table_args__ = (UniqueConstraint("patient_pk", "hpo_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    hpo_id: Mapped[str] = mapped_column(String(10))
    hpo_label: Mapped[str | None] = mapped_column(String(300))
    onset_age_years: Mapped[float | None] = mapped_column(Float)
    status_at_start: Mapped[str] = mapped_column(String(10))


class TreatmentCourse(Versioned, Base):
    __tablename__ = "treatment_course"
    __table_args__ = (UniqueConstraint("patient_pk", "course_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    course_no: Mapped[int] = mapped_column(Integer)
    drug: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date] = mapped_column(Date)
    stop_date: Mapped[dt.date | None] = mapped_column(Date)
    stop_reason: Mapped[str | None] = mapped_column(String(20))
    stop_detail: Mapped[str | None] = mapped_column(Text)
    indication: Mapped[str | None] = mapped_column(Text)
    prior_therapies: Mapped[str | None] = mapped_column(Text)
    concomitant_therapies: Mapped[str | None] = mapped_column(Text)
    azole_comedication: Mapped[str] = mapped_column(String(8))


class Dose(Versioned, Base):
    __tablename__ = "dose"
    __table_args__ = (
        ForeignKeyConstraint(
            ["patient_pk", "course_no"],
            ["treatment_course.patient_pk", "treatment_course.course_no"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("patient_pk", "course_no", "date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    course_no: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    mg_per_dose: Mapped[float] = mapped_column(Float)
    doses_per_day: Mapped[float] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)
    # derived on import by jakreg.rules.dosing; never typed by a user
    mg_per_kg_day: Mapped[float | None] = mapped_column(Float)
    mg_per_m2_day: Mapped[float | None] = mapped_column(Float)
    dose_rule: Mapped[str | None] = mapped_column(String(80))
    dose_note: Mapped[str | None] = mapped_column(Text)


class BodyMeasurement(Versioned, Base):
    __tablename__ = "body_measurement"
    __table_args__ = (UniqueConstraint("patient_pk", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)


class Assessment(Versioned, Base):
    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("patient_pk", "date", "score"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[str] = mapped_column(String(40))
    score_version: Mapped[str] = mapped_column(String(20))
    total: Mapped[float | None] = mapped_column(Float)
    assessor_role: Mapped[str] = mapped_column(String(20))


class AssessmentItem(Versioned, Base):
    __tablename__ = "assessment_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["patient_pk", "date", "score"],
            ["assessment.patient_pk", "assessment.date", "assessment.score"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("patient_pk", "date", "score", "item"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[str] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)


class LabResult(Versioned, Base):
    __tablename__ = "lab_result"
    __table_args__ = (UniqueConstraint("patient_pk", "date", "analyte"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    analyte: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    lln: Mapped[float | None] = mapped_column(Float)
    uln: Mapped[float | None] = mapped_column(Float)
    clinician_grade: Mapped[int | None] = mapped_column(Integer)
    # derived on import by jakreg.rules.units and jakreg.rules.ctcae
    canonical_value: Mapped[float | None] = mapped_column(Float)
    canonical_unit: Mapped[str | None] = mapped_column(String(20))
    ctcae_term: Mapped[str | None] = mapped_column(String(60))
    ctcae_grade: Mapped[int | None] = mapped_column(Integer)
    ctcae_version: Mapped[str | None] = mapped_column(String(8))
    ctcae_reason: Mapped[str | None] = mapped_column(Text)


class BiomarkerResult(Versioned, Base):
    __tablename__ = "biomarker"
    __table_args__ = (UniqueConstraint("patient_pk", "date", "marker", "marker_detail"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    marker: Mapped[str] = mapped_column(String(20))
    marker_detail: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)


class AdverseEvent(Versioned, Base):
    __tablename__ = "adverse_event"
    __table_args__ = (UniqueConstraint("patient_pk", "term", "onset_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    course_no: Mapped[int | None] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(20))
    onset_date: Mapped[dt.date] = mapped_column(Date)
    resolution_date: Mapped[dt.date | None] = mapped_column(Date)
    grade: Mapped[int | None] = mapped_column(Integer)
    serious: Mapped[str] = mapped_column(String(8))
    attribution: Mapped[str] = mapped_column(String(12))
    action_taken: Mapped[str] = mapped_column(String(16))


class TreatmentResponse(Versioned, Base):
    __tablename__ = "response"
    __table_args__ = (
        ForeignKeyConstraint(
            ["patient_pk", "course_no"],
            ["treatment_course.patient_pk", "treatment_course.course_no"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("patient_pk", "course_no", "date", "manifestation"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    course_no: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    manifestation: Mapped[str | None] = mapped_column(String(10))
    response: Mapped[str] = mapped_column(String(2))


class Hsct(Versioned, Base):
    __tablename__ = "hsct"
    __table_args__ = (UniqueConstraint("patient_pk", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = _patient_fk()
    date: Mapped[dt.date] = mapped_column(Date)
    indication: Mapped[str | None] = mapped_column(Text)


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)


class AuditEvent(Base):
    """One change to patient data (or a login, export, ...). Append-only; each row hashes the one before."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_pk: Mapped[int | None] = mapped_column(Integer)
    entity_key: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    centre: Mapped[str | None] = mapped_column(String(16), index=True)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    batch_pk: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    # the trail of one record, in order (jakreg.store.audit_replay reads it per record)
    __table_args__ = (Index("ix_audit_event_entity_row", "entity", "entity_pk", "id"),)


class AuditBatch(Base):
    """The rows of one batch event (an import slice of one sheet and action): compressed columnar JSON.

    The event (audit_event, hash-chained) holds the Merkle root of these rows; ``entity`` and the range of
    record ids are copies of the event's, so "the history of record X" finds its batches by index."""

    __tablename__ = "audit_batch"
    # no foreign key: like the trail itself, it must not stop an event from being deleted; the chain
    # finds that (a foreign key would only make the tampering a two-step one)
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(40))
    min_pk: Mapped[int] = mapped_column(Integer)
    max_pk: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_audit_batch_entity_range", "entity", "min_pk", "max_pk"),)


class PseudonymCounter(Base):
    """The last number the server allocated per centre (pseudonyms ``<CENTRE>-0001``, ...)."""

    __tablename__ = "pseudonym_counter"
    centre_pk: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, nullable=False)


TABLE_FOR_SHEET: dict[str, type[Base]] = {
    "centres": Centre,
    "patients": Patient,
    "variants": Variant,
    "manifestations": Manifestation,
    "courses": TreatmentCourse,
    "doses": Dose,
    "body_measurements": BodyMeasurement,
    "assessments": Assessment,
    "assessment_items": AssessmentItem,
    "labs": LabResult,
    "biomarkers": BiomarkerResult,
    "adverse_events": AdverseEvent,
    "responses": TreatmentResponse,
    "hsct": Hsct,
}

# Columns computed by jakreg, not part of the workbook row (exported on derived sheets).
DERIVED_COLUMNS: dict[str, tuple[str, ...]] = {
    "doses": ("mg_per_kg_day", "mg_per_m2_day", "dose_rule", "dose_note"),
    "labs": (
        "canonical_value",
        "canonical_unit",
        "ctcae_term",
        "ctcae_grade",
        "ctcae_version",
        "ctcae_reason",
    ),
}
