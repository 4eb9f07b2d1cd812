"""CTCAE v5.0 grading of laboratory values, with the boundary semantics of pharmaverse/admiral."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


_Done = Callable[[int | None, str, str], CtcaeGrade]


def term_spec(term: str) -> TermSpec:
    """The grading specification of a CTCAE term as written; UnknownTermError otherwise."""
    try:
        return TERMS[term]
    except KeyError:
        known = "; ".join(TERMS)
        raise UnknownTermError(f"unknown CTCAE term {term!r}; jakreg grades: {known}") from None


def terms_for_analyte(analyte: str) -> tuple[str, ...]:
    """CTCAE terms graded from an analyte code of jakreg.rules.units (empty for e.g. 'crp')."""
    if analyte not in ANALYTES:
        known = ", ".join(sorted(ANALYTES))
        raise UnknownAnalyteError(f"unknown analyte {analyte!r}; use one of: {known}")
    return tuple(s.term for s in TERMS.values() if s.analyte == analyte)


def with_override(
    result: CtcaeGrade, clinician_grade: int, note: str | None = None
) -> OverriddenGrade:
    """Keep a clinician's grade (e.g. transfusion or life-threatening qualifiers) beside ours."""
    if isinstance(clinician_grade, bool) or clinician_grade not in CLINICIAN_GRADES:
        raise InvalidGradeError(f"a CTCAE grade is 0 to 5, got {clinician_grade!r}")
    return OverriddenGrade(computed=result, clinician_grade=clinician_grade, note=note)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _climb(value: float, rungs: list[_Rung], direction: Direction) -> _Rung | None:
    """The highest rung the value reaches, rungs ordered from grade 4 down."""
    for rung in rungs:
        if direction is Direction.INCREASED:
            hit = value >= rung.bound if rung.inclusive else value > rung.bound
        else:
            hit = value <= rung.bound if rung.inclusive else value < rung.bound
        if hit:
            return rung
    return None


def _canonical(analyte: str, name: str, x: float | None, unit: str) -> tuple[float | None, str]:
    if x is None:
        return None, convert(analyte, 0.0, unit).unit
    x = require_finite(name, x)
    if x < 0:
        raise InvalidValueError(f"{name} cannot be negative, got {x!r}")
    c = convert(analyte, x, unit)
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
    spec = term_spec(term)
    inputs = frozen_inputs(term=term, value=value, unit=unit, lln=lln, uln=uln, baseline=baseline)
    v, cunit = _canonical(spec.analyte, "value", value, unit)
    lo, _ = _canonical(spec.analyte, "LLN", lln, unit)
    hi, _ = _canonical(spec.analyte, "ULN", uln, unit)
    base, _ = _canonical(spec.analyte, "baseline", baseline, unit)
    if hi is not None and hi == 0:
        raise InvalidValueError("ULN must be greater than 0")

    def done(g: int | None, reason: str, path: str) -> CtcaeGrade:
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

    if v is None:
        return done(None, "no value: cannot grade", "none")
    shown = f"{_fmt(v)} {cunit}"
    if spec.uln_multiples is not None:
        return _grade_by_uln(spec, v, hi, base, cunit, shown, done)
    if spec.direction is Direction.DECREASED:
        return _grade_decreased(spec, v, lo, cunit, shown, done)
    return _grade_absolute_increased(spec, v, hi, cunit, shown, done)


