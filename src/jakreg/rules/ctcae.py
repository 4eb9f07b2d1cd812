"""CTCAE v5.0 grading of laboratory values, with the boundary semantics of pharmaverse/admiral."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from jakreg.rules.base import (
    InvalidValueError,
    RuleError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
    require_finite,
)
from jakreg.rules.units import ANALYTES, UnknownAnalyteError, convert

CTCAE_VERSION = "5.0"

RULE = RuleInfo(
    name="CTCAE laboratory grading",
    version=CTCAE_VERSION,
    source=(
        "NCI Common Terminology Criteria for Adverse Events v5.0 (2017); cut points and boundaries "
        "as implemented in pharmaverse/admiral (atoxgr_criteria_ctcv5), transcribed in "
        "clinical_rules.md §3"
    ),
    status=RuleStatus.VERIFIED,
)

# A clinician may record grade 5 (death related to the event), which no laboratory value can give.
CLINICIAN_GRADES = range(0, 6)


class UnknownTermError(RuleError):
    """The CTCAE term is not one jakreg grades from laboratory values."""


class InvalidGradeError(RuleError):
    """A clinician's grade is not a CTCAE grade (0 to 5)."""


class Direction(StrEnum):
    INCREASED = "increased"
    DECREASED = "decreased"


@dataclass(frozen=True)
class _Rung:
    """One step of a grading ladder: `grade` applies beyond `bound` (strict unless inclusive)."""

    grade: int
    bound: float
    inclusive: bool
    text: str


@dataclass(frozen=True)
class TermSpec:
    """How one CTCAE term is graded from a laboratory value (all numbers in canonical units)."""

    term: str
    analyte: str
    direction: Direction
    # Multiples of ULN for grades 1..4 (grade 1 starts at 1.0 × ULN); None for absolute terms.
    uln_multiples: tuple[float, float, float, float] | None = None
    # Multiples of an abnormal baseline for grades 1..4, and whether the grade-1 bound is inclusive.
    baseline_multiples: tuple[float, float, float, float] | None = None
    baseline_grade1_inclusive: bool = False
    # Creatinine: multiples of any baseline for grades 2 and 3, combined with the ULN ladder.
    any_baseline_multiples: tuple[float, float] | None = None
    # Absolute cut points for grades 2..4 (decreased: strict <; increased: strict >); None = none.
    absolute: tuple[float | None, float | None, float | None] | None = None
    # Grade 1 from an absolute bound instead of the reference range (hypertriglyceridemia).
    absolute_grade1: float | None = None
    absolute_grade1_inclusive: bool = False

    @property
    def uses_baseline(self) -> bool:
        """Whether a baseline value can change the grade (otherwise it is only checked)."""
        return self.baseline_multiples is not None or self.any_baseline_multiples is not None


def _aminotransferase(term: str, analyte: str) -> TermSpec:
    return TermSpec(
        term,
        analyte,
        Direction.INCREASED,
        uln_multiples=(1.0, 3.0, 5.0, 20.0),
        baseline_multiples=(1.5, 3.0, 5.0, 20.0),
        baseline_grade1_inclusive=True,
    )


def _phosphatase_like(term: str, analyte: str) -> TermSpec:
    return TermSpec(
        term,
        analyte,
        Direction.INCREASED,
        uln_multiples=(1.0, 2.5, 5.0, 20.0),
        baseline_multiples=(2.0, 2.5, 5.0, 20.0),
        baseline_grade1_inclusive=True,
    )


