"""The study workbook's sheets: which row type each holds, its natural key and what it refers to."""

from __future__ import annotations

from dataclasses import dataclass, field

from jakreg.model.rows import (
    AdverseEventRow,
    AssessmentItemRow,
    AssessmentRow,
    BiomarkerRow,
    BodyMeasurementRow,
    CentreRow,
    CourseRow,
    DoseRow,
    HsctRow,
    LabRow,
    ManifestationRow,
    PatientRow,
    ResponseRow,
    Row,
    VariantRow,
)


@dataclass(frozen=True)
class Reference:
    """Columns of this sheet that must match the key of a row in another sheet."""

    columns: tuple[str, ...]
    sheet: str
    target: tuple[str, ...]
    optional: bool = False  # True: checked only when every column is filled


@dataclass(frozen=True)
class SheetSpec:
    name: str
    row: type[Row]
    key: tuple[str, ...]
    description: str
    references: tuple[Reference, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return list(self.row.model_fields)


_PATIENT = Reference(("patient_id",), "patients", ("patient_id",))
_COURSE = Reference(("patient_id", "course_no"), "courses", ("patient_id", "course_no"))

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("centres", CentreRow, ("centre",), "One row per participating centre."),
    SheetSpec(
        "patients",
        PatientRow,
        ("patient_id",),
        "One row per patient, pseudonymised. No names, no full birth dates.",
        (Reference(("centre",), "centres", ("centre",)),),
    ),
    SheetSpec(
        "variants", VariantRow, ("patient_id", "hgvs_c", "hgvs_p"), "STAT1 variants.", (_PATIENT,)
    ),
    SheetSpec(
        "manifestations",
        ManifestationRow,
        ("patient_id", "hpo_id"),
        "Clinical manifestations coded with HPO, with their status when the JAK inhibitor started.",
        (_PATIENT,),
    ),
    SheetSpec(
        "courses",
        CourseRow,
        ("patient_id", "course_no"),
        "JAK-inhibitor treatment courses.",
        (_PATIENT,),
    ),
    SheetSpec(
        "doses",
        DoseRow,
        ("patient_id", "course_no", "date"),
        "Dose records over time: one row each time the dose changed.",
        (_COURSE,),
    ),
    SheetSpec(
        "body_measurements",
        BodyMeasurementRow,
        ("patient_id", "date"),
        "Weight and height over time.",
        (_PATIENT,),
    ),
    SheetSpec(
        "assessments",
        AssessmentRow,
        ("patient_id", "date", "score"),
        "Disease-activity assessments (IDDA): the total as reported.",
        (_PATIENT,),
    ),
    SheetSpec(
        "assessment_items",
        AssessmentItemRow,
        ("patient_id", "date", "score", "item"),
        "Optional item values of an assessment, one row per item.",
        (
            Reference(
                ("patient_id", "date", "score"), "assessments", ("patient_id", "date", "score")
            ),
        ),
    ),
    SheetSpec(
        "labs",
        LabRow,
        ("patient_id", "date", "analyte"),
        "Laboratory results with the laboratory's reference range.",
        (_PATIENT,),
    ),
    SheetSpec(
        "biomarkers",
        BiomarkerRow,
        ("patient_id", "date", "marker", "marker_detail"),
        "Biomarkers (pSTAT1, ISG score, CXCL10, ...); no validated cut-offs exist.",
        (_PATIENT,),
    ),
    SheetSpec(
        "adverse_events",
        AdverseEventRow,
        ("patient_id", "term", "onset_date"),
        "Adverse events with CTCAE grade and attribution.",
        (_PATIENT, Reference(_COURSE.columns, "courses", _COURSE.target, optional=True)),
    ),
    SheetSpec(
        "responses",
        ResponseRow,
        ("patient_id", "course_no", "date", "manifestation"),
        "Response to the JAK inhibitor: global (manifestation blank) or per manifestation.",
        (
            _COURSE,
            Reference(
                ("patient_id", "manifestation"),
                "manifestations",
                ("patient_id", "hpo_id"),
                optional=True,
            ),
        ),
    ),
    SheetSpec(
        "hsct",
        HsctRow,
        ("patient_id", "date"),
        "Haematopoietic stem cell transplants.",
        (_PATIENT,),
    ),
)

SHEETS_BY_NAME: dict[str, SheetSpec] = {s.name: s for s in SHEETS}
