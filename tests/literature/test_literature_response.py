"""The authors' words reach a category only through the mapping table; unmapped words are reported."""

from __future__ import annotations

import pytest

from jakreg.literature import (
    ResponseCategory,
    ResponseMapping,
    ResponseMappingError,
    default_response_mapping,
    load_cases,
    map_response,
)
from jakreg.rules.base import RuleStatus

CR, PR, NR, UNKNOWN = (
    ResponseCategory.CR,
    ResponseCategory.PR,
    ResponseCategory.NR,
    ResponseCategory.unknown,
)


def _mapping(*phrases: tuple[str, str]) -> ResponseMapping:
    return ResponseMapping.from_dict(
        {
            "name": "test mapping",
            "version": "t1",
            "status": "provisional",
            "source": "a test",
            "phrases": [{"words": w, "category": c, "why": "test"} for w, c in phrases],
        }
    )


def test_default_mapping_on_the_set() -> None:
    lit = load_cases()
    got = {c.case_id: c.response_judgement.category for c in lit}
    assert got == {
        "Weinacht-2017-P1": CR,
        "Zimmerman-2017-P1": NR,
        "Zimmerman-2017-P4": NR,
        "Zimmerman-2019-P1": UNKNOWN,  # laboratory only
        "Chaimowitz-2020-P1": CR,
        "Rosenberg-2022-P1": CR,
        "Staels-2023-P1": PR,
        "JClinImmunol-2024-01687-P1": UNKNOWN,  # not reported
    }
    assert lit.unmapped_response_words() == {}
    j = lit.case("JClinImmunol-2024-01687-P1").response_judgement
    assert j.reason == "not reported"
    assert j.words is None


def test_the_judgement_is_labelled_provisional() -> None:
    lit = load_cases()
    for case in lit:
        j = case.response_judgement
        assert j.kind == "derived judgement"
        assert j.status is RuleStatus.PROVISIONAL
        assert j.info.version == "2026-11"
    assert lit.response_mapping.status is RuleStatus.PROVISIONAL
    assert default_response_mapping().info.name.startswith("literature response mapping")


def test_unmapped_words_give_unknown_and_are_reported() -> None:
    without_failure = _mapping(("his feet were worse", "NR"))
    lit = load_cases(response_mapping=without_failure)
    p4 = lit.case("Zimmerman-2017-P4").response_judgement
    assert p4.category is UNKNOWN
    assert p4.unmapped == ("therapeutic failure",)
    assert p4.reason == "not in the response mapping table: 'therapeutic failure'"
    p1 = lit.case("Zimmerman-2017-P1").response_judgement
    assert p1.category is UNKNOWN  # one phrase mapped is not enough
    assert p1.unmapped == ("therapeutic failure",)
    unmapped = lit.unmapped_response_words()
    assert unmapped["Zimmerman-2017-P4"] == ("therapeutic failure",)
    assert unmapped["Weinacht-2017-P1"] == (
        "cured mucocutaneous candidiasis",
        "maintained remission of immune-mediated cytopenias",
    )
    assert "JClinImmunol-2024-01687-P1" not in unmapped  # nothing to map


def test_an_empty_table_maps_nothing() -> None:
    lit = load_cases(response_mapping=_mapping())
    assert {c.response_judgement.category for c in lit} == {UNKNOWN}


def test_no_keyword_guessing() -> None:
    mapping = _mapping(("cured mucocutaneous candidiasis", "CR"))
    j = map_response("cured CMC", mapping)
    assert j.category is UNKNOWN
    assert j.unmapped == ("cured CMC",)
    # case, quotes and spacing do not matter; words do
    assert map_response(" 'Cured  Mucocutaneous candidiasis' ", mapping).category is CR


@pytest.mark.parametrize(
    ("words", "expected", "reason"),
    [
        ("a; b", CR, "every phrase maps to CR"),
        ("a; p", PR, "phrases map to PR (or to CR and PR)"),
        ("p", PR, "phrases map to PR (or to CR and PR)"),
        ("n; n2", NR, "every phrase maps to NR"),
        ("a; n", UNKNOWN, "conflicting phrases (NR together with CR or PR)"),
        ("u; a", CR, "every phrase maps to CR"),
        ("u", UNKNOWN, "the words state no clinical response"),
        ("", UNKNOWN, "not reported"),
    ],
)
def test_combination(words: str, expected: ResponseCategory, reason: str) -> None:
    mapping = _mapping(
        ("a", "CR"), ("b", "CR"), ("p", "PR"), ("n", "NR"), ("n2", "NR"), ("u", "unknown")
    )
    j = map_response(words, mapping)
    assert (j.category, j.reason) == (expected, reason)


def test_bad_tables_are_named_errors() -> None:
    with pytest.raises(ResponseMappingError) as exc:
        _mapping(("cured", "complete"))
    assert str(exc.value) == "unknown category 'complete' for 'cured'; use CR, PR, NR or unknown"
    with pytest.raises(ResponseMappingError) as exc:
        _mapping(("cured", "CR"), ("Cured", "CR"))
    assert str(exc.value) == "the words 'Cured' are listed twice"
    with pytest.raises(ResponseMappingError, match="lacks 'phrases'"):
        ResponseMapping.from_dict(
            {"name": "x", "version": "1", "status": "provisional", "source": "s"}
        )