TERMS: Mapping[str, TermSpec] = {
    s.term: s
    for s in (
        _aminotransferase("Alanine aminotransferase increased", "alt"),
        _aminotransferase("Aspartate aminotransferase increased", "ast"),
        _phosphatase_like("Alkaline phosphatase increased", "alp"),
        _phosphatase_like("GGT increased", "ggt"),
        TermSpec(
            "Blood bilirubin increased",
            "bilirubin",
            Direction.INCREASED,
            uln_multiples=(1.0, 1.5, 3.0, 10.0),
            baseline_multiples=(1.0, 1.5, 3.0, 10.0),
            baseline_grade1_inclusive=False,
        ),
        TermSpec("CPK increased", "ck", Direction.INCREASED, uln_multiples=(1.0, 2.5, 5.0, 10.0)),
        TermSpec(
            "Creatinine increased",
            "creatinine",
            Direction.INCREASED,
            uln_multiples=(1.0, 1.5, 3.0, 6.0),
            any_baseline_multiples=(1.5, 3.0),
        ),
        TermSpec(
            "Cholesterol high",
            "cholesterol",
            Direction.INCREASED,
            absolute=(7.75, 10.34, 12.92),
        ),
        TermSpec(
            "Hypertriglyceridemia",
            "triglycerides",
            Direction.INCREASED,
            absolute=(3.42, 5.7, 11.4),
            absolute_grade1=1.71,
            absolute_grade1_inclusive=True,
        ),
        TermSpec(
            "Neutrophil count decreased",
            "neutrophils",
            Direction.DECREASED,
            absolute=(1.5, 1.0, 0.5),
        ),
        TermSpec(
            "Platelet count decreased",
            "platelets",
            Direction.DECREASED,
            absolute=(75.0, 50.0, 25.0),
        ),
        # Grade 4 anaemia needs clinical qualifiers (life-threatening): a lab value stops at 3.
        TermSpec("Anemia", "haemoglobin", Direction.DECREASED, absolute=(100.0, 80.0, None)),
        TermSpec(
            "Lymphocyte count decreased",
            "lymphocytes",
            Direction.DECREASED,
            absolute=(0.8, 0.5, 0.2),
        ),
        TermSpec(
            "White blood cell decreased", "wbc", Direction.DECREASED, absolute=(3.0, 2.0, 1.0)
        ),
    )
}


@dataclass(frozen=True)
class CtcaeGrade(RuleResultMixin):
    """A computed CTCAE grade (None when it cannot be computed) and the sentence explaining it."""

    term: str
    grade: int | None
    reason: str
    value: float | None
    unit: str
    lln: float | None
    uln: float | None
    baseline: float | None
    path: str
    info: RuleInfo
    inputs: Mapping[str, object]


@dataclass(frozen=True)
class OverriddenGrade(RuleResultMixin):
    """A clinician's grade kept beside the computed one; `grade` is the clinician's."""

    computed: CtcaeGrade
    clinician_grade: int
    note: str | None = None

    @property
    def info(self) -> RuleInfo:  # type: ignore[override]
        return self.computed.info

    @property
    def inputs(self) -> Mapping[str, object]:
        return self.computed.inputs

    @property
    def term(self) -> str:
        return self.computed.term

    @property
    def grade(self) -> int:
        return self.clinician_grade

    @property
    def computed_grade(self) -> int | None:
        return self.computed.grade

    @property
    def differs(self) -> bool:
        return self.computed.grade != self.clinician_grade

    @property
    def reason(self) -> str:
        computed = "no grade" if self.computed.grade is None else f"grade {self.computed.grade}"
        return (
            f"clinician's grade {self.clinician_grade} overrides the computed {computed} "
            f"({self.computed.reason})"
        )


@dataclass(frozen=True)
class _Step:
    """A rung whose bound is a multiple of a reference known only per value (ULN or baseline)."""

    grade: int
    multiple: float
    inclusive: bool
    text: str


@dataclass(frozen=True)
class _Table:
    """A term's grading ladders, built once from its TermSpec: texts formatted, cut points fixed.

    All ladders run from the highest grade down; `_grade_numbers` climbs them.
    """

    spec: TermSpec
    unit: str  # the analyte's canonical unit, in which every number is graded
    uln_steps: tuple[_Step, ...]  # × ULN, grades 4..1
    baseline_steps: tuple[_Step, ...]  # × an abnormal baseline, grades 4..1
    any_baseline_steps: tuple[_Step, ...]  # × any baseline (creatinine), grades 3 and 2
    absolute_rungs: tuple[_Rung, ...]  # fixed cut points, grades 4..2 (and 1 if absolute)


