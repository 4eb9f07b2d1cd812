"""Plain per-patient records of the literature set for the cohort-vs-literature comparison, and their summary."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from jakreg.literature.model import Confidence, LiteratureCase, LiteratureSet, Sourced
from jakreg.literature.response import ResponseCategory

# The variables a record compares, in the order a report shows them.
COMPARED = (
    "age_years",
    "adult",
    "sex",
    "drug",
    "response_category",
    "stopped",
    "stop_reason",
    "infection_ae",
    "died",
)

# infection_ae: True when a listed adverse event names an infection; False only when the source says no
# other side effects occurred; otherwise None (not reported is not "no").
INFECTION_WORDS = re.compile(
    r"infection|sepsis|pneumonia|zoster|herpes|abscess|cellulitis|tuberculosis|candid|bacteraemia"
    r"|bacteremia|viraemia|viremia",
    re.IGNORECASE,
)
NO_OTHER_SIDE_EFFECTS = re.compile(
    r"did not report any other side effects|no other (side|adverse) effects", re.IGNORECASE
)
# died: True when the follow-up or response says so; never False from silence.
DEATH_WORDS = re.compile(r"\b(death|died|fatal)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Provenance:
    """Where a record's value came from: the source text(s) and the confidence of the weakest one used."""

    source: str
    confidence: Confidence
    derived: bool = (
        False  # True when the value is a judgement or a rule's reading, not a stated value
    )


@dataclass(frozen=True)
class LiteratureRecord:
    """One published patient as the comparison needs it. None means unknown, never 'no'."""

    case_id: str
    citation: str | None  # 'PMID:…' or 'DOI:…'; None when neither is known
    citation_label: str
    age_years: float | None  # age at JAKinib start: not reported for any case today
    adult: bool | None  # from the derived judgement age_lt18_at_start
    sex: str | None  # 'male' / 'female'
    drug: str | None  # 'ruxolitinib', 'baricitinib', 'itacitinib', …
    response_category: str | None  # 'CR' / 'PR' / 'NR'; None = unknown; a provisional judgement
    response_status: str  # status of the response mapping ('provisional')
    stopped: bool | None
    stop_reason: str | None
    infection_ae: bool | None
    died: bool | None
    low_confidence: bool  # a compared value comes from a lay summary or is unverified
    low_confidence_fields: tuple[str, ...]
    flags: tuple[str, ...]
    sources: Mapping[str, Provenance] = field(hash=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("sources", "low_confidence_fields", "flags")
        }
        out["low_confidence_fields"] = list(self.low_confidence_fields)
        out["flags"] = list(self.flags)
        out["sources"] = {
            k: {"source": v.source, "confidence": v.confidence.value, "derived": v.derived}
            for k, v in self.sources.items()
        }
        return out


@dataclass(frozen=True)
class ExcludedRecord:
    record: LiteratureRecord
    reason: str


class ComparisonRecords(list[LiteratureRecord]):
    """The records compared (a list), with those left out and why in ``excluded``."""

    def __init__(
        self,
        records: Iterable[LiteratureRecord],
        excluded: Iterable[ExcludedRecord] = (),
        *,
        honour_duplicates: bool = True,
    ) -> None:
        super().__init__(records)
        self.excluded: tuple[ExcludedRecord, ...] = tuple(excluded)
        self.honour_duplicates = honour_duplicates


def _prov(value: Sourced[Any], *, derived: bool = False) -> Provenance:
    confidence = value.confidence if value.known else Confidence.not_reported
    return Provenance(value.source, confidence, derived)


def literature_record(case: LiteratureCase) -> LiteratureRecord:
    """The comparison record of one case (pure)."""
    lt18 = case.derived.age_lt18_at_start
    adult = None if lt18.value is None else not lt18.value
    age = case.age_as_described
    adult_conf = Confidence.not_reported if adult is None else age.confidence
    if adult is not None and adult_conf is Confidence.not_reported:
        adult_conf = Confidence.unverified  # a judgement without a stated age behind it
    judgement = case.response_judgement
    category = None if judgement.category is ResponseCategory.unknown else judgement.category.value
    words = case.response_authors_words
    infection, infection_prov = _infection_ae(case)
    died, died_prov = died_as_stated(case)
    sources: dict[str, Provenance] = {
        "age_years": _prov(case.age_at_jakinib_start_years),
        "adult": Provenance(
            f"derived judgement age_lt18_at_start: {lt18.text!r}; age_as_described: {age.source}",
            adult_conf,
            derived=True,
        ),
        "sex": _prov(case.sex),
        "drug": _prov(case.jakinib),
        "response_category": Provenance(
            f"{judgement.info.label()}: {judgement.reason}; authors' words: {words.source}",
            Confidence.not_reported if category is None else words.confidence,
            derived=True,
        ),
        "stopped": _prov(case.discontinued),
        "stop_reason": _prov(case.discontinuation_reason),
        "infection_ae": infection_prov,
        "died": died_prov,
    }
    sex = None if case.sex.value is None else case.sex.value.value
    drug = None if case.jakinib.value is None else case.jakinib.value.value
    values: dict[str, object] = {
        "age_years": case.age_at_jakinib_start_years.value,
        "adult": adult,
        "sex": sex,
        "drug": drug,
        "response_category": category,
        "stopped": case.discontinued.value,
        "stop_reason": case.discontinuation_reason.value,
        "infection_ae": infection,
        "died": died,
    }
    low = tuple(
        name for name in COMPARED if values[name] is not None and sources[name].confidence.low
    )
    return LiteratureRecord(
        case_id=case.case_id,
        citation=case.citation.identifier(),
        citation_label=case.citation.label(),
        age_years=case.age_at_jakinib_start_years.value,
        adult=adult,
        sex=sex,
        drug=drug,
        response_category=category,
        response_status=judgement.status.value,
        stopped=case.discontinued.value,
        stop_reason=case.discontinuation_reason.value,
        infection_ae=infection,
        died=died,
        low_confidence=bool(low),
        low_confidence_fields=low,
        flags=tuple(f.code.value for f in case.flags),
        sources=MappingProxyType(sources),
    )


