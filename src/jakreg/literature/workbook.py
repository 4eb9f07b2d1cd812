"""The literature set as study-workbook rows (centre LIT, source=literature), validated, with what was left out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from jakreg.ingest.vocabularies import hgvs_problem, hpo_term
from jakreg.literature.compare import died_as_stated
from jakreg.literature.model import FlagCode, LiteratureCase, LiteratureSet
from jakreg.literature.response import normalise_words, split_phrases
from jakreg.model.rows import CentreRow, ManifestationRow, PatientRow, Row, VariantRow
from jakreg.model.vocab import Source, VitalStatus, Zygosity

LITERATURE_CENTRE: dict[str, Any] = {
    "centre": "LIT",
    "name": "Published literature (curated)",
    "country": "XX",
}
HPO_TABLE_FILE = "data/manifestation_hpo.yaml"
SHEETS = ("centres", "patients", "variants", "manifestations", "courses")

NO_COURSE_REASON = (
    "the start date is not reported, and the courses sheet needs one; the course (drug, dose, stop, "
    "response) is carried in the literature set only"
)


@dataclass(frozen=True)
class Omission:
    """Something of the set that was not written as a workbook row, and why."""

    case_id: str
    sheet: str
    what: str
    reason: str


@dataclass(frozen=True)
class HpoMapping:
    case_id: str
    words: str
    hpo_id: str
    hpo_label: str
    status_at_start: str
    basis: str


@dataclass(frozen=True)
class HpoTable:
    version: str
    mapped: tuple[HpoMapping, ...]
    not_mapped: Mapping[tuple[str, str], str]  # (case_id, normalised words) -> reason


@cache
def hpo_table() -> HpoTable:
    """The packaged manifestation-to-HPO table (data/manifestation_hpo.yaml)."""
    raw = yaml.safe_load(
        resources.files("jakreg.literature").joinpath(HPO_TABLE_FILE).read_text("utf-8")
    )
    mapped = tuple(
        HpoMapping(
            case_id=str(m["case_id"]),
            words=" ".join(str(m["words"]).split()),
            hpo_id=str(m["hpo_id"]),
            hpo_label=str(m["hpo_label"]),
            status_at_start=str(m["status_at_start"]),
            basis=str(m["basis"]),
        )
        for m in raw.get("mapped", [])
    )
    not_mapped = {
        (str(m["case_id"]), normalise_words(str(m["words"]))): " ".join(str(m["reason"]).split())
        for m in raw.get("not_mapped", [])
    }
    return HpoTable(str(raw["version"]), mapped, not_mapped)


@dataclass(frozen=True)
class WorkbookConversion:
    """Rows per sheet (every row validated by its row class, dumped as plain values) and the omissions."""

    rows: dict[str, list[dict[str, Any]]]
    omitted: tuple[Omission, ...]

    def omitted_from(self, sheet: str) -> tuple[Omission, ...]:
        return tuple(o for o in self.omitted if o.sheet == sheet)


def _validated(row_class: type[Row], values: dict[str, Any]) -> dict[str, Any]:
    return row_class.model_validate(values).model_dump(mode="json")


class _Builder:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {sheet: [] for sheet in SHEETS}
        self.omitted: list[Omission] = []

    def omit(self, case_id: str, sheet: str, what: str, reason: str) -> None:
        self.omitted.append(Omission(case_id, sheet, what, reason))

    def add(
        self, case_id: str, sheet: str, row_class: type[Row], values: dict[str, Any], what: str
    ) -> bool:
        try:
            self.rows[sheet].append(_validated(row_class, values))
        except ValidationError as exc:
            problems = "; ".join(str(e["msg"]) for e in exc.errors())
            self.omit(case_id, sheet, what, f"does not validate as a {sheet} row: {problems}")
            return False
        return True


def workbook_conversion(
    literature: LiteratureSet, *, honour_duplicates: bool = True
) -> WorkbookConversion:
    """The set as workbook rows plus everything that could not be written, each with its reason."""
    b = _Builder()
    b.add("LIT", "centres", CentreRow, dict(LITERATURE_CENTRE), "centre LIT")
    ids = {c.case_id for c in literature}
    for case in literature:
        duplicates = [i for i in case.possible_duplicate_of if i in ids]
        if honour_duplicates and duplicates:
            b.omit(
                case.case_id,
                "patients",
                "the whole case",
                f"possible duplicate of {' or '.join(duplicates)}; counted once "
                "(pass honour_duplicates=False to write it)",
            )
            continue
        citation = case.citation.identifier()
        if citation is None:
            b.omit(
                case.case_id,
                "patients",
                "the whole case",
                "neither PMID nor DOI is known in the curated set, and a literature patient needs "
                "its citation; add it to the set first",
            )
            continue
        if not _patient(b, case, citation):
            continue
        _variant(b, case)
        _manifestations(b, case)
        if case.jakinib.known:
            b.omit(case.case_id, "courses", f"course 1 ({case.jakinib.value})", NO_COURSE_REASON)
    return WorkbookConversion(b.rows, tuple(b.omitted))


def to_workbook_rows(
    literature: LiteratureSet, *, honour_duplicates: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Rows for the sheets centres, patients, variants, manifestations, courses (see workbook_conversion)."""
    return workbook_conversion(literature, honour_duplicates=honour_duplicates).rows