def _build_table(spec: TermSpec) -> _Table:
    cunit = ANALYTES[spec.analyte].canonical_unit
    uln_steps: tuple[_Step, ...] = ()
    if spec.uln_multiples is not None:
        m = spec.uln_multiples
        uln_steps = (
            _Step(4, m[3], False, f"> {m[3]:g} × ULN"),
            _Step(3, m[2], False, f"> {m[2]:g} × ULN"),
            _Step(2, m[1], False, f"> {m[1]:g} × ULN"),
            _Step(1, m[0], False, "> ULN"),
        )
    baseline_steps: tuple[_Step, ...] = ()
    if spec.baseline_multiples is not None:
        m = spec.baseline_multiples
        incl = spec.baseline_grade1_inclusive
        baseline_steps = (
            _Step(4, m[3], False, f"> {m[3]:g} × baseline"),
            _Step(3, m[2], False, f"> {m[2]:g} × baseline"),
            _Step(2, m[1], False, f"> {m[1]:g} × baseline"),
            _Step(1, m[0], incl, f"{'≥' if incl else '>'} {m[0]:g} × baseline"),
        )
    any_baseline_steps: tuple[_Step, ...] = ()
    if spec.any_baseline_multiples is not None:
        b2, b3 = spec.any_baseline_multiples
        any_baseline_steps = (
            _Step(3, b3, False, f"> {b3:g} × baseline"),
            _Step(2, b2, False, f"> {b2:g} × baseline"),
        )
    absolute_rungs: list[_Rung] = []
    if spec.absolute is not None:
        c2, c3, c4 = spec.absolute
        sign = "<" if spec.direction is Direction.DECREASED else ">"
        absolute_rungs = [
            _Rung(g, c, False, f"{sign} {c:g} {cunit}")
            for g, c in ((4, c4), (3, c3), (2, c2))
            if c is not None
        ]
        if spec.absolute_grade1 is not None and spec.direction is Direction.INCREASED:
            g1_sign = "≥" if spec.absolute_grade1_inclusive else ">"
            absolute_rungs.append(
                _Rung(
                    1,
                    spec.absolute_grade1,
                    spec.absolute_grade1_inclusive,
                    f"{g1_sign} {spec.absolute_grade1:g} {cunit}",
                )
            )
    return _Table(spec, cunit, uln_steps, baseline_steps, any_baseline_steps, tuple(absolute_rungs))


_TABLES: Mapping[str, _Table] = {term: _build_table(spec) for term, spec in TERMS.items()}
_TERMS_BY_ANALYTE: Mapping[str, tuple[str, ...]] = {
    code: tuple(s.term for s in TERMS.values() if s.analyte == code) for code in ANALYTES
}


def term_spec(term: str) -> TermSpec:
    """The grading specification of a CTCAE term as written; UnknownTermError otherwise."""
    return _table(term).spec


def _table(term: str) -> _Table:
    try:
        return _TABLES[term]
    except KeyError:
        known = "; ".join(TERMS)
        raise UnknownTermError(f"unknown CTCAE term {term!r}; jakreg grades: {known}") from None


def terms_for_analyte(analyte: str) -> tuple[str, ...]:
    """CTCAE terms graded from an analyte code of jakreg.rules.units (empty for e.g. 'crp')."""
    try:
        return _TERMS_BY_ANALYTE[analyte]
    except KeyError:
        known = ", ".join(sorted(ANALYTES))
        raise UnknownAnalyteError(f"unknown analyte {analyte!r}; use one of: {known}") from None


def with_override(
    result: CtcaeGrade, clinician_grade: int, note: str | None = None
) -> OverriddenGrade:
    """Keep a clinician's grade (e.g. transfusion or life-threatening qualifiers) beside ours."""
    if isinstance(clinician_grade, bool) or clinician_grade not in CLINICIAN_GRADES:
        raise InvalidGradeError(f"a CTCAE grade is 0 to 5, got {clinician_grade!r}")
    return OverriddenGrade(computed=result, clinician_grade=clinician_grade, note=note)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _climb(value: float, rungs: Iterable[_Rung], direction: Direction) -> _Rung | None:
    """The highest rung the value reaches, rungs ordered from grade 4 down."""
    for rung in rungs:
        if direction is Direction.INCREASED:
            hit = value >= rung.bound if rung.inclusive else value > rung.bound
        else:
            hit = value <= rung.bound if rung.inclusive else value < rung.bound
        if hit:
            return rung
    return None