def _infection_ae(case: LiteratureCase) -> tuple[bool | None, Provenance]:
    ae = case.adverse_events
    if ae.value is None:
        return None, _prov(ae)
    if INFECTION_WORDS.search(ae.value):
        return True, _prov(ae, derived=True)
    if NO_OTHER_SIDE_EFFECTS.search(ae.source):
        return False, _prov(ae, derived=True)
    return None, Provenance(ae.source, Confidence.not_reported, derived=True)


def died_as_stated(case: LiteratureCase) -> tuple[bool | None, Provenance]:
    """True when the follow-up or the response says the patient died; None otherwise (never False)."""
    for value in (case.followup, case.response):
        if value.value is not None and DEATH_WORDS.search(value.value):
            return True, _prov(value, derived=True)
    return None, Provenance("not reported in accessible text", Confidence.not_reported)


def comparison_records(
    literature: LiteratureSet, *, honour_duplicates: bool = True
) -> ComparisonRecords:
    """One record per case; with ``honour_duplicates`` a possible duplicate is left out (see ``.excluded``)."""
    ids = {c.case_id for c in literature}
    kept: list[LiteratureRecord] = []
    excluded: list[ExcludedRecord] = []
    for case in literature:
        record = literature_record(case)
        others = [i for i in case.possible_duplicate_of if i in ids]
        if honour_duplicates and others:
            excluded.append(
                ExcludedRecord(
                    record,
                    f"possible duplicate of {' or '.join(others)} "
                    f"(curators' judgement: {case.derived.possible_duplicate_of.text!r}); "
                    "counted once, through the case it may duplicate",
                )
            )
        else:
            kept.append(record)
    return ComparisonRecords(kept, excluded, honour_duplicates=honour_duplicates)


@dataclass(frozen=True)
class VariableSummary:
    """n known / n unknown of one compared variable, and the count of each value among the known."""

    name: str
    n_known: int
    n_unknown: int
    counts: tuple[tuple[str, int], ...]  # value -> n, most frequent first, then by value
    n_low_confidence: int

    def counts_dict(self) -> dict[str, int]:
        return dict(self.counts)


@dataclass(frozen=True)
class LiteratureSummary:
    set_version: str
    n_cases: int
    n_publications: int
    n_distinct_people: int
    n_records: int
    honour_duplicates: bool
    excluded: tuple[tuple[str, str], ...]  # (case_id, reason)
    variables: tuple[VariableSummary, ...]
    response_rule: str  # the response mapping's one-line label, with its status

    def variable(self, name: str) -> VariableSummary:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    def table(self) -> list[dict[str, object]]:
        """One row per variable: name, n known, n unknown, counts as 'value n; …'."""
        return [
            {
                "variable": v.name,
                "n_known": v.n_known,
                "n_unknown": v.n_unknown,
                "n_low_confidence": v.n_low_confidence,
                "counts": "; ".join(f"{k} {n}" for k, n in v.counts),
            }
            for v in self.variables
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "set_version": self.set_version,
            "n_cases": self.n_cases,
            "n_publications": self.n_publications,
            "n_distinct_people": self.n_distinct_people,
            "n_records": self.n_records,
            "honour_duplicates": self.honour_duplicates,
            "excluded": [{"case_id": c, "reason": r} for c, r in self.excluded],
            "response_rule": self.response_rule,
            "variables": {
                v.name: {
                    "n_known": v.n_known,
                    "n_unknown": v.n_unknown,
                    "n_low_confidence": v.n_low_confidence,
                    "counts": v.counts_dict(),
                }
                for v in self.variables
            },
        }


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def summarise_records(records: Iterable[LiteratureRecord]) -> tuple[VariableSummary, ...]:
    """Per compared variable: n known, n unknown, counts by value (pure)."""
    rows = list(records)
    out = []
    for name in COMPARED:
        known = [r for r in rows if getattr(r, name) is not None]
        counts = Counter(_label(getattr(r, name)) for r in known)
        out.append(
            VariableSummary(
                name=name,
                n_known=len(known),
                n_unknown=len(rows) - len(known),
                counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
                n_low_confidence=sum(1 for r in known if r.sources[name].confidence.low),
            )
        )
    return tuple(out)


def summarise(literature: LiteratureSet, *, honour_duplicates: bool = True) -> LiteratureSummary:
    """n cases, publications, distinct people, and n known / unknown / counts for every compared variable."""
    records = comparison_records(literature, honour_duplicates=honour_duplicates)
    return LiteratureSummary(
        set_version=literature.info.version,
        n_cases=len(literature),
        n_publications=literature.n_publications,
        n_distinct_people=literature.n_distinct_people,
        n_records=len(records),
        honour_duplicates=honour_duplicates,
        excluded=tuple((e.record.case_id, e.reason) for e in records.excluded),
        variables=summarise_records(records),
        response_rule=literature.response_mapping.label(),
    )
