"""Cohort vs published cases: the per-patient record both sides are reduced to, and the comparison.

The interface for any source of published cases is `CaseRecord`: one plain record per patient where
every value may be None, meaning *unknown* (not reported), never "no". `compare_cases(cohort,
literature)` compares two lists of them; `jakreg.literature` (or anything else) only has to produce
`CaseRecord`s.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jakreg.stats import (
    FisherExactResult,
    MannWhitneyResult,
    describe_continuous,
    fisher_exact_test,
    mann_whitney,
)
from jakreg.stats.proportions import ProportionCI, clopper_pearson

RESPONSE_CODES = ("CR", "PR", "NR", "NE")
SMALL_NUMBERS_CAUTION = (
    "Small numbers: each side has few patients with the variable known, published cases are a "
    "selected, sparse and heterogeneous set (different ages, reporting and follow-up), and "
    "unknown values are left out rather than counted as 'no'. p-values describe these counts only; "
    "they do not show that the groups are alike or different."
)


@dataclass(frozen=True)
class CaseRecord:
    """One patient reduced to the compared variables. None = unknown / not reported."""

    case_id: str
    citation: str | None = None  # PMID:… / DOI:… for a published case
    age_at_start_years: float | None = None
    sex: str | None = None  # female | male | other
    drug: str | None = None  # the first JAK inhibitor
    response: str | None = None  # CR | PR | NR | NE (NE is known but not evaluable)
    stopped: bool | None = None  # the (first) JAK inhibitor was stopped
    stop_reason: str | None = None
    infection_ae: bool | None = None  # infection considered a likely adverse event
    hepatotoxicity: bool | None = None
    months_on_drug: float | None = None
    died: bool | None = None
    duplicate_of: str | None = None  # case_id of a record that may be the same patient
    low_confidence: bool = False  # values come from secondary sources only
    provenance: Mapping[str, str] = field(default_factory=dict)  # variable -> source tag


@dataclass(frozen=True)
class Side:
    """One side of a compared variable: how many known, and the count or the summary."""

    n_known: int
    n_unknown: int
    n_yes: int | None = None  # binary variables
    median: float | None = None  # continuous variables
    minimum: float | None = None
    maximum: float | None = None
    ci: ProportionCI | None = None  # binary: n_yes of n_known, exact (Clopper–Pearson)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_known": self.n_known, "n_unknown": self.n_unknown}
        if self.n_yes is not None:
            out["n_yes"] = self.n_yes
            out["percent_of_known"] = 100.0 * self.n_yes / self.n_known if self.n_known else None
            if self.ci is not None:
                out["proportion_ci"] = self.ci.to_dict()
        else:
            out.update(median=self.median, min=self.minimum, max=self.maximum)
        return out


@dataclass(frozen=True)
class ComparedVariable:
    variable: str
    label: str
    kind: str  # binary | continuous
    cohort: Side
    literature: Side
    test: FisherExactResult | MannWhitneyResult

    @property
    def p_value(self) -> float | None:
        return self.test.p_value

    def to_dict(self) -> dict[str, Any]:
        t = self.test
        return {
            "variable": self.variable,
            "label": self.label,
            "kind": self.kind,
            "cohort": self.cohort.to_dict(),
            "literature": self.literature.to_dict(),
            "test": "Fisher's exact test" if isinstance(t, FisherExactResult) else "Mann–Whitney U",
            "method": t.method,
            "p_value": t.p_value,
            "computable": t.computable,
            "reason": t.reason,
            "small_numbers": t.small_numbers,
            "cautions": list(t.cautions),
            "detail": t.to_dict(),
        }


@dataclass(frozen=True)
class LiteratureComparison:
    source: str
    n_cohort: int
    n_records: int  # literature records given
    n_patients: int  # after counting possible duplicates once
    duplicate_notes: tuple[str, ...]
    low_confidence: tuple[str, ...]
    variables: tuple[ComparedVariable, ...]
    cohort_responses: tuple[tuple[str, int], ...]  # CR, PR, NR, NE, unknown
    literature_responses: tuple[tuple[str, int], ...]
    caution: str = SMALL_NUMBERS_CAUTION

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_cohort": self.n_cohort,
            "n_records": self.n_records,
            "n_patients": self.n_patients,
            "duplicate_notes": list(self.duplicate_notes),
            "low_confidence": list(self.low_confidence),
            "cohort_responses": dict(self.cohort_responses),
            "literature_responses": dict(self.literature_responses),
            "caution": self.caution,
        }


def count_duplicates_once(records: Sequence[CaseRecord]) -> tuple[list[CaseRecord], list[str]]:
    """Leave out a record flagged as a possible duplicate of another record in the list."""
    ids = {r.case_id for r in records}
    kept: list[CaseRecord] = []
    notes: list[str] = []
    for r in records:
        if r.duplicate_of and r.duplicate_of in ids and r.duplicate_of != r.case_id:
            notes.append(
                f"{r.case_id} may be the same patient as {r.duplicate_of}: counted once "
                f"(as {r.duplicate_of})"
            )
        else:
            kept.append(r)
    return kept, notes


Getter = Callable[[CaseRecord], bool | None]


def _binary_at(
    name: str,
    label: str,
    get: Getter,
    cohort: Sequence[CaseRecord],
    lit: Sequence[CaseRecord],
    *,
    level: float = 0.95,
) -> ComparedVariable:
    def side(records: Sequence[CaseRecord]) -> tuple[Side, list[int]]:
        values = [get(r) for r in records]
        known = [v for v in values if v is not None]
        yes = sum(known)
        ci = clopper_pearson(yes, len(known), level)
        side = Side(n_known=len(known), n_unknown=len(values) - len(known), n_yes=yes, ci=ci)
        return side, [yes, len(known) - yes]

    (a, row_a), (b, row_b) = side(cohort), side(lit)
    test = fisher_exact_test(
        [row_a, row_b],
        row_labels=["cohort", "literature"],
        column_labels=["yes", "no"],
    )
    return ComparedVariable(name, label, "binary", a, b, test)


def _continuous(
    name: str,
    label: str,
    get: Callable[[CaseRecord], float | None],
    cohort: Sequence[CaseRecord],
    lit: Sequence[CaseRecord],
) -> ComparedVariable:
    def side(records: Sequence[CaseRecord]) -> Side:
        s = describe_continuous(get(r) for r in records)
        return Side(s.n, s.n_missing, median=s.median, minimum=s.minimum, maximum=s.maximum)

    test = mann_whitney(
        [get(r) for r in cohort], [get(r) for r in lit], labels=("cohort", "literature")
    )
    return ComparedVariable(name, label, "continuous", side(cohort), side(lit), test)


def _response_known(r: CaseRecord) -> str | None:
    return r.response if r.response in ("CR", "PR", "NR") else None


def _is(value: str | None, yes: str, *, known: Sequence[str]) -> bool | None:
    return None if value is None or value not in known else value == yes


def _response_counts(records: Sequence[CaseRecord]) -> tuple[tuple[str, int], ...]:
    c = Counter(r.response if r.response in RESPONSE_CODES else "unknown" for r in records)
    return tuple((code, c.get(code, 0)) for code in (*RESPONSE_CODES, "unknown"))


def compare_cases(
    cohort: Sequence[CaseRecord],
    literature: Sequence[CaseRecord],
    *,
    source: str = "published cases",
    confidence_level: float = 0.95,
) -> LiteratureComparison:
    """Compare the cohort with published cases, variable by variable, on the known values only."""
    lit, notes = count_duplicates_once(literature)
    _binary = functools.partial(_binary_at, level=confidence_level)
    variables = (
        _continuous("age_at_start_years", "age at JAK-inhibitor start (years)",
                    lambda r: r.age_at_start_years, cohort, lit),
        _binary("female", "female", lambda r: _is(r.sex, "female", known=("female", "male")),
                cohort, lit),
        _binary("ruxolitinib", "ruxolitinib (vs another JAK inhibitor)",
                lambda r: None if r.drug is None else r.drug == "ruxolitinib", cohort, lit),
        _binary("complete_or_partial", "complete or partial response (of CR/PR/NR)",
                lambda r: None if (x := _response_known(r)) is None else x in ("CR", "PR"),
                cohort, lit),
        _binary("complete", "complete response (of CR/PR/NR)",
                lambda r: None if (x := _response_known(r)) is None else x == "CR", cohort, lit),
        _binary("stopped", "JAK inhibitor stopped", lambda r: r.stopped, cohort, lit),
        _binary("infection_ae", "infection as a likely adverse event",
                lambda r: r.infection_ae, cohort, lit),
        _binary("hepatotoxicity", "hepatotoxicity", lambda r: r.hepatotoxicity, cohort, lit),
        _continuous("months_on_drug", "time on drug (months)", lambda r: r.months_on_drug,
                    cohort, lit),
        _binary("died", "died", lambda r: r.died, cohort, lit),
    )  # fmt: skip
    return LiteratureComparison(
        source=source,
        n_cohort=len(cohort),
        n_records=len(literature),
        n_patients=len(lit),
        duplicate_notes=tuple(notes),
        low_confidence=tuple(r.case_id for r in lit if r.low_confidence),
        variables=variables,
        cohort_responses=_response_counts(cohort),
        literature_responses=_response_counts(lit),
    )