def _climb_steps(value: float, reference: float, steps: Iterable[_Step]) -> _Step | None:
    """The highest step an increased value reaches; each bound is the step's multiple × reference."""
    for step in steps:
        bound = step.multiple * reference
        if (value >= bound) if step.inclusive else (value > bound):
            return step
    return None


def _number(name: str, x: float) -> float:
    """The number as a float, refusing what no laboratory value or limit can be."""
    if type(x) is float and 0.0 <= x < math.inf:  # the usual case, decided without the calls below
        return x
    x = require_finite(name, x)
    if x < 0:
        raise InvalidValueError(f"{name} cannot be negative, got {x!r}")
    return x


def _canonical(analyte: str, name: str, x: float | None, unit: str) -> tuple[float | None, str]:
    if x is None:
        return None, convert(analyte, 0.0, unit).unit
    c = convert(analyte, _number(name, x), unit)
    return c.value, c.unit


def grade(
    term: str,
    value: float | None,
    unit: str,
    *,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
) -> CtcaeGrade:
    """Grade one laboratory value by CTCAE v5.0; LLN, ULN and baseline are in the value's unit.

    Units are converted to jakreg's canonical units first. The grade is None, never 0, when the
    value or a reference limit it needs is missing.
    """
    table = _table(term)
    inputs = frozen_inputs(term=term, value=value, unit=unit, lln=lln, uln=uln, baseline=baseline)
    analyte = table.spec.analyte
    v, cunit = _canonical(analyte, "value", value, unit)
    lo, _ = _canonical(analyte, "LLN", lln, unit)
    hi, _ = _canonical(analyte, "ULN", uln, unit)
    base, _ = _canonical(analyte, "baseline", baseline, unit)
    g, reason, path = _grade_numbers(table, v, lo, hi, base)
    return CtcaeGrade(
        term=term,
        grade=g,
        reason=reason,
        value=v,
        unit=cunit,
        lln=lo,
        uln=hi,
        baseline=base,
        path=path,
        info=RULE,
        inputs=inputs,
    )


def grade_canonical(
    term: str,
    value: float | None,
    *,
    lln: float | None = None,
    uln: float | None = None,
    baseline: float | None = None,
) -> tuple[int | None, str]:
    """`grade` for numbers already in the analyte's canonical unit: its grade and reason, no more.

    The same rules, checks and errors as `grade` with the canonical unit, without building a result
    object; for deriving the grades of many stored laboratory values at once.
    """
    table = _table(term)
    v = None if value is None else _number("value", value)
    lo = None if lln is None else _number("LLN", lln)
    hi = None if uln is None else _number("ULN", uln)
    base = None if baseline is None else _number("baseline", baseline)
    g, reason, _ = _grade_numbers(table, v, lo, hi, base)
    return g, reason


# (grade, reason, path) of a graded value.
_Graded = tuple[int | None, str, str]


def _grade_numbers(
    table: _Table, v: float | None, lo: float | None, hi: float | None, base: float | None
) -> _Graded:
    """Grade checked numbers in canonical units by the term's table."""
    if hi is not None and hi == 0:
        raise InvalidValueError("ULN must be greater than 0")
    if v is None:
        return None, "no value: cannot grade", "none"
    shown = f"{_fmt(v)} {table.unit}"
    spec = table.spec
    if spec.uln_multiples is not None:
        return _grade_by_uln(table, v, hi, base, shown)
    if spec.direction is Direction.DECREASED:
        return _grade_decreased(table, v, lo, shown)
    return _grade_absolute_increased(table, v, hi, shown)


