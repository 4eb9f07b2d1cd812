"""One validated row type per workbook sheet: the import schema shared by the importer, the web forms and the API.

Row-level rules live here (types, vocabularies, ranges, order of dates inside one row). Rules that need
other rows (references, duplicates, dates inside a patient's life) live in jakreg.ingest.checks.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from jakreg.model.fields import Date, FreeText, Pseudonym, YearMonth, problem
from jakreg.model.vocab import (
    ActionTaken,
    AdverseEventCategory,
    AssessorRole,
    Attribution,
    Biomarker,
    Drug,
    ManifestationStatus,
    Response,
    Sex,
    Source,
    Stat1Domain,
    StopReason,
    VitalStatus,
    YesNo,
    YesNoUnknown,
    Zygosity,
)


def unit(u: str) -> dict[str, Any]:
    return {"unit": u}


class Row(BaseModel):
    """Base of every workbook row: strict about unknown fields, whitespace trimmed, immutable."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, use_enum_values=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and _CONTROL.search(value):
            raise problem(
                "the text holds an invisible control character",
                "retype the cell (control characters such as NUL cannot be stored)",
            )
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _not_in_future(cls, value: Any, info: ValidationInfo) -> Any:
        today = (info.context or {}).get("today") if info.context else None
        if (
            isinstance(value, dt.date)
            and today is not None
            and value > today
            and info.field_name not in _FUTURE_ALLOWED
        ):
            raise problem(
                f"the date {value.isoformat()} is in the future",
                "check the year; jakreg records what has happened",
            )
        return value


_FUTURE_ALLOWED: frozenset[str] = frozenset()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_stop(start: dt.date, stop: dt.date | None, what: str, column: str) -> None:
    if stop is not None and stop < start:
        raise problem(
            f"{what} ({stop.isoformat()}) is before the start ({start.isoformat()})",
            "check both dates; the stop must be on or after the start",
            column,
        )


class CentreRow(Row):
    centre: str = Field(
        pattern=r"^[A-Z0-9][A-Z0-9-]{1,15}$",
        description="Centre code used throughout the study (capital letters, digits, hyphens)",
    )
    name: str = Field(max_length=200, description="Centre name (institution, city)")
    country: str = Field(
        pattern=r"^[A-Z]{2}$", description="Country as an ISO 3166-1 alpha-2 code (e.g. ES, DE)"
    )
    data_cutoff: Date | None = Field(
        None, description="Date up to which this centre's data are complete"
    )


