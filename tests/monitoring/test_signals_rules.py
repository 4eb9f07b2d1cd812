"""Every safety-signal rule against boundary vectors: just below, at and above, in several units."""

from __future__ import annotations

import pytest

from jakreg.rules.signals import (
    AERecord,
    CourseRecord,
    LabRecord,
    SignalRuleError,
    default_rules,
    evaluate,
    parse_rules,
)


def _lab_hits(analyte: str, value: float, unit: str, **kw: object) -> set[str]:
    rec = LabRecord(1, "P001", None, analyte, value, unit, **kw)  # type: ignore[arg-type]
    return {h.rule_id for h in evaluate([rec])}


# (analyte, rule, value, unit, expected to fire). Thresholds are strict "<" as the label writes them.
BELOW = [
    ("neutrophils", "anc_low", 0.99, "10^9/L", True),
    ("neutrophils", "anc_low", 1.0, "10^9/L", False),
    ("neutrophils", "anc_low", 1.01, "10^9/L", False),
    ("neutrophils", "anc_low", 999, "cells/µL", True),
    ("neutrophils", "anc_low", 1000, "cells/µL", False),
    ("neutrophils", "anc_low", 1.0, "G/L", False),
    ("lymphocytes", "alc_low", 0.49, "10^9/L", True),
    ("lymphocytes", "alc_low", 0.5, "10^9/L", False),
    ("lymphocytes", "alc_low", 0.51, "10^9/L", False),
    ("lymphocytes", "alc_low", 499, "/mm3", True),
    ("lymphocytes", "alc_low", 500, "/mm3", False),
    ("haemoglobin", "hb_low", 7.9, "g/dL", True),
    ("haemoglobin", "hb_low", 8.0, "g/dL", False),
    ("haemoglobin", "hb_low", 8.1, "g/dL", False),
    ("haemoglobin", "hb_low", 79, "g/L", True),
    ("haemoglobin", "hb_low", 80, "g/L", False),
    ("haemoglobin", "hb_low", 81, "g/L", False),
    ("platelets", "platelets_low", 49, "10^9/L", True),
    ("platelets", "platelets_low", 50, "10^9/L", False),
    ("platelets", "platelets_low", 51, "10^9/L", False),
    ("platelets", "platelets_low", 49_000, "cells/µL", True),
    ("platelets", "platelets_low", 50_000, "cells/µL", False),
]


@pytest.mark.parametrize(("analyte", "rule", "value", "unit", "fires"), BELOW)
def test_below_thresholds(analyte: str, rule: str, value: float, unit: str, fires: bool) -> None:
    assert (rule in _lab_hits(analyte, value, unit)) is fires


# ALT/AST > 3×ULN; when baseline > ULN the multiple applies to the baseline (CTCAE §3 convention).
ABOVE = [
    ("alt", "alt_high", 119, 40, None, False),
    ("alt", "alt_high", 120, 40, None, False),  # exactly 3×ULN does not meet "> 3×"
    ("alt", "alt_high", 121, 40, None, True),
    ("ast", "ast_high", 120, 40, None, False),
    ("ast", "ast_high", 121, 40, None, True),
    ("alt", "alt_high", 121, 40, 40, True),  # baseline at ULN is not abnormal: ULN path
    ("alt", "alt_high", 179, 40, 60, False),  # baseline 60 > ULN: threshold 3×60 = 180
    ("alt", "alt_high", 180, 40, 60, False),
    ("alt", "alt_high", 181, 40, 60, True),
    ("ast", "ast_high", 181, 40, 60, True),
    ("alt", "alt_high", 500, None, None, False),  # no ULN, no verdict
]


@pytest.mark.parametrize(("analyte", "rule", "value", "uln", "baseline", "fires"), ABOVE)
def test_transaminases(
    analyte: str, rule: str, value: float, uln: float | None, baseline: float | None, fires: bool
) -> None:
    assert (rule in _lab_hits(analyte, value, "U/L", uln=uln, baseline=baseline)) is fires


def test_transaminase_unit_conversion() -> None:
    # 1 µkat/L = 60 U/L: ULN 0.5 µkat/L (30 U/L), 3×ULN = 1.5 µkat/L
    assert "alt_high" not in _lab_hits("alt", 1.5, "µkat/L", uln=0.5)
    assert "alt_high" in _lab_hits("alt", 1.51, "µkat/L", uln=0.5)


def test_hit_names_record_rule_source_value_threshold() -> None:
    [hit] = [
        h
        for h in evaluate([LabRecord(7, "P009", None, "alt", 181, "U/L", uln=40, baseline=60)])
        if h.rule_id == "alt_high"
    ]
    assert (hit.record_table, hit.record_id, hit.patient) == ("labs", 7, "P009")
    assert hit.rule_version == "1"
    assert "clinical_rules.md §3" in hit.source
    assert hit.threshold == "> 3× baseline (180 U/L)"
    assert hit.value == "alt 181 U/L"
    assert "meets threshold" in hit.text
    assert hit.source in hit.text
    assert hit.severity == "warning"
    assert hit.provisional


@pytest.mark.parametrize(
    ("value", "fires"),
    [(0.51, False), (0.5, False), (0.49, True)],  # CTCAE lymphocytes grade 3 is < 0.5 (strict)
)
def test_ctcae_grade3_lab_by_computed_grade(value: float, fires: bool) -> None:
    assert ("ctcae_lab_grade3" in _lab_hits("lymphocytes", value, "10^9/L", lln=1.0)) is fires


