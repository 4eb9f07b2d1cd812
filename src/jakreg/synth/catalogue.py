"""The fixed lists the synthetic study draws from: real STAT1 GOF changes, verified HPO terms, lab ranges.

Every HPO id and label here was checked against the packaged ontology (hpo3:
``Ontology.get_hpo_object(id).name``); every c./p. pair is a published STAT1 gain-of-function change on
NM_007315.4 whose protein change follows from its codon. The values are plausible, not clinical truth.
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSCRIPT = "NM_007315.4"


@dataclass(frozen=True)
class VariantChoice:
    hgvs_c: str
    hgvs_p: str
    weight: float


# Weighted roughly as in published cohorts: Arg274 changes are the most frequent.
VARIANTS: tuple[VariantChoice, ...] = (
    VariantChoice("c.821G>A", "p.Arg274Gln", 0.30),
    VariantChoice("c.820C>T", "p.Arg274Trp", 0.15),
    VariantChoice("c.1154C>T", "p.Thr385Met", 0.20),
    VariantChoice("c.800C>T", "p.Ala267Val", 0.12),
    VariantChoice("c.494A>G", "p.Asp165Gly", 0.10),
    VariantChoice("c.1189A>G", "p.Asn397Asp", 0.13),
)


@dataclass(frozen=True)
class Phenotype:
    hpo_id: str
    label: str
    prevalence: float  # share of synthetic patients who have it
    short: str  # how a clinician names it in an indication


CMC = Phenotype("HP:0002728", "Chronic mucocutaneous candidiasis", 0.95, "CMC")
PHENOTYPES: tuple[Phenotype, ...] = (
    CMC,
    Phenotype("HP:0002205", "Recurrent respiratory infections", 0.45, "recurrent infections"),
    Phenotype("HP:0002110", "Bronchiectasis", 0.20, "bronchiectasis"),
    Phenotype("HP:0000821", "Hypothyroidism", 0.20, "hypothyroidism"),
    Phenotype("HP:0000872", "Hashimoto thyroiditis", 0.10, "autoimmune thyroiditis"),
    Phenotype("HP:0001890", "Autoimmune hemolytic anemia", 0.10, "autoimmune cytopenia"),
    Phenotype("HP:0001973", "Autoimmune thrombocytopenia", 0.12, "autoimmune cytopenia"),
    Phenotype("HP:0001904", "Autoimmune neutropenia", 0.05, "autoimmune cytopenia"),
    Phenotype("HP:0002028", "Chronic diarrhea", 0.20, "chronic diarrhoea"),
    Phenotype("HP:0004387", "Enterocolitis", 0.10, "enteropathy"),
    Phenotype("HP:0002243", "Protein-losing enteropathy", 0.03, "enteropathy"),
    Phenotype("HP:0001508", "Failure to thrive", 0.15, "failure to thrive"),
    Phenotype("HP:0004322", "Short stature", 0.15, "short stature"),
    Phenotype("HP:0100651", "Type I diabetes mellitus", 0.05, "type 1 diabetes"),
)


@dataclass(frozen=True)
class LabSpec:
    analyte: str
    unit: str
    lln: float | None
    uln: float | None
    typical: float  # median value in the canonical unit
    spread: float  # multiplicative spread (log-normal sigma)
    digits: int


# Canonical units; a centre that reports otherwise gets converted values and ranges (see ALT_UNITS etc.).
LABS: tuple[LabSpec, ...] = (
    LabSpec("alt", "U/L", None, 40.0, 22.0, 0.30, 0),
    LabSpec("neutrophils", "10^9/L", 1.5, 8.0, 3.2, 0.35, 2),
    LabSpec("platelets", "10^9/L", 150.0, 450.0, 270.0, 0.25, 0),
    LabSpec("haemoglobin", "g/L", 110.0, 150.0, 124.0, 0.08, 0),
    LabSpec("lymphocytes", "10^9/L", 1.0, 4.8, 2.3, 0.30, 2),
)

# Unit styles a centre may report in: name -> analyte -> (unit, factor from the canonical unit).
UNIT_STYLES: dict[str, dict[str, tuple[str, float]]] = {
    "si": {},
    "per_mm3": {
        "neutrophils": ("/mm3", 1000.0),
        "platelets": ("/mm3", 1000.0),
        "lymphocytes": ("/mm3", 1000.0),
        "haemoglobin": ("g/dL", 0.1),
    },
    "per_ul": {
        "neutrophils": ("10^3/µL", 1.0),
        "platelets": ("10^3/µL", 1.0),
        "lymphocytes": ("10^3/µL", 1.0),
        "alt": ("µkat/L", 1 / 60),
    },
}

COUNTRIES = ("ES", "DE", "FR", "IT", "GB", "NL", "BR", "US", "TR", "SE", "PL", "JP")

DRUGS = (("ruxolitinib", 0.72), ("baricitinib", 0.22), ("tofacitinib", 0.06))
SECOND_LINE = {
    "ruxolitinib": "baricitinib",
    "baricitinib": "ruxolitinib",
    "tofacitinib": "ruxolitinib",
}

PRIOR_THERAPIES = (
    "fluconazole",
    "corticosteroids",
    "IVIG",
    "rituximab",
    "sirolimus",
    "cotrimoxazole",
)
AZOLES = ("fluconazole", "posaconazole", "voriconazole")

STOP_REASONS = (
    ("adverse_event", 0.30),
    ("no_response", 0.25),
    ("hsct", 0.15),
    ("remission", 0.10),
    ("patient_choice", 0.12),
    ("other", 0.08),
)
STOP_DETAILS = {
    "adverse_event": "stopped for an adverse event",
    "no_response": "no clinical improvement",
    "hsct": "stopped before HSCT",
    "remission": "sustained remission",
    "patient_choice": "family decision",
    "other": "drug supply interrupted",
}


@dataclass(frozen=True)
class EventSpec:
    term: str
    category: str
    weight: float


ADVERSE_EVENTS: tuple[EventSpec, ...] = (
    EventSpec("Upper respiratory infection", "infection", 0.25),
    EventSpec("Herpes zoster", "infection", 0.10),
    EventSpec("Lung infection", "infection", 0.08),
    EventSpec("Urinary tract infection", "infection", 0.06),
    EventSpec("Weight gain", "metabolic", 0.14),
    EventSpec("Alanine aminotransferase increased", "hepatic", 0.12),
    EventSpec("Anemia", "haematological", 0.08),
    EventSpec("Neutrophil count decreased", "haematological", 0.07),
    EventSpec("Headache", "other", 0.05),
    EventSpec("Acne", "other", 0.05),
)