def _grade_by_uln(
    spec: TermSpec,
    v: float,
    hi: float | None,
    base: float | None,
    cunit: str,
    shown: str,
    done: _Done,
) -> CtcaeGrade:
    if spec.uln_multiples is None:  # pragma: no cover - dispatch guarantees it
        raise RuleError(f"{spec.term} is not graded by ULN")
    if hi is None:
        return done(None, f"{shown}: no ULN, which this term needs: cannot grade", "none")
    if spec.baseline_multiples is not None and base is not None and base > hi:
        # CTCAE's second criterion: with an abnormal baseline the multiples apply to the baseline.
        m = spec.baseline_multiples
        rungs = [
            _Rung(4, m[3] * base, False, f"> {m[3]:g} × baseline"),
            _Rung(3, m[2] * base, False, f"> {m[2]:g} × baseline"),
            _Rung(2, m[1] * base, False, f"> {m[1]:g} × baseline"),
            _Rung(
                1,
                m[0] * base,
                spec.baseline_grade1_inclusive,
                f"{'≥' if spec.baseline_grade1_inclusive else '>'} {m[0]:g} × baseline",
            ),
        ]
        hit = _climb(v, rungs, Direction.INCREASED)
        ratio = f"{v / base:.3g} × baseline ({_fmt(base)} {cunit}, above ULN {_fmt(hi)})"
        if hit is None:
            g1 = rungs[-1].text
            return done(0, f"{shown} is {ratio}: below grade 1 ({g1}): grade 0", "baseline")
        return done(hit.grade, f"{shown} is {ratio}: {hit.text}: grade {hit.grade}", "baseline")
    m = spec.uln_multiples
    rungs = [
        _Rung(4, m[3] * hi, False, f"> {m[3]:g} × ULN"),
        _Rung(3, m[2] * hi, False, f"> {m[2]:g} × ULN"),
        _Rung(2, m[1] * hi, False, f"> {m[1]:g} × ULN"),
        _Rung(1, m[0] * hi, False, "> ULN"),
    ]
    hit = _climb(v, rungs, Direction.INCREASED)
    g = 0 if hit is None else hit.grade
    why = "not above ULN" if hit is None else hit.text
    reason = f"{shown} is {v / hi:.3g} × ULN ({_fmt(hi)} {cunit}): {why}: grade {g}"
    if spec.any_baseline_multiples is not None and base is not None and base > 0:
        b2, b3 = spec.any_baseline_multiples
        brungs = [
            _Rung(3, b3 * base, False, f"> {b3:g} × baseline"),
            _Rung(2, b2 * base, False, f"> {b2:g} × baseline"),
        ]
        bhit = _climb(v, brungs, Direction.INCREASED)
        if bhit is not None and bhit.grade > g:
            # CTCAE creatinine: grades 2 and 3 are also given by multiples of any baseline.
            reason = (
                f"{shown} is {v / base:.3g} × baseline ({_fmt(base)} {cunit}): {bhit.text}: "
                f"grade {bhit.grade} (by ULN alone: grade {g})"
            )
            return done(bhit.grade, reason, "baseline")
    return done(g, reason, "ULN")


def _grade_decreased(
    spec: TermSpec, v: float, lo: float | None, cunit: str, shown: str, done: _Done
) -> CtcaeGrade:
    if spec.absolute is None:  # pragma: no cover - dispatch guarantees it
        raise RuleError(f"{spec.term} has no absolute cut points")
    c2, c3, c4 = spec.absolute
    rungs = [
        _Rung(g, c, False, f"< {c:g} {cunit}")
        for g, c in ((4, c4), (3, c3), (2, c2))
        if c is not None
    ]
    hit = _climb(v, rungs, Direction.DECREASED)
    if hit is not None:
        return done(hit.grade, f"{shown}: {hit.text}: grade {hit.grade}", "absolute")
    if lo is None:
        return done(
            None,
            f"{shown}: not below {c2:g} {cunit} and no LLN to decide between grade 0 and 1: "
            "cannot grade",
            "none",
        )
    if v < lo:
        return done(1, f"{shown}: below LLN ({_fmt(lo)} {cunit}): grade 1", "LLN")
    return done(0, f"{shown}: not below LLN ({_fmt(lo)} {cunit}): grade 0", "LLN")


def _grade_absolute_increased(
    spec: TermSpec, v: float, hi: float | None, cunit: str, shown: str, done: _Done
) -> CtcaeGrade:
    if spec.absolute is None:  # pragma: no cover - dispatch guarantees it
        raise RuleError(f"{spec.term} has no absolute cut points")
    c2, c3, c4 = spec.absolute
    rungs = [
        _Rung(g, c, False, f"> {c:g} {cunit}")
        for g, c in ((4, c4), (3, c3), (2, c2))
        if c is not None
    ]
    if spec.absolute_grade1 is not None:
        sign = "≥" if spec.absolute_grade1_inclusive else ">"
        rungs.append(
            _Rung(
                1,
                spec.absolute_grade1,
                spec.absolute_grade1_inclusive,
                f"{sign} {spec.absolute_grade1:g} {cunit}",
            )
        )
    hit = _climb(v, rungs, Direction.INCREASED)
    if hit is not None:
        return done(hit.grade, f"{shown}: {hit.text}: grade {hit.grade}", "absolute")
    if spec.absolute_grade1 is not None:
        g1 = rungs[-1].text
        return done(0, f"{shown}: below grade 1 ({g1}): grade 0", "absolute")
    if hi is None:
        return done(
            None,
            f"{shown}: not above {c2:g} {cunit} and no ULN to decide between grade 0 and 1: "
            "cannot grade",
            "none",
        )
    if v > hi:
        return done(1, f"{shown}: above ULN ({_fmt(hi)} {cunit}): grade 1", "ULN")
    return done(0, f"{shown}: not above ULN ({_fmt(hi)} {cunit}): grade 0", "ULN")


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
    "term_spec",
    "terms_for_analyte",
    "with_override",
]