class PatientRow(Row):
    patient_id: Pseudonym = Field(
        description="Study pseudonym (e.g. BCN-01); never a name or a hospital record number"
    )
    centre: str = Field(max_length=16, description="Code of the centre in the centres sheet")
    local_id: str | None = Field(
        None,
        max_length=64,
        description="The centre's own reference; kept only at that centre, never in pooled data",
    )
    sex: Sex = Field(description="Sex")
    birth_year_month: YearMonth | None = Field(
        None,
        description="Year and month of birth (YYYY-MM); never the full date. Required for cohort",
    )
    consanguinity: YesNoUnknown = Field(YesNoUnknown.unknown, description="Parents consanguineous")
    family_history: YesNoUnknown = Field(
        YesNoUnknown.unknown, description="Affected relatives with STAT1 GOF disease"
    )
    source: Source = Field(
        Source.cohort,
        description="cohort (your patients), literature (published case) or external (other registry)",
    )
    citation: str | None = Field(
        None,
        max_length=200,
        description="PMID:12345678 or DOI:10.x/...; required for literature cases",
    )
    last_follow_up: Date | None = Field(None, description="Date of the last follow-up visit")
    vital_status: VitalStatus = Field(
        VitalStatus.unknown, description="Vital status at the last follow-up"
    )
    lost_to_follow_up: YesNo = Field(
        YesNo.no,
        description="yes when contact was lost after last_follow_up: no further visits are expected",
    )

    @field_validator("citation")
    @classmethod
    def _citation(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if re.fullmatch(r"PMID:\d{1,9}", value) or re.fullmatch(r"DOI:10\.\d{4,9}/\S+", value):
            return value
        raise problem(
            "not a citation jakreg understands",
            "write PMID:12345678 or DOI:10.1007/s10875-022-01257-x",
        )

    @model_validator(mode="after")
    def _literature_needs_citation(self) -> Self:
        if self.source is Source.literature and self.citation is None:
            raise problem(
                "a literature case needs its citation",
                "fill in citation with PMID:… or DOI:…",
                "citation",
            )
        if self.source is Source.cohort and self.birth_year_month is None:
            raise problem(
                "a cohort patient needs a birth year and month",
                "fill in birth_year_month as YYYY-MM",
                "birth_year_month",
            )
        if self.lost_to_follow_up is YesNo.yes and self.last_follow_up is None:
            raise problem(
                "a patient lost to follow-up needs the date of the last follow-up",
                "fill in last_follow_up with the last date the patient was seen",
                "last_follow_up",
            )
        if self.lost_to_follow_up is YesNo.yes and self.vital_status is VitalStatus.deceased:
            raise problem(
                "a deceased patient is not lost to follow-up",
                "set lost_to_follow_up to no (last_follow_up is the date of death)",
                "lost_to_follow_up",
            )
        return self


class VariantRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    gene: str = Field("STAT1", max_length=20, description="Gene symbol (HGNC)")
    transcript: str | None = Field(
        None,
        max_length=40,
        pattern=r"^(NM|NR|XM|ENST)_?\d+(\.\d+)?$",
        description="Reference transcript of the c. notation (e.g. NM_007315.4)",
    )
    hgvs_c: str | None = Field(
        None, max_length=200, description="cDNA change in HGVS (e.g. c.821G>A)"
    )
    hgvs_p: str | None = Field(
        None,
        max_length=200,
        description="Protein change in HGVS (e.g. p.Arg274Gln or p.(Arg274Gln))",
    )
    zygosity: Zygosity = Field(Zygosity.heterozygous, description="Zygosity")
    domain: Stat1Domain | None = Field(
        None, description="STAT1 protein domain; derived from the protein position when blank"
    )

    @model_validator(mode="after")
    def _needs_a_change(self) -> Self:
        if self.hgvs_c is None and self.hgvs_p is None:
            raise problem(
                "a variant needs its cDNA or protein change",
                "fill in hgvs_c (e.g. c.821G>A) or hgvs_p (e.g. p.Arg274Gln)",
                "hgvs_c",
            )
        return self


class ManifestationRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    hpo_id: str = Field(pattern=r"^HP:\d{7}$", description="HPO term id (e.g. HP:0002728 for CMC)")
    hpo_label: str | None = Field(
        None, max_length=300, description="HPO term label; checked against the id"
    )
    onset_age_years: float | None = Field(
        None, ge=0, le=120, description="Age at onset", json_schema_extra=unit("years")
    )
    status_at_start: ManifestationStatus = Field(
        description="active, resolved or never (explicitly absent) when the JAK inhibitor started"
    )


class CourseRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    course_no: int = Field(ge=1, le=99, description="Number of the treatment course (1, 2, …)")
    drug: Drug = Field(description="JAK inhibitor")
    start_date: Date = Field(description="First day of the course")
    stop_date: Date | None = Field(None, description="Last day of the course; blank if ongoing")
    stop_reason: StopReason | None = Field(None, description="Why the course stopped")
    stop_detail: FreeText | None = Field(None, description="Detail of the stop reason")
    indication: FreeText | None = Field(
        None, description="Manifestations the JAK inhibitor was started for"
    )
    prior_therapies: FreeText | None = Field(
        None, description="Earlier immunomodulatory therapies, separated by ;"
    )
    concomitant_therapies: FreeText | None = Field(
        None, description="Therapies given alongside, separated by ; (include azoles)"
    )
    azole_comedication: YesNoUnknown = Field(
        YesNoUnknown.unknown, description="An azole antifungal given alongside (raises exposure)"
    )

    @model_validator(mode="after")
    def _stop(self) -> Self:
        _check_stop(self.start_date, self.stop_date, "the stop date", "stop_date")
        if self.stop_date is not None and self.stop_reason is None:
            raise problem(
                "a stopped course needs its stop reason", "fill in stop_reason", "stop_reason"
            )
        if self.stop_date is None and self.stop_reason is not None:
            raise problem(
                "a stop reason is given but no stop date",
                "fill in stop_date, or clear stop_reason if the course is ongoing",
                "stop_reason",
            )
        if self.stop_reason is StopReason.other and self.stop_detail is None:
            raise problem(
                "stop reason 'other' needs a detail",
                "say why in stop_detail (no identifiers)",
                "stop_detail",
            )
        return self


class DoseRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    course_no: int = Field(ge=1, le=99, description="Treatment course number")
    date: Date = Field(description="Date this dose started")
    mg_per_dose: float = Field(gt=0, le=1000, json_schema_extra=unit("mg"), description="Dose")
    doses_per_day: float = Field(gt=0, le=6, description="Doses per day (2 = twice daily)")
    weight_kg: float | None = Field(
        None, gt=0, le=250, json_schema_extra=unit("kg"), description="Body weight at this dose"
    )
    height_cm: float | None = Field(
        None, gt=20, le=250, json_schema_extra=unit("cm"), description="Height at this dose"
    )


class BodyMeasurementRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date measured")
    weight_kg: float | None = Field(
        None, gt=0, le=250, json_schema_extra=unit("kg"), description="Body weight"
    )
    height_cm: float | None = Field(
        None, gt=20, le=250, json_schema_extra=unit("cm"), description="Height"
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.weight_kg is None and self.height_cm is None:
            raise problem(
                "a measurement needs a weight or a height",
                "fill in weight_kg or height_cm",
                "weight_kg",
            )
        return self


class AssessmentRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date of the assessment")
    score: str = Field("IDDA", max_length=40, description="Score name (IDDA)")
    score_version: str = Field(
        "unknown", max_length=20, description="Score version (e.g. 2.1); unknown if not recorded"
    )
    total: float | None = Field(None, ge=0, le=1000, description="Total as reported by the centre")
    assessor_role: AssessorRole = Field(AssessorRole.physician, description="Who assessed")


class AssessmentItemRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date of the assessment in the assessments sheet")
    score: str = Field("IDDA", max_length=40, description="Score name, as in the assessments sheet")
    item: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Item name from the score definition"
    )
    value: float = Field(description="Item value (level)")


class LabRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date sampled")
    analyte: str = Field(max_length=20, description="Analyte code (see the data dictionary)")
    value: float = Field(ge=0, description="Value as reported")
    unit: str = Field(
        max_length=20, description="Unit as reported; converted to the canonical unit"
    )
    lln: float | None = Field(None, ge=0, description="Lower limit of normal, in the same unit")
    uln: float | None = Field(None, ge=0, description="Upper limit of normal, in the same unit")
    clinician_grade: int | None = Field(
        None, ge=0, le=5, description="CTCAE grade given by a clinician (overrides the computed)"
    )

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.lln is not None and self.uln is not None and self.lln > self.uln:
            raise problem(
                f"the lower limit ({self.lln:g}) is above the upper limit ({self.uln:g})",
                "check the reference range columns",
                "lln",
            )
        return self


class BiomarkerRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date sampled")
    marker: Biomarker = Field(description="Biomarker")
    marker_detail: str | None = Field(
        None, max_length=100, description="Which marker, when marker is 'other'; assay conditions"
    )
    value: float = Field(description="Value")
    unit: str = Field(max_length=40, description="Unit (e.g. MFI ratio, pg/mL, score)")
    ref_low: float | None = Field(None, description="Lower end of the laboratory's reference range")
    ref_high: float | None = Field(
        None, description="Upper end of the laboratory's reference range"
    )

    @model_validator(mode="after")
    def _other(self) -> Self:
        if self.marker is Biomarker.other and not self.marker_detail:
            raise problem(
                "marker 'other' needs its name",
                "say which marker in marker_detail",
                "marker_detail",
            )
        return self


class AdverseEventRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    course_no: int | None = Field(None, ge=1, le=99, description="Course during which it began")
    term: FreeText = Field(description="CTCAE term (e.g. Lung infection, ALT increased)")
    category: AdverseEventCategory = Field(description="Category")
    onset_date: Date = Field(description="Onset")
    resolution_date: Date | None = Field(None, description="Resolution; blank if ongoing")
    grade: int | None = Field(None, ge=1, le=5, description="CTCAE grade")
    serious: YesNoUnknown = Field(YesNoUnknown.unknown, description="Serious adverse event")
    attribution: Attribution = Field(description="Relation to the JAK inhibitor")
    action_taken: ActionTaken = Field(
        ActionTaken.unknown, description="Action on the JAK inhibitor"
    )

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _check_stop(self.onset_date, self.resolution_date, "the resolution date", "resolution_date")
        return self


class ResponseRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    course_no: int = Field(ge=1, le=99, description="Treatment course number")
    date: Date = Field(description="Date the response was judged")
    manifestation: str | None = Field(
        None,
        pattern=r"^HP:\d{7}$",
        description="HPO id of one manifestation; blank for the global response",
    )
    response: Response = Field(description="CR, PR, NR or NE (not evaluable)")


class HsctRow(Row):
    patient_id: Pseudonym = Field(description="Study pseudonym from the patients sheet")
    date: Date = Field(description="Date of the transplant")
    indication: FreeText | None = Field(None, description="Why the transplant was done")
