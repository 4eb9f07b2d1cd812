"""Liver injury from ALT, AST, ALP and bilirubin: CTCAE grades, Hy's law and the R-ratio pattern."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jakreg.rules import ctcae
from jakreg.rules.base import (
    InvalidValueError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
)
from jakreg.rules.units import convert

HYS_LAW = RuleInfo(
    name="Hy's law (laboratory criterion)",
    version="1",
    source=(
        "clinical_rules.md §3, 'as commonly defined': ALT or AST ≥3×ULN with total bilirubin "
        "≥2×ULN without cholestasis (ALP <2×ULN); the primary regulatory text was not read here"
    ),
    status=RuleStatus.PROVISIONAL,
)
R_RATIO = RuleInfo(
    name="Liver injury pattern by R ratio",
    version="1",
    source=(
        "clinical_rules.md §3, 'as commonly defined': R = (ALT/ULN)/(ALP/ULN); >5 hepatocellular, "
        "<2 cholestatic, 2–5 mixed; the primary consensus text was not read here"
    ),
    status=RuleStatus.PROVISIONAL,
)
HEPATOTOXICITY = RuleInfo(
    name="Hepatotoxicity assessment",
    version="1",
    source=f"{ctcae.RULE.source}; {HYS_LAW.name}; {R_RATIO.name}",
    status=RuleStatus.PROVISIONAL,
)

_ANALYTE_TERMS = {
    "alt": "Alanine aminotransferase increased",
    "ast": "Aspartate aminotransferase increased",
    "alp": "Alkaline phosphatase increased",
    "bilirubin": "Blood bilirubin increased",
}


@dataclass(frozen=True)
class LiverLab:
    """One liver test with its own lab's ULN (and baseline, for CTCAE), all in `unit`."""

    value: float | None
    unit: str
    uln: float | None
    baseline: float | None = None


@dataclass(frozen=True)
class LiverAssessment(RuleResultMixin):
    """CTCAE grades, Hy's law (True/False/None = cannot tell) and the injury pattern."""

    grades: Mapping[str, ctcae.CtcaeGrade]
    multiples_of_uln: Mapping[str, float | None]
    hys_law: bool | None
    hys_law_reason: str
    r_ratio: float | None
    pattern: str | None
    pattern_reason: str
    info: RuleInfo
    inputs: Mapping[str, object]

    @property
    def max_grade(self) -> int | None:
        """Highest CTCAE grade among the tests given (None if none could be graded)."""
        known = [g.grade for g in self.grades.values() if g.grade is not None]
        return max(known) if known else None


def _multiple(analyte: str, lab: LiverLab | None) -> float | None:
    if lab is None or lab.value is None or lab.uln is None:
        return None
    if lab.uln <= 0:
        raise InvalidValueError(f"ULN of {analyte} must be greater than 0, got {lab.uln!r}")
    # Both in the same unit; converting keeps the unit check (and its error) in one place.
    v = convert(analyte, lab.value, lab.unit).value
    u = convert(analyte, lab.uln, lab.unit).value
    return v / u


def _and3(*xs: bool | None) -> bool | None:
    """Three-valued AND: False wins, then unknown, then True."""
    if any(x is False for x in xs):
        return False
    if any(x is None for x in xs):
        return None
    return True


def _or3(*xs: bool | None) -> bool | None:
    """Three-valued OR: True wins, then unknown, then False."""
    if any(x is True for x in xs):
        return True
    if any(x is None for x in xs):
        return None
    return False


def _at_least(m: float | None, k: float) -> bool | None:
    return None if m is None else m >= k


def _below(m: float | None, k: float) -> bool | None:
    return None if m is None else m < k


def hys_law(
    alt_x_uln: float | None,
    ast_x_uln: float | None,
    bilirubin_x_uln: float | None,
    alp_x_uln: float | None,
) -> tuple[bool | None, str]:
    """Hy's law from multiples of ULN; None (with the reason) when missing values leave it open."""
    transaminase = _or3(_at_least(alt_x_uln, 3.0), _at_least(ast_x_uln, 3.0))
    bilirubin = _at_least(bilirubin_x_uln, 2.0)
    no_cholestasis = _below(alp_x_uln, 2.0)
    met = _and3(transaminase, bilirubin, no_cholestasis)
    parts = [
        f"ALT or AST ≥3×ULN: {_yn(transaminase)}",
        f"bilirubin ≥2×ULN: {_yn(bilirubin)}",
        f"ALP <2×ULN: {_yn(no_cholestasis)}",
    ]
    verdict = {True: "met", False: "not met", None: "cannot tell"}[met]
    return met, f"Hy's law {verdict} ({'; '.join(parts)})"


def _yn(x: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[x]


def injury_pattern(
    alt_x_uln: float | None, alp_x_uln: float | None
) -> tuple[float | None, str | None, str]:
    """R ratio and pattern: >5 hepatocellular, <2 cholestatic, 2 to 5 (inclusive) mixed."""
    if alt_x_uln is None or alp_x_uln is None:
        return None, None, "R ratio needs ALT and ALP with their ULNs"
    if alp_x_uln == 0:
        return None, None, "R ratio undefined: ALP is 0"
    r = alt_x_uln / alp_x_uln
    if r > 5:
        pattern = "hepatocellular"
    elif r < 2:
        pattern = "cholestatic"
    else:
        pattern = "mixed"
    return r, pattern, f"R = {alt_x_uln:.3g} / {alp_x_uln:.3g} = {r:.3g}: {pattern}"


def assess_liver(
    *,
    alt: LiverLab | None = None,
    ast: LiverLab | None = None,
    alp: LiverLab | None = None,
    bilirubin: LiverLab | None = None,
) -> LiverAssessment:
    """CTCAE grades of the tests given, Hy's law and the injury pattern, all from one draw."""
    labs = {"alt": alt, "ast": ast, "alp": alp, "bilirubin": bilirubin}
    grades = {
        _ANALYTE_TERMS[a]: ctcae.grade(
            _ANALYTE_TERMS[a], lab.value, lab.unit, uln=lab.uln, baseline=lab.baseline
        )
        for a, lab in labs.items()
        if lab is not None
    }
    mult = {a: _multiple(a, lab) for a, lab in labs.items()}
    met, hy_reason = hys_law(mult["alt"], mult["ast"], mult["bilirubin"], mult["alp"])
    r, pattern, r_reason = injury_pattern(mult["alt"], mult["alp"])
    return LiverAssessment(
        grades=grades,
        multiples_of_uln=mult,
        hys_law=met,
        hys_law_reason=hy_reason,
        r_ratio=r,
        pattern=pattern,
        pattern_reason=r_reason,
        info=HEPATOTOXICITY,
        inputs=frozen_inputs(**labs),
    )
