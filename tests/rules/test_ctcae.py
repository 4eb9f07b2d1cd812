"""CTCAE v5.0 lab grading: both sides of every cut point of every term (clinical_rules.md §3)."""

from __future__ import annotations

import pytest

from jakreg.errors import JakregError
from jakreg.rules import ctcae
from jakreg.rules.base import InvalidValueError, RuleStatus
from jakreg.rules.units import UnknownAnalyteError, UnknownUnitError

EPS = 1e-6

ALT = "Alanine aminotransferase increased"
AST = "Aspartate aminotransferase increased"
ALP = "Alkaline phosphatase increased"
GGT = "GGT increased"
BILI = "Blood bilirubin increased"
CPK = "CPK increased"
CREAT = "Creatinine increased"

# (term, unit, ULN-multiples where grades 1..4 begin). Written out here, not read from ctcae.TERMS,
# so the test is an independent transcription of the table.
ULN_TERMS = [
    (ALT, "U/L", [1.0, 3.0, 5.0, 20.0]),
    (AST, "U/L", [1.0, 3.0, 5.0, 20.0]),
    (ALP, "U/L", [1.0, 2.5, 5.0, 20.0]),
    (GGT, "U/L", [1.0, 2.5, 5.0, 20.0]),
    (BILI, "µmol/L", [1.0, 1.5, 3.0, 10.0]),
    (CPK, "U/L", [1.0, 2.5, 5.0, 10.0]),
    (CREAT, "µmol/L", [1.0, 1.5, 3.0, 6.0]),
]


def _uln_cases() -> list[tuple[str, str, float, int]]:
    cases = []
    for term, unit, cuts in ULN_TERMS:
        for g, k in enumerate(cuts, start=1):
            cases.append((term, unit, k * 100, g - 1))  # exactly at the cut: the lower grade
            cases.append((term, unit, k * 100 + EPS, g))  # just above: this grade
    return cases


@pytest.mark.parametrize(("term", "unit", "value", "expected"), _uln_cases())
def test_uln_terms_strict_at_every_cut_point(
    term: str, unit: str, value: float, expected: int
) -> None:
    assert ctcae.grade(term, value, unit, uln=100).grade == expected


# Baseline abnormal (baseline 200 > ULN 100): multiples apply to the baseline.
BASELINE_TERMS = [
    (ALT, [(1.5, True), (3.0, False), (5.0, False), (20.0, False)]),
    (AST, [(1.5, True), (3.0, False), (5.0, False), (20.0, False)]),
    (ALP, [(2.0, True), (2.5, False), (5.0, False), (20.0, False)]),
    (GGT, [(2.0, True), (2.5, False), (5.0, False), (20.0, False)]),
    (BILI, [(1.0, False), (1.5, False), (3.0, False), (10.0, False)]),
]


def _baseline_cases() -> list[tuple[str, float, int]]:
    cases = []
    for term, cuts in BASELINE_TERMS:
        for g, (k, inclusive) in enumerate(cuts, start=1):
            at = k * 200
            cases.append((term, at - EPS, g - 1))
            cases.append((term, at, g if inclusive else g - 1))
            cases.append((term, at + EPS, g))
    return cases


@pytest.mark.parametrize(("term", "value", "expected"), _baseline_cases())
def test_baseline_abnormal_path(term: str, value: float, expected: int) -> None:
    unit = "µmol/L" if term == BILI else "U/L"
    result = ctcae.grade(term, value, unit, uln=100, baseline=200)
    assert result.grade == expected
    assert result.path == "baseline"


def test_alt_exactly_three_times_uln_is_grade_1() -> None:
    """The example in clinical_rules.md §3."""
    assert ctcae.grade(ALT, 120, "U/L", uln=40).grade == 1


def test_normal_baseline_keeps_the_uln_path() -> None:
    assert ctcae.grade(ALT, 130, "U/L", uln=40, baseline=40).path == "ULN"
    assert ctcae.grade(ALT, 130, "U/L", uln=40, baseline=40).grade == 2


