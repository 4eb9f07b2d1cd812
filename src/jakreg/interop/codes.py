"""Ontology codes used in jakreg's phenopackets, each with where it was checked (see docs/interop.md).

Codes jakreg could not verify are jakreg's own ``jakreg:`` codes, documented in docs/interop.md; a drug
without a verified code keeps its name and is marked ``unverified`` in the course's extension.
"""

from __future__ import annotations

from jakreg.model.vocab import Drug, Response, StopReason

# GENO allelic states (as used by the phenopacket-store files in shared/reference/data/phenopackets).
HETEROZYGOUS = ("GENO:0000135", "heterozygous")
HOMOZYGOUS = ("GENO:0000136", "homozygous")
STAT1_GENE = ("HGNC:11362", "STAT1")
# AD STAT1 gain of function: OMIM #614162 "Candidiasis, familial, 7" (CANDF7), the STAT1 GOF entry.
STAT1_GOF = ("OMIM:614162", "Candidiasis, familial, 7, autosomal dominant")

# ChEBI ids of the JAK inhibitors that jakreg could verify (wikipathways/pfocr-database chemical tables).
DRUGS: dict[Drug, tuple[str, str]] = {
    Drug.ruxolitinib: ("CHEBI:66919", "ruxolitinib"),
    Drug.baricitinib: ("CHEBI:95341", "baricitinib"),
    Drug.tofacitinib: ("CHEBI:71200", "tofacitinib"),
}
ORAL_ROUTE = ("NCIT:C38288", "Oral Route of Administration")
MILLIGRAM = ("UO:0000022", "milligram")
TWICE_DAILY = ("NCIT:C64496", "Twice Daily")
KILOGRAM = ("NCIT:C28252", "Kilogram")
CENTIMETER = ("NCIT:C49668", "Centimeter")
BODY_WEIGHT = ("LOINC:29463-7", "Body weight")
BODY_HEIGHT = ("LOINC:8302-2", "Body height")

# NCIt response terms (chicagopcdc/linkml-data-dictionary ResponseEnum).
RESPONSES: dict[Response, tuple[str, str]] = {
    Response.CR: ("NCIT:C4870", "Complete Response"),
    Response.PR: ("NCIT:C18058", "Partial Response"),
    Response.NR: ("NCIT:C173526", "Non-Response"),
    Response.NE: ("NCIT:C62222", "Not Evaluable"),
}

LOCAL = "jakreg"


def local(kind: str, code: str, label: str) -> tuple[str, str]:
    """A jakreg code (``jakreg:kind/code``), for what no verified ontology term covers."""
    return f"{LOCAL}:{kind}/{code}", label


def drug_code(drug: Drug) -> tuple[str, str, bool]:
    """(id, label, verified) of a JAK inhibitor."""
    if drug in DRUGS:
        return *DRUGS[drug], True
    return *local("drug", drug.value, drug.value), False


def stop_reason_code(reason: StopReason) -> tuple[str, str]:
    return local("stop_reason", reason.value, reason.value.replace("_", " "))


HSCT = local("procedure", "hsct", "Haematopoietic stem cell transplantation")
