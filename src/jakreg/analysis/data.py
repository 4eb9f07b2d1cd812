"""The rows an analysis reads, as plain frozen records: what the pure analysis functions take."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class CentreData:
    centre: str
    name: str
    country: str
    data_cutoff: dt.date | None


@dataclass(frozen=True)
class VariantData:
    gene: str
    hgvs_p: str | None
    domain: str | None  # as recorded (vocab code, e.g. coiled_coil); None when not recorded


@dataclass(frozen=True)
class ManifestationData:
    hpo_id: str
    hpo_label: str | None
    status_at_start: str  # active | resolved | never


@dataclass(frozen=True)
class CourseData:
    course_no: int
    drug: str
    start: dt.date
    stop: dt.date | None
    stop_reason: str | None
    stop_detail: str | None
    indication: str | None
    prior_therapies: str | None
    concomitant_therapies: str | None
    azole_comedication: str


@dataclass(frozen=True)
class DoseData:
    course_no: int
    on: dt.date
    mg_per_dose: float
    doses_per_day: float
    mg_per_kg_day: float | None
    mg_per_m2_day: float | None


@dataclass(frozen=True)
class AssessmentData:
    on: dt.date
    score: str
    score_version: str
    total: float | None
    assessor_role: str = "physician"  # physician | nurse | study_coordinator | other


class LabData(NamedTuple):
    """A tuple (a registry has a hundred lab values per patient: a tuple is made in half the time
    of a frozen dataclass, and is as immutable)."""

    on: dt.date
    analyte: str
    ctcae_term: str | None
    ctcae_grade: int | None
    ctcae_version: str | None
    multiple_of_uln: float | None  # canonical value / canonical ULN, when both are known


@dataclass(frozen=True)
class BiomarkerData:
    on: dt.date
    marker: str  # vocab code: pstat1, isg_score, cxcl10, ...
    marker_detail: str | None
    value: float
    unit: str  # as the lab reported it
    ref_low: float | None  # the lab's reference range, when given
    ref_high: float | None

    @property
    def label(self) -> str:
        return self.marker + (f" ({self.marker_detail})" if self.marker_detail else "")


@dataclass(frozen=True)
class AdverseEventData:
    course_no: int | None
    term: str
    category: str
    onset: dt.date
    grade: int | None
    serious: str
    attribution: str


@dataclass(frozen=True)
class ResponseData:
    course_no: int
    on: dt.date
    manifestation: str | None  # None: the global response
    response: str


@dataclass(frozen=True)
class PatientData:
    """One patient with every row the analysis may use, each list sorted by date."""

    patient_id: str
    centre: str
    sex: str
    birth_year_month: str | None
    source: str
    citation: str | None
    last_follow_up: dt.date | None
    vital_status: str
    variants: tuple[VariantData, ...] = ()
    manifestations: tuple[ManifestationData, ...] = ()
    courses: tuple[CourseData, ...] = ()
    doses: tuple[DoseData, ...] = ()
    assessments: tuple[AssessmentData, ...] = ()
    labs: tuple[LabData, ...] = ()
    adverse_events: tuple[AdverseEventData, ...] = ()
    responses: tuple[ResponseData, ...] = ()
    hsct: tuple[dt.date, ...] = ()
    biomarkers: tuple[BiomarkerData, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The selected patients (and, separately, literature cases) with the data's fingerprint."""

    patients: tuple[PatientData, ...]
    centres: tuple[CentreData, ...]
    literature: tuple[PatientData, ...]
    sha256: str
    synthetic_example: bool
    centre_filter: str | None
    source_filter: str | None
