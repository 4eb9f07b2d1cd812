"""Read the packaged literature_cases.csv into typed cases, conservatively: what is not stated stays None."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, TypeVar

import yaml

from jakreg.literature.model import (
    CaseFlag,
    Citation,
    Confidence,
    DerivedJudgements,
    FlagCode,
    Judgement,
    LiteratureCase,
    LiteratureDataError,
    LiteratureSet,
    SetInfo,
    Sourced,
)
from jakreg.literature.response import ResponseMapping, default_response_mapping, map_response
from jakreg.model.vocab import Drug, Sex, Stat1Domain

T = TypeVar("T")

CASES_FILE = "data/literature_cases.csv"
META_FILE = "data/literature_cases.meta.yaml"

COLUMNS = [
    "case_id",
    "first_author",
    "first_author_src",
    "year",
    "year_src",
    "journal",
    "journal_src",
    "title",
    "title_src",
    "pmid",
    "doi",
    "pmcid",
    "ids_src",
    "age_at_jakinib_start_years",
    "age_at_jakinib_start_src",
    "age_as_described",
    "age_as_described_src",
    "sex",
    "sex_src",
    "stat1_variant_protein",
    "stat1_variant_protein_src",
    "stat1_variant_cdna",
    "stat1_variant_cdna_src",
    "domain",
    "domain_src",
    "main_manifestations",
    "main_manifestations_src",
    "jakinib",
    "jakinib_src",
    "dose",
    "dose_src",
    "indication",
    "indication_src",
    "response",
    "response_src",
    "response_authors_words",
    "adverse_events",
    "adverse_events_src",
    "discontinued",
    "discontinuation_reason",
    "discontinuation_src",
    "hsct_before",
    "hsct_after",
    "hsct_src",
    "followup",
    "followup_src",
    "age_lt18_at_start",
    "possible_deya14_guess",
    "possible_duplicate_of",
    "core_fields_filled_of_14",
    "source_url",
    "evidence",
    "notes",
]

# The start of a source tag decides its confidence (literature_cases.md, "Columns"). The first source
# named in a cell is the one the value was read from; an unknown tag stops the load.
SOURCE_TAGS: tuple[tuple[re.Pattern[str], Confidence], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), confidence)
    for pattern, confidence in (
        (r"not reported|not found", Confidence.not_reported),
        (r"unverified|derived from doi", Confidence.unverified),
        (r"secondary lay summary", Confidence.lay),
        (r"full text \(third-party mirror\)|pubmed mirror", Confidence.secondary),
        (
            r"abstract|title|bibliographic (header|record)|article (page|xml)|introduction"
            r"|doi from article url",
            Confidence.primary,
        ),
    )
)

_YES_NO = {"yes": True, "no": False}
# The curators' words in age_lt18_at_start, read by their first word(s); anything else stops the load.
_AGE_LT18 = {"yes": True, "no": False, "no/borderline": False, "uncertain": None, "unknown": None}
_DEYA14 = ("yes", "plausible", "possible", "unlikely", "no", "unknown")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_NOT_REPORTED_RESPONSE = "not reported"


def classify_source(source: str) -> Confidence | None:
    """The confidence a source tag stands for, or None when the tag is not one the set uses."""
    text = source.strip()
    for pattern, confidence in SOURCE_TAGS:
        if pattern.match(text):
            return confidence
    return None


def load_cases(*, response_mapping: ResponseMapping | None = None) -> LiteratureSet:
    """The packaged literature set, with the response mapping given (default: the packaged table)."""
    root = resources.files("jakreg.literature")
    data = root.joinpath(CASES_FILE).read_bytes()
    meta = yaml.safe_load(root.joinpath(META_FILE).read_text("utf-8"))
    return parse_cases(data, meta, response_mapping=response_mapping)


def parse_cases(
    data: bytes, meta: Mapping[str, Any], *, response_mapping: ResponseMapping | None = None
) -> LiteratureSet:
    """Pure sibling of load_cases: the set from the CSV bytes and the sidecar's content."""
    info = _set_info(meta)
    digest = hashlib.sha256(data).hexdigest()
    if digest != info.sha256:
        raise LiteratureDataError(
            f"{info.file} does not match its sidecar (sha256 {digest}, expected {info.sha256}); "
            "after editing the cases, update version, curation_date and sha256 in the sidecar"
        )
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    header = list(reader.fieldnames or [])
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        raise LiteratureDataError(
            f"{info.file} has unexpected columns (missing: {missing or 'none'}; "
            f"unknown: {extra or 'none'})"
        )
    rows = list(reader)
    ids = [_cell(r, "case_id") for r in rows]
    if any(i is None for i in ids) or len(set(ids)) != len(ids):
        raise LiteratureDataError(f"{info.file}: every row needs its own case_id")
    known_ids = tuple(str(i) for i in ids)
    mapping = response_mapping or default_response_mapping()
    cases = tuple(_Row(r, known_ids).case(mapping) for r in rows)
    return LiteratureSet(info=info, cases=cases, response_mapping=mapping.info)


