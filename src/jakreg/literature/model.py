"""Typed, frozen objects of the curated literature set; every clinical value carries its source and confidence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from jakreg.errors import JakregError
from jakreg.literature.response import ResponseJudgement
from jakreg.model.vocab import Drug, Sex, Stat1Domain
from jakreg.rules.base import RuleInfo

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class LiteratureError(JakregError):
    """Base of the errors of jakreg.literature."""


class LiteratureDataError(LiteratureError):
    """The curated file breaks a rule of the set (a value without a source, an unreadable cell, drift)."""


class UnknownCaseError(LiteratureError):
    """A case id that is not in the set."""


class Confidence(StrEnum):
    """How far a value can be trusted, from the kind of text it was read in."""

    primary = "primary"  # the article's own text: abstract, title, bibliographic header/record
    secondary = "secondary"  # a third-party copy of the article (full-text or PubMed mirror)
    lay = "lay"  # a news or blog description of the paper
    unverified = "unverified"  # not in any accessible text, or derived from the DOI string
    not_reported = "not_reported"  # blank: nothing readable states it

    @property
    def low(self) -> bool:
        return self in (Confidence.lay, Confidence.unverified)


@dataclass(frozen=True)
class Sourced(Generic[T_co]):
    """One value as the curators read it: the value (None = not reported), where it came from, how sure.

    ``raw`` keeps the cell as written when the value was normalised from it (e.g. 'itacitinib (JAK1
    inhibitor)' -> itacitinib, '18 (at presentation)' -> 18.0).
    """

    value: T_co | None
    source: str
    confidence: Confidence
    raw: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def low_confidence(self) -> bool:
        return self.known and self.confidence.low


@dataclass(frozen=True)
class Judgement(Generic[T]):
    """A derived column of the set: the curators' judgement, not something a publication states."""

    column: str
    value: T | None
    text: str | None
    kind: str = "derived judgement"


@dataclass(frozen=True)
class Citation:
    first_author: Sourced[str]
    year: Sourced[int]
    journal: Sourced[str]
    title: Sourced[str]
    pmid: Sourced[str]
    doi: Sourced[str]
    pmcid: Sourced[str]

    def identifier(self) -> str | None:
        """'PMID:…' when known, else 'DOI:…', else None (the workbook's citation column)."""
        if self.pmid.value is not None:
            return f"PMID:{self.pmid.value}"
        if self.doi.value is not None:
            return f"DOI:{self.doi.value}"
        return None

    def label(self) -> str:
        """Short citation, e.g. 'Zimmerman O 2017, Open Forum Infectious Diseases'."""
        author = self.first_author.value or "author not reported"
        year = "" if self.year.value is None else f" {self.year.value}"
        journal = "" if self.journal.value is None else f", {self.journal.value}"
        return f"{author}{year}{journal}"

    def publication_key(self) -> str:
        """What makes two cases come from the same publication: PMID, DOI, or the bibliographic fields."""
        for field_ in (self.pmid, self.doi):
            if field_.value is not None:
                return field_.value.casefold()
        parts = (self.first_author.value, self.year.value, self.journal.value, self.title.value)
        return "|".join("" if p is None else str(p).casefold() for p in parts)


class FlagCode(StrEnum):
    variant_flagged = "variant_flagged"  # the curators flag the printed variant
    variant_codon_mismatch = "variant_codon_mismatch"  # c. position and p. codon disagree
    possible_duplicate = "possible_duplicate"  # may be the same person as another case
    lay_sources = "lay_sources"  # some values come only from lay summaries
    unverified_values = "unverified_values"  # some values are unverified or derived from the DOI


@dataclass(frozen=True)
class CaseFlag:
    code: FlagCode
    columns: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class DerivedJudgements:
    """The set's derived columns, parsed; each keeps the curators' text."""

    age_lt18_at_start: Judgement[bool]
    possible_deya14_guess: Judgement[str]
    possible_duplicate_of: Judgement[tuple[str, ...]]
    core_fields_filled_of_14: Judgement[int]