def _grade_by_uln(
    table: _Table, v: float, hi: float | None, base: float | None, shown: str
) -> _Graded:
    cunit = table.unit
    if hi is None:
        return None, f"{shown}: no ULN, which this term needs: cannot grade", "none"
    if table.baseline_steps and base is not None and base > hi:
        # CTCAE's second criterion: with an abnormal baseline the multiples apply to the baseline.
        hit = _climb_steps(v, base, table.baseline_steps)
        ratio = f"{v / base:.3g} × baseline ({_fmt(base)} {cunit}, above ULN {_fmt(hi)})"
        if hit is None:
            g1 = table.baseline_steps[-1].text
            return 0, f"{shown} is {ratio}: below grade 1 ({g1}): grade 0", "baseline"
        return hit.grade, f"{shown} is {ratio}: {hit.text}: grade {hit.grade}", "baseline"
    hit = _climb_steps(v, hi, table.uln_steps)
    g = 0 if hit is None else hit.grade
    why = "not above ULN" if hit is None else hit.text
    reason = f"{shown} is {v / hi:.3g} × ULN ({_fmt(hi)} {cunit}): {why}: grade {g}"
    if table.any_baseline_steps and base is not None and base > 0:
        bhit = _climb_steps(v, base, table.any_baseline_steps)
        if bhit is not None and bhit.grade > g:
            # CTCAE creatinine: grades 2 and 3 are also given by multiples of any baseline.
            reason = (
                f"{shown} is {v / base:.3g} × baseline ({_fmt(base)} {cunit}): {bhit.text}: "
                f"grade {bhit.grade} (by ULN alone: grade {g})"
            )
            return bhit.grade, reason, "baseline"
    return g, reason, "ULN"


def _grade_decreased(table: _Table, v: float, lo: float | None, shown: str) -> _Graded:
    spec, cunit = table.spec, table.unit
    if spec.absolute is None:  # pragma: no cover - dispatch guarantees it
        raise RuleError(f"{spec.term} has no absolute cut points")
    hit = _climb(v, table.absolute_rungs, Direction.DECREASED)
    if hit is not None:
        return hit.grade, f"{shown}: {hit.text}: grade {hit.grade}", "absolute"
    if lo is None:
        c2 = spec.absolute[0]
        return (
            None,
            f"{shown}: not below {c2:g} {cunit} and no LLN to decide between grade 0 and 1: "
            "cannot grade",
            "none",
        )
    if v < lo:
        return 1, f"{shown}: below LLN ({_fmt(lo)} {cunit}): grade 1", "LLN"
    return 0, f"{shown}: not below LLN ({_fmt(lo)} {cunit}): grade 0", "LLN"


def _grade_absolute_increased(table: _Table, v: float, hi: float | None, shown: str) -> _Graded:
    spec, cunit = table.spec, table.unit
    if spec.absolute is None:  # pragma: no cover - dispatch guarantees it
        raise RuleError(f"{spec.term} has no absolute cut points")
    hit = _climb(v, table.absolute_rungs, Direction.INCREASED)
    if hit is not None:
        return hit.grade, f"{shown}: {hit.text}: grade {hit.grade}", "absolute"
    if spec.absolute_grade1 is not None:
        g1 = table.absolute_rungs[-1].text
        return 0, f"{shown}: below grade 1 ({g1}): grade 0", "absolute"
    if hi is None:
        c2 = spec.absolute[0]
        return (
            None,
            f"{shown}: not above {c2:g} {cunit} and no ULN to decide between grade 0 and 1: "
            "cannot grade",
            "none",
        )
    if v > hi:
        return 1, f"{shown}: above ULN ({_fmt(hi)} {cunit}): grade 1", "ULN"
    return 0, f"{shown}: not above ULN ({_fmt(hi)} {cunit}): grade 0", "ULN"


__all__ = [
    "CTCAE_VERSION",
    "RULE",
    "TERMS",
    "CtcaeGrade",
    "InvalidGradeError",
    "OverriddenGrade",
    "TermSpec",
    "UnknownTermError",
    "grade",
    "grade_canonical",
    "term_spec",
    "terms_for_analyte",
    "with_override",
]