def test_ctcae_grade3_lab_boundary_platelets_and_alt() -> None:
    assert "ctcae_lab_grade3" not in _lab_hits("platelets", 50, "10^9/L", lln=150)  # grade 2
    assert "ctcae_lab_grade3" in _lab_hits("platelets", 49.9, "10^9/L", lln=150)  # grade 3
    assert "ctcae_lab_grade3" not in _lab_hits("alt", 200, "U/L", uln=40)  # = 5×ULN, grade 2
    assert "ctcae_lab_grade3" in _lab_hits("alt", 201, "U/L", uln=40)  # > 5×ULN, grade 3


def test_ctcae_grade3_lab_clinician_grade_overrides() -> None:
    assert "ctcae_lab_grade3" in _lab_hits("crp", 5, "mg/L", clinician_grade=3)
    assert "ctcae_lab_grade3" not in _lab_hits("platelets", 10, "10^9/L", clinician_grade=2)


def _ae_hits(term: str, grade: int | None = None, serious: bool = False) -> set[str]:
    return {
        h.rule_id for h in evaluate(adverse_events=[AERecord(3, "P1", None, term, grade, serious)])
    }


@pytest.mark.parametrize(("grade", "fires"), [(None, False), (2, False), (3, True), (4, True)])
def test_ae_grade(grade: int | None, fires: bool) -> None:
    assert ("ae_grade3" in _ae_hits("Lung infection", grade)) is fires


def test_ae_serious() -> None:
    assert "ae_serious" in _ae_hits("Fever", 1, serious=True)
    assert "ae_serious" not in _ae_hits("Fever", 1, serious=False)


@pytest.mark.parametrize(
    ("term", "rule", "fires"),
    [
        ("Herpes zoster", "herpes_zoster", True),
        ("Shingles, thoracic", "herpes_zoster", True),
        ("Herpes simplex", "herpes_zoster", False),
        ("Deep vein thrombosis", "thrombosis", True),
        ("Pulmonary embolism", "thrombosis", True),
        ("VTE", "thrombosis", True),
        ("Immune thrombocytopenia", "thrombosis", False),
    ],
)
def test_ae_terms(term: str, rule: str, fires: bool) -> None:
    assert (rule in _ae_hits(term, 1)) is fires


def test_unknown_unit_never_fires_and_never_raises() -> None:
    assert evaluate([LabRecord(1, "P1", None, "neutrophils", 0.1, "furlongs")]) == []


# (drug, azole, daily mg of each dose record by date, expected to fire): one dose level over the
# course with the azole flag meets the rule; a change of the total daily dose, no azole, another drug,
# or no dose record to read does not.
AZOLE = [
    ("ruxolitinib", True, (10.0,), True),
    ("ruxolitinib", True, (10.0, 10.0, 10.0), True),
    ("ruxolitinib", True, (10.0, 5.0), False),
    ("ruxolitinib", True, (10.0, 10.0, 10.000001), False),
    ("ruxolitinib", True, (), False),
    ("ruxolitinib", False, (10.0,), False),
    ("baricitinib", True, (4.0,), False),
]


@pytest.mark.parametrize(("drug", "azole", "daily", "fires"), AZOLE)
def test_azole_without_dose_change(
    drug: str, azole: bool, daily: tuple[float, ...], fires: bool
) -> None:
    rec = CourseRecord(7, "P001", None, 2, drug, azole, daily, table="treatment_course")
    hits = [h for h in evaluate(courses=[rec]) if h.rule_id == "azole_no_dose_change"]
    assert bool(hits) is fires
    if fires:
        (h,) = hits
        assert (h.record_table, h.record_id, h.severity) == ("treatment_course", 7, "warning")
        assert h.value == (
            f"ruxolitinib course 2 with azole co-medication, {len(daily)} dose record(s) all 10 mg/day"
        )
        assert h.threshold == "azole co-medication = yes and one dose level in the course"
        assert "meets threshold strong CYP3A4 inhibitor (azole)" in h.text
        assert "ruxolitinib US label" in h.text
        assert "[provisional]" in h.text


def test_course_rule_needs_its_drug() -> None:
    data = {"format": "jakreg-safety-signals/1", "version": "1", "rules": [
        {"id": "a", "version": "1", "kind": "course_azole_without_dose_change", "label": "x",
         "severity": "warning", "source": "s"}]}  # fmt: skip
    with pytest.raises(SignalRuleError, match="rule 'a': 'drug' is missing; add it"):
        parse_rules(data)


def test_shipped_rules_are_cited_and_provisional() -> None:
    rs = default_rules()
    ids = {r.id for r in rs.rules}
    assert ids >= {"anc_low", "alc_low", "hb_low", "platelets_low", "alt_high", "ast_high"}
    assert ids >= {"ctcae_lab_grade3", "ae_grade3", "ae_serious", "herpes_zoster", "thrombosis"}
    assert "azole_no_dose_change" in ids
    for r in rs.rules:
        assert r.source
        assert r.version
        assert r.provisional
        assert r.severity in {"critical", "warning"}
        assert "advice" not in r.label.lower()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": "x"}, "format must be"),
        ({"format": "jakreg-safety-signals/1", "version": "1", "rules": []}, "non-empty"),
        (
            {"format": "jakreg-safety-signals/1", "version": "1", "rules": [{"id": "a"}]},
            "rule 'a': 'kind' is missing",
        ),
        (
            {
                "format": "jakreg-safety-signals/1",
                "version": "1",
                "rules": [
                    {
                        "id": "a",
                        "version": "1",
                        "kind": "lab_below",
                        "label": "x",
                        "severity": "critical",
                        "source": "s",
                        "analyte": "neutrophils",
                        "threshold": 1,
                        "unit": "parsecs",
                    }
                ],
            },
            "rule 'a': unit 'parsecs'",
        ),
    ],
)
def test_bad_rule_file_located_errors(data: object, message: str) -> None:
    with pytest.raises(SignalRuleError, match=message):
        parse_rules(data)