def test_baseline_abnormal_value_below_grade_1_is_grade_0() -> None:
    r = ctcae.grade(ALT, 250, "U/L", uln=100, baseline=200)
    assert r.grade == 0
    assert "baseline" in r.reason


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [
        (150, 100, 1),  # by ULN: 1.5×ULN → grade 1; by baseline: exactly 1.5× → not above
        (150 + EPS, 100, 2),  # > 1.5 × ULN and > 1.5 × baseline
        (90, 50, 2),  # within ULN, but > 1.5 × baseline → grade 2 (CTCAE creatinine)
        (75, 50, 0),  # exactly 1.5 × baseline → not above → ULN path: grade 0
        (151, 50, 3),  # > 3 × baseline
        (150, 50, 2),  # exactly 3 × baseline → grade 2 (> 1.5 × baseline)
        (601, 50, 4),  # > 6 × ULN
    ],
)
def test_creatinine_uses_any_baseline_for_grades_2_and_3(
    value: float, baseline: float, expected: int
) -> None:
    assert ctcae.grade(CREAT, value, "µmol/L", uln=100, baseline=baseline).grade == expected


DECREASED: list[tuple[str, str, list[float]]] = [
    ("Neutrophil count decreased", "10^9/L", [1.5, 1.0, 0.5]),
    ("Platelet count decreased", "10^9/L", [75.0, 50.0, 25.0]),
    ("Lymphocyte count decreased", "10^9/L", [0.8, 0.5, 0.2]),
    ("White blood cell decreased", "10^9/L", [3.0, 2.0, 1.0]),
    ("Anemia", "g/L", [100.0, 80.0]),
]


def _decreased_cases() -> list[tuple[str, str, float, int]]:
    cases = []
    for term, unit, cuts in DECREASED:
        for g, c in enumerate(cuts, start=2):
            cases.append((term, unit, c, g - 1))  # exactly at the cut: the lower grade
            cases.append((term, unit, c - EPS, g))
    return cases


@pytest.mark.parametrize(("term", "unit", "value", "expected"), _decreased_cases())
def test_decreased_terms_strict_at_every_cut_point(
    term: str, unit: str, value: float, expected: int
) -> None:
    lln = 10_000.0  # far above: grade 1 wherever no lower cut point applies
    assert ctcae.grade(term, value, unit, lln=lln).grade == expected
    # the absolute cut points do not need the LLN (clinical_rules.md §3)
    assert ctcae.grade(term, value, unit).grade == (expected if expected >= 2 else None)


@pytest.mark.parametrize(("term", "unit", "lln"), [(t, u, c[0] + 1) for t, u, c in DECREASED])
def test_decreased_grade_1_needs_value_below_lln(term: str, unit: str, lln: float) -> None:
    assert ctcae.grade(term, lln, unit, lln=lln).grade == 0
    assert ctcae.grade(term, lln - EPS, unit, lln=lln).grade == 1


def test_neutrophils_exactly_one_is_grade_2() -> None:
    assert ctcae.grade("Neutrophil count decreased", 1.0, "10^9/L", lln=2.0).grade == 2


def test_anemia_has_no_laboratory_grade_4() -> None:
    assert ctcae.grade("Anemia", 1, "g/L", lln=120).grade == 3


@pytest.mark.parametrize(
    ("value", "uln", "expected"),
    [
        (5.0, 5.2, 0),
        (5.2, 5.2, 0),
        (5.2 + EPS, 5.2, 1),
        (7.75, 5.2, 1),
        (7.75 + EPS, 5.2, 2),
        (10.34, 5.2, 2),
        (10.34 + EPS, 5.2, 3),
        (12.92, 5.2, 3),
        (12.92 + EPS, 5.2, 4),
        (8.0, None, 2),  # above the absolute cut point: no ULN needed
        (7.0, None, None),  # grade 0 or 1 depends on the ULN
    ],
)
def test_cholesterol(value: float, uln: float | None, expected: int | None) -> None:
    assert ctcae.grade("Cholesterol high", value, "mmol/L", uln=uln).grade == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.71 - EPS, 0),
        (1.71, 1),  # grade 1 starts at 1.71 inclusive
        (3.42, 1),
        (3.42 + EPS, 2),
        (5.7, 2),
        (5.7 + EPS, 3),
        (11.4, 3),
        (11.4 + EPS, 4),
    ],
)
def test_hypertriglyceridemia_needs_no_reference_range(value: float, expected: int) -> None:
    assert ctcae.grade("Hypertriglyceridemia", value, "mmol/L").grade == expected


