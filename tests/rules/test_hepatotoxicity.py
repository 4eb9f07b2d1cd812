"""Hy's law, R ratio and CTCAE liver grades from one draw (clinical_rules.md §3)."""

from __future__ import annotations

import pytest

from jakreg.rules.base import RuleStatus
from jakreg.rules.hepatotoxicity import LiverLab, assess_liver, hys_law, injury_pattern


def lab(value: float | None, uln: float = 100, unit: str = "U/L") -> LiverLab:
    return LiverLab(value=value, unit=unit, uln=uln)


@pytest.mark.parametrize(
    ("alt", "ast", "bili", "alp", "expected"),
    [
        (3.0, 1.0, 2.0, 1.9, True),  # boundaries inclusive: ≥3, ≥2; ALP strictly <2
        (2.99, 2.99, 2.0, 1.0, False),
        (1.0, 3.0, 2.0, 1.0, True),  # AST alone is enough
        (3.0, None, 1.99, 1.0, False),
        (3.0, None, 2.0, 2.0, False),  # ALP 2×ULN: cholestasis, not Hy's law
        (3.0, None, 2.0, None, None),  # ALP unknown: cannot tell
        (None, None, 2.0, 1.0, None),
        (None, 1.0, 2.0, 1.0, None),  # ALT unknown and AST low: cannot tell
        (2.0, 2.0, None, 1.0, False),  # no transaminase criterion: bilirubin irrelevant
    ],
)
def test_hys_law(
    alt: float | None,
    ast: float | None,
    bili: float | None,
    alp: float | None,
    expected: bool | None,
) -> None:
    met, reason = hys_law(alt, ast, bili, alp)
    assert met is expected
    assert reason.startswith("Hy's law")


@pytest.mark.parametrize(
    ("alt", "alp", "pattern"),
    [
        (10.0, 2.0, "mixed"),  # R = 5 exactly: mixed (2–5 inclusive)
        (10.01, 2.0, "hepatocellular"),
        (4.0, 2.0, "mixed"),  # R = 2 exactly: mixed
        (3.99, 2.0, "cholestatic"),
    ],
)
def test_injury_pattern_boundaries(alt: float, alp: float, pattern: str) -> None:
    assert injury_pattern(alt, alp)[1] == pattern


def test_injury_pattern_needs_alt_and_alp() -> None:
    assert injury_pattern(None, 2.0)[:2] == (None, None)


def test_assess_liver_combines_grades_hys_law_and_pattern() -> None:
    a = assess_liver(
        alt=lab(600, uln=40),
        ast=lab(300, uln=40),
        alp=lab(150, uln=120),
        bilirubin=LiverLab(value=50, unit="µmol/L", uln=20),
    )
    assert a.grades["Alanine aminotransferase increased"].grade == 3  # 15 × ULN
    assert a.grades["Blood bilirubin increased"].grade == 2  # 2.5 × ULN
    assert a.max_grade == 3
    assert a.hys_law is True
    assert a.r_ratio == pytest.approx(15 / 1.25)
    assert a.pattern == "hepatocellular"
    assert a.status is RuleStatus.PROVISIONAL


def test_assess_liver_with_units_mixed() -> None:
    a = assess_liver(alt=lab(100, uln=50), bilirubin=LiverLab(2.0, "mg/dL", uln=1.0))
    assert a.multiples_of_uln["bilirubin"] == pytest.approx(2.0)
    assert a.hys_law is None  # ALP missing