@dataclass(frozen=True)
class LiteratureCase:
    """One published patient. Blank stays None (unknown), never 'no'."""

    case_id: str
    citation: Citation
    age_at_jakinib_start_years: Sourced[float]
    age_as_described: Sourced[float]
    sex: Sourced[Sex]
    stat1_variant_protein: Sourced[str]
    stat1_variant_cdna: Sourced[str]
    domain: Sourced[Stat1Domain]
    main_manifestations: Sourced[str]
    jakinib: Sourced[Drug]
    dose: Sourced[str]
    indication: Sourced[str]
    response: Sourced[str]
    response_authors_words: Sourced[str]
    response_judgement: ResponseJudgement
    adverse_events: Sourced[str]
    discontinued: Sourced[bool]
    discontinuation_reason: Sourced[str]
    hsct_before: Sourced[bool]
    hsct_after: Sourced[bool]
    followup: Sourced[str]
    derived: DerivedJudgements
    flags: tuple[CaseFlag, ...]
    source_url: str | None
    evidence: str | None
    notes: str | None

    CLINICAL_FIELDS = (
        "age_at_jakinib_start_years",
        "age_as_described",
        "sex",
        "stat1_variant_protein",
        "stat1_variant_cdna",
        "domain",
        "main_manifestations",
        "jakinib",
        "dose",
        "indication",
        "response",
        "response_authors_words",
        "adverse_events",
        "discontinued",
        "discontinuation_reason",
        "hsct_before",
        "hsct_after",
        "followup",
    )

    def clinical_values(self) -> dict[str, Sourced[object]]:
        """Every clinical value by column name, each with its source and confidence."""
        return {name: getattr(self, name) for name in self.CLINICAL_FIELDS}

    def citation_values(self) -> dict[str, Sourced[object]]:
        c = self.citation
        return {
            "first_author": c.first_author,
            "year": c.year,
            "journal": c.journal,
            "title": c.title,
            "pmid": c.pmid,
            "doi": c.doi,
            "pmcid": c.pmcid,
        }

    @property
    def possible_duplicate_of(self) -> tuple[str, ...]:
        return self.derived.possible_duplicate_of.value or ()

    def has_flag(self, code: FlagCode) -> bool:
        return any(f.code is code for f in self.flags)


@dataclass(frozen=True)
class SetInfo:
    """What the set is: from the sidecar data/literature_cases.meta.yaml."""

    name: str
    version: str
    curation_date: str
    curation_date_note: str
    inclusion_criteria: str
    exclusion_criteria: tuple[str, ...]
    notes: tuple[str, ...]
    file: str
    sha256: str


@dataclass(frozen=True)
class LiteratureSet:
    info: SetInfo
    cases: tuple[LiteratureCase, ...]
    response_mapping: RuleInfo

    def __iter__(self) -> Iterator[LiteratureCase]:
        return iter(self.cases)

    def __len__(self) -> int:
        return len(self.cases)

    def case(self, case_id: str) -> LiteratureCase:
        for case in self.cases:
            if case.case_id == case_id:
                return case
        raise UnknownCaseError(f"no case {case_id!r} in the literature set {self.info.version}")

    @property
    def n_publications(self) -> int:
        return len({c.citation.publication_key() for c in self.cases})

    @property
    def n_distinct_people(self) -> int:
        """Cases, counting a possible duplicate of another case in the set once."""
        ids = {c.case_id for c in self.cases}
        return sum(1 for c in self.cases if not set(c.possible_duplicate_of) & ids)

    def unmapped_response_words(self) -> dict[str, tuple[str, ...]]:
        """case_id -> phrases of the authors' words the response mapping table does not hold."""
        return {
            c.case_id: c.response_judgement.unmapped
            for c in self.cases
            if c.response_judgement.unmapped
        }