def _set_info(meta: Mapping[str, Any]) -> SetInfo:
    try:
        return SetInfo(
            name=str(meta["name"]),
            version=str(meta["version"]),
            curation_date=str(meta["curation_date"]),
            curation_date_note=" ".join(str(meta.get("curation_date_note", "")).split()),
            inclusion_criteria=" ".join(str(meta["inclusion_criteria"]).split()),
            exclusion_criteria=tuple(str(x) for x in meta.get("exclusion_criteria", [])),
            notes=tuple(" ".join(str(x).split()) for x in meta.get("notes", [])),
            file=str(meta["file"]),
            sha256=str(meta["sha256"]),
        )
    except KeyError as exc:
        raise LiteratureDataError(f"the literature sidecar lacks {exc.args[0]!r}") from None


def _cell(row: Mapping[str, str | None], column: str) -> str | None:
    text = (row.get(column) or "").strip()
    return text or None


class _Row:
    """One CSV row being read; every problem names the case and the column."""

    def __init__(self, row: Mapping[str, str | None], known_ids: tuple[str, ...]) -> None:
        self.row = row
        self.case_id = str(_cell(row, "case_id"))
        self.known_ids = known_ids

    def fail(self, column: str, message: str) -> LiteratureDataError:
        return LiteratureDataError(f"{self.case_id}, column {column}: {message}")

    def cell(self, column: str) -> str | None:
        return _cell(self.row, column)

    def sourced(
        self,
        column: str,
        src_column: str,
        parse: Callable[[str], T | None],
    ) -> Sourced[T]:
        raw = self.cell(column)
        source = self.cell(src_column) or ""
        if raw is None:
            return Sourced(None, source, Confidence.not_reported)
        confidence = classify_source(source)
        if confidence is None:
            raise self.fail(src_column, f"unknown source tag {source[:60]!r}")
        if confidence is Confidence.not_reported:
            raise self.fail(src_column, f"the value {raw!r} has no source ({source[:60]!r})")
        value = parse(raw)
        return Sourced(value, source, confidence, None if value == raw else raw)

    def text(self, column: str, src_column: str) -> Sourced[str]:
        return self.sourced(column, src_column, lambda s: s)

    # --- value parsers: strict, so that a new spelling is a loud error rather than a guess -------------

    def _year(self, text: str) -> int:
        if not re.fullmatch(r"(19|20)\d{2}", text):
            raise self.fail("year", f"not a year: {text!r}")
        return int(text)

    def _pattern(self, column: str, pattern: str) -> Callable[[str], str]:
        def parse(text: str) -> str:
            if not re.fullmatch(pattern, text):
                raise self.fail(column, f"not a {column}: {text!r}")
            return text

        return parse

    def _plain_number(self, text: str) -> float:
        if not _NUMBER.fullmatch(text):
            raise self.fail("age_at_jakinib_start_years", f"not a number of years: {text!r}")
        return float(text)

    def _age_as_described(self, text: str) -> float | None:
        # A number only where exactly one is stated ('42', '18 (at presentation)'); 'child' or
        # '15 at presentation; 17 at T1D diagnosis' stay None, the words kept in raw.
        numbers = _NUMBER.findall(text)
        return float(numbers[0]) if len(numbers) == 1 else None

    def _sex(self, text: str) -> Sex:
        word = text.casefold()
        if word not in ("male", "female"):
            raise self.fail("sex", f"write male or female, got {text!r}")
        return Sex(word)

    def _drug(self, text: str) -> Drug:
        m = re.match(r"([a-z]+)\b", text.casefold())
        names = {d.value for d in Drug} - {Drug.other.value}
        if m is None or m.group(1) not in names:
            raise self.fail("jakinib", f"not a JAK inhibitor jakreg knows: {text!r}")
        return Drug(m.group(1))

    def _domain(self, text: str) -> Stat1Domain:
        code = re.sub(r"[\s-]+", "_", text.casefold())
        try:
            return Stat1Domain(code)
        except ValueError:
            raise self.fail("domain", f"not a STAT1 domain: {text!r}") from None

    def _protein(self, text: str) -> str:
        # 'p.E355K (as printed; see notes)' -> 'p.E355K'; the note stays in raw.
        return re.sub(r"\s*\(.*\)\s*$", "", text)

    def _yes_no(self, column: str) -> Callable[[str], bool]:
        def parse(text: str) -> bool:
            word = text.casefold()
            if word not in _YES_NO:
                raise self.fail(column, f"write yes or no (blank when not reported), got {text!r}")
            return _YES_NO[word]

        return parse

    # --- the case ----------------------------------------------------------------------------------

    def citation(self) -> Citation:
        return Citation(
            first_author=self.text("first_author", "first_author_src"),
            year=self.sourced("year", "year_src", self._year),
            journal=self.text("journal", "journal_src"),
            title=self.text("title", "title_src"),
            pmid=self.sourced("pmid", "ids_src", self._pattern("pmid", r"\d{1,9}")),
            doi=self.sourced("doi", "ids_src", self._pattern("doi", r"10\.\d{4,9}/\S+")),
            pmcid=self.sourced("pmcid", "ids_src", self._pattern("pmcid", r"PMC\d+")),
        )

    def derived(self) -> DerivedJudgements:
        lt18_text = self.cell("age_lt18_at_start")
        lt18: bool | None = None
        if lt18_text is not None:
            key = next(
                (k for k in sorted(_AGE_LT18, key=len, reverse=True) if _starts(lt18_text, k)),
                None,
            )
            if key is None:
                raise self.fail("age_lt18_at_start", f"unknown judgement {lt18_text!r}")
            lt18 = _AGE_LT18[key]
        deya_text = self.cell("possible_deya14_guess")
        deya = None
        if deya_text is not None:
            deya = next((k for k in _DEYA14 if _starts(deya_text, k)), None)
            if deya is None:
                raise self.fail("possible_deya14_guess", f"unknown judgement {deya_text!r}")
        dup_text = self.cell("possible_duplicate_of")
        dups: tuple[str, ...] | None = None
        if dup_text is not None:
            dups = tuple(
                i for i in self.known_ids if i != self.case_id and re.search(_word(i), dup_text)
            )
            if not dups:
                raise self.fail("possible_duplicate_of", f"names no case of the set: {dup_text!r}")
        core_text = self.cell("core_fields_filled_of_14")
        core = None
        if core_text is not None:
            if not re.fullmatch(r"\d{1,2}", core_text) or int(core_text) > 14:
                raise self.fail("core_fields_filled_of_14", f"not a count of 0-14: {core_text!r}")
            core = int(core_text)
        return DerivedJudgements(
            age_lt18_at_start=Judgement("age_lt18_at_start", lt18, lt18_text),
            possible_deya14_guess=Judgement("possible_deya14_guess", deya, deya_text),
            possible_duplicate_of=Judgement("possible_duplicate_of", dups, dup_text),
            core_fields_filled_of_14=Judgement("core_fields_filled_of_14", core, core_text),
        )

    def case(self, mapping: ResponseMapping) -> LiteratureCase:
        words = self.text("response_authors_words", "response_src")
        values: dict[str, Any] = {
            "citation": self.citation(),
            "age_at_jakinib_start_years": self.sourced(
                "age_at_jakinib_start_years", "age_at_jakinib_start_src", self._plain_number
            ),
            "age_as_described": self.sourced(
                "age_as_described", "age_as_described_src", self._age_as_described
            ),
            "sex": self.sourced("sex", "sex_src", self._sex),
            "stat1_variant_protein": self.sourced(
                "stat1_variant_protein", "stat1_variant_protein_src", self._protein
            ),
            "stat1_variant_cdna": self.text("stat1_variant_cdna", "stat1_variant_cdna_src"),
            "domain": self.sourced("domain", "domain_src", self._domain),
            "main_manifestations": self.text("main_manifestations", "main_manifestations_src"),
            "jakinib": self.sourced("jakinib", "jakinib_src", self._drug),
            "dose": self.text("dose", "dose_src"),
            "indication": self.text("indication", "indication_src"),
            "response": self.text("response", "response_src"),
            "response_authors_words": words,
            "response_judgement": map_response(words.value, mapping),
            "adverse_events": self.text("adverse_events", "adverse_events_src"),
            "discontinued": self.sourced(
                "discontinued", "discontinuation_src", self._yes_no("discontinued")
            ),
            "discontinuation_reason": self.text("discontinuation_reason", "discontinuation_src"),
            "hsct_before": self.sourced("hsct_before", "hsct_src", self._yes_no("hsct_before")),
            "hsct_after": self.sourced("hsct_after", "hsct_src", self._yes_no("hsct_after")),
            "followup": self.text("followup", "followup_src"),
        }
        derived = self.derived()
        case = LiteratureCase(
            case_id=self.case_id,
            derived=derived,
            flags=(),
            source_url=self.cell("source_url"),
            evidence=self.cell("evidence"),
            notes=self.cell("notes"),
            **values,
        )
        return _with_flags(case)