def test_units_are_converted_first() -> None:
    # bilirubin 2.0 mg/dL = 34.2 µmol/L; ULN 1.0 mg/dL = 17.1 µmol/L → exactly 2 × ULN → grade 2
    r = ctcae.grade(BILI, 2.0, "mg/dL", uln=1.0)
    assert r.grade == 2
    assert r.unit == "µmol/L"
    assert r.value == pytest.approx(34.2)
    # haemoglobin 7.9 g/dL = 79 g/L → grade 3
    assert ctcae.grade("Anemia", 7.9, "g/dL", lln=12).grade == 3
    # neutrophils 900 /µL = 0.9 × 10⁹/L → grade 3
    assert ctcae.grade("Neutrophil count decreased", 900, "/µL").grade == 3


def test_missing_value_or_uln_gives_none_not_zero() -> None:
    assert ctcae.grade(ALT, None, "U/L", uln=40).grade is None
    r = ctcae.grade(ALT, 400, "U/L")
    assert r.grade is None
    assert r.reason == "400 U/L: no ULN, which this term needs: cannot grade"


def test_reason_is_a_sentence_with_the_numbers() -> None:
    r = ctcae.grade(ALT, 130, "U/L", uln=40)
    assert r.reason == "130 U/L is 3.25 × ULN (40 U/L): > 3 × ULN: grade 2"


def test_result_carries_rule_info_and_inputs() -> None:
    r = ctcae.grade(ALT, 130, "U/L", uln=40)
    assert r.version == "5.0"
    assert r.rule == "CTCAE laboratory grading"
    assert r.status is RuleStatus.VERIFIED
    assert "admiral" in r.source
    assert dict(r.inputs)["value"] == 130
    assert r.term == ALT


def test_unknown_term_and_unit_are_typed_errors() -> None:
    with pytest.raises(ctcae.UnknownTermError, match="unknown CTCAE term 'ALT increased'"):
        ctcae.grade("ALT increased", 1, "U/L", uln=40)
    with pytest.raises(UnknownUnitError):
        ctcae.grade(ALT, 1, "mg/dL", uln=40)
    assert issubclass(ctcae.UnknownTermError, JakregError)


def test_impossible_numbers_are_rejected() -> None:
    with pytest.raises(InvalidValueError):
        ctcae.grade(ALT, -1, "U/L", uln=40)
    with pytest.raises(InvalidValueError):
        ctcae.grade(ALT, float("nan"), "U/L", uln=40)
    with pytest.raises(InvalidValueError):
        ctcae.grade(ALT, 10, "U/L", uln=0)


def test_terms_for_analyte() -> None:
    assert ctcae.terms_for_analyte("alt") == (ALT,)
    assert ctcae.terms_for_analyte("haemoglobin") == ("Anemia",)
    assert ctcae.terms_for_analyte("ck") == (CPK,)
    assert ctcae.terms_for_analyte("crp") == ()
    with pytest.raises(UnknownAnalyteError):
        ctcae.terms_for_analyte("sodium")
    # every graded term maps back from its analyte
    for term, spec in ctcae.TERMS.items():
        assert term in ctcae.terms_for_analyte(spec.analyte)


def test_clinician_override_keeps_both_grades() -> None:
    computed = ctcae.grade("Anemia", 75, "g/L", lln=115)
    o = ctcae.with_override(computed, 4, note="life-threatening")
    assert o.grade == 4
    assert o.computed_grade == 3
    assert o.differs
    assert o.version == "5.0"
    assert o.reason.startswith("clinician's grade 4 overrides the computed grade 3")
    with pytest.raises(ctcae.InvalidGradeError):
        ctcae.with_override(computed, 6)
    with pytest.raises(ctcae.InvalidGradeError):
        ctcae.with_override(computed, True)
