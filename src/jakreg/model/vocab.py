"""Controlled vocabularies of the study workbook; each member's value is what a user types."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class YesNoUnknown(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class YesNo(StrEnum):
    yes = "yes"
    no = "no"


class Source(StrEnum):
    cohort = "cohort"
    literature = "literature"
    external = "external"


class VitalStatus(StrEnum):
    alive = "alive"
    deceased = "deceased"
    unknown = "unknown"


class Zygosity(StrEnum):
    heterozygous = "heterozygous"
    homozygous = "homozygous"
    mosaic = "mosaic"
    unknown = "unknown"


class Stat1Domain(StrEnum):
    n_terminal = "n_terminal"
    coiled_coil = "coiled_coil"
    dna_binding = "dna_binding"
    linker = "linker"
    sh2 = "sh2"
    tail_segment = "tail_segment"
    transactivation = "transactivation"
    unknown = "unknown"


class ManifestationStatus(StrEnum):
    """Status of a manifestation when the JAK inhibitor was started."""

    active = "active"
    resolved = "resolved"
    never = "never"


class Drug(StrEnum):
    ruxolitinib = "ruxolitinib"
    baricitinib = "baricitinib"
    tofacitinib = "tofacitinib"
    itacitinib = "itacitinib"
    upadacitinib = "upadacitinib"
    filgotinib = "filgotinib"
    abrocitinib = "abrocitinib"
    other = "other"


class StopReason(StrEnum):
    adverse_event = "adverse_event"
    hsct = "hsct"
    no_response = "no_response"
    remission = "remission"
    patient_choice = "patient_choice"
    other = "other"


class AssessorRole(StrEnum):
    physician = "physician"
    nurse = "nurse"
    study_coordinator = "study_coordinator"
    other = "other"


class Biomarker(StrEnum):
    pstat1 = "pstat1"
    stat1_total = "stat1_total"
    isg_score = "isg_score"
    cxcl10 = "cxcl10"
    ifn_gamma = "ifn_gamma"
    th17_cells = "th17_cells"
    tfh_cells = "tfh_cells"
    il17a_t_cells = "il17a_t_cells"
    other = "other"


class AdverseEventCategory(StrEnum):
    infection = "infection"
    hepatic = "hepatic"
    haematological = "haematological"
    metabolic = "metabolic"
    other = "other"


class Attribution(StrEnum):
    """Relatedness of an adverse event to the JAK inhibitor (the usual five-step scale)."""

    unrelated = "unrelated"
    unlikely = "unlikely"
    possible = "possible"
    probable = "probable"
    definite = "definite"


class ActionTaken(StrEnum):
    none = "none"
    dose_reduced = "dose_reduced"
    interrupted = "interrupted"
    withdrawn = "withdrawn"
    unknown = "unknown"


class Response(StrEnum):
    """Response to the JAK inhibitor: complete, partial, none, not evaluable."""

    CR = "CR"
    PR = "PR"
    NR = "NR"
    NE = "NE"