def _starts(text: str, word: str) -> bool:
    return re.match(re.escape(word) + r"(?![\w/])", text.strip(), re.IGNORECASE) is not None


def _word(case_id: str) -> str:
    return r"(?<![\w-])" + re.escape(case_id) + r"(?![\w-])"


_C_SUBSTITUTION = re.compile(r"^c\.(\d+)[ACGT]>[ACGT]$")
_P_SUBSTITUTION = re.compile(r"^p\.\(?([A-Z](?:[a-z]{2})?)(\d+)([A-Z](?:[a-z]{2})?|\*|Ter)\)?$")


def codon_mismatch(cdna: str | None, protein: str | None) -> str | None:
    """Why a coding substitution and a protein change cannot describe the same variant, or None.

    Only simple substitutions are compared: c.N lies in codon ceil(N / 3).
    """
    if cdna is None or protein is None:
        return None
    c = _C_SUBSTITUTION.match(cdna)
    p = _P_SUBSTITUTION.match(protein)
    if c is None or p is None:
        return None
    position = int(c.group(1))
    codon = (position + 2) // 3
    printed = int(p.group(2))
    if codon == printed:
        return None
    return f"{cdna} lies in codon {codon}, but the protein change {protein} names codon {printed}"


def _with_flags(case: LiteratureCase) -> LiteratureCase:
    flags: list[CaseFlag] = []
    if case.notes is not None and "VARIANT FLAG" in case.notes:
        flags.append(
            CaseFlag(
                FlagCode.variant_flagged,
                ("stat1_variant_protein", "stat1_variant_cdna"),
                "the curators flag this variant: "
                + case.notes.split("VARIANT FLAG:", 1)[-1].strip(),
            )
        )
    mismatch = codon_mismatch(case.stat1_variant_cdna.value, case.stat1_variant_protein.value)
    if mismatch is not None:
        flags.append(
            CaseFlag(
                FlagCode.variant_codon_mismatch,
                ("stat1_variant_protein", "stat1_variant_cdna"),
                mismatch + "; kept as printed, verify against the original article",
            )
        )
    if case.possible_duplicate_of:
        flags.append(
            CaseFlag(
                FlagCode.possible_duplicate,
                ("possible_duplicate_of",),
                "possibly the same person as "
                + " or ".join(case.possible_duplicate_of)
                + f" (curators' judgement: {case.derived.possible_duplicate_of.text!r}); "
                "counted once",
            )
        )
    values = {**case.citation_values(), **case.clinical_values()}
    for confidence, code, what in (
        (Confidence.lay, FlagCode.lay_sources, "come only from lay summaries"),
        (Confidence.unverified, FlagCode.unverified_values, "are unverified or derived"),
    ):
        columns = tuple(
            name for name, v in values.items() if v.known and v.confidence is confidence
        )
        if columns:
            flags.append(CaseFlag(code, columns, f"{', '.join(columns)} {what}"))
    return dataclasses.replace(case, flags=tuple(flags))