def _patient(b: _Builder, case: LiteratureCase, citation: str) -> bool:
    died, _ = died_as_stated(case)
    values = {
        "patient_id": case.case_id,
        "centre": LITERATURE_CENTRE["centre"],
        "sex": "unknown" if case.sex.value is None else case.sex.value.value,
        "source": Source.literature.value,
        "citation": citation,
        "vital_status": VitalStatus.deceased.value if died is True else VitalStatus.unknown.value,
    }
    return b.add(case.case_id, "patients", PatientRow, values, "the patient row")


def _variant(b: _Builder, case: LiteratureCase) -> None:
    cdna, protein = case.stat1_variant_cdna.value, case.stat1_variant_protein.value
    if cdna is None and protein is None:
        if case.domain.known:
            b.omit(
                case.case_id,
                "variants",
                f"domain {case.domain.value}",
                "the variant itself is not reported; a variants row needs its cDNA or protein change",
            )
        return
    what = " ".join(x for x in (cdna, protein) if x)
    if case.has_flag(FlagCode.variant_flagged) or case.has_flag(FlagCode.variant_codon_mismatch):
        b.omit(
            case.case_id,
            "variants",
            what,
            "the variant is flagged as inconsistent as printed; verify it against the original "
            "article before it enters the study",
        )
        return
    for text, prefix in ((cdna, "c."), (protein, "p.")):
        wrong = None if text is None else hgvs_problem(text, prefix)
        if wrong is not None:
            b.omit(case.case_id, "variants", what, f"{text}: {wrong}")
            return
    values = {
        "patient_id": case.case_id,
        "gene": "STAT1",
        "hgvs_c": cdna,
        "hgvs_p": protein,
        "zygosity": Zygosity.unknown.value,  # not reported; the sheet's default would say heterozygous
        "domain": None if case.domain.value is None else case.domain.value.value,
    }
    b.add(case.case_id, "variants", VariantRow, values, what)


def _manifestations(b: _Builder, case: LiteratureCase) -> None:
    text = case.main_manifestations.value
    if text is None:
        return
    table = hpo_table()
    entries = {normalise_words(m.words): m for m in table.mapped if m.case_id == case.case_id}
    for phrase in split_phrases(text):
        key = normalise_words(phrase)
        entry = entries.get(key)
        if entry is None:
            reason = table.not_mapped.get(
                (case.case_id, key), "no verified HPO mapping in data/manifestation_hpo.yaml"
            )
            b.omit(case.case_id, "manifestations", phrase, reason)
            continue
        term = hpo_term(entry.hpo_id)
        if term is None:
            b.omit(
                case.case_id,
                "manifestations",
                phrase,
                f"{entry.hpo_id} is not in the packaged HPO release",
            )
            continue
        if term.label.casefold() != entry.hpo_label.casefold():
            b.omit(
                case.case_id,
                "manifestations",
                phrase,
                f"{entry.hpo_id} is {term.label!r} in the packaged HPO, not {entry.hpo_label!r}",
            )
            continue
        values = {
            "patient_id": case.case_id,
            "hpo_id": term.id,
            "hpo_label": term.label,
            "status_at_start": entry.status_at_start,
        }
        b.add(case.case_id, "manifestations", ManifestationRow, values, phrase)
