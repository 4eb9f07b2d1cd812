"""Recorded and derived global response, disagreements, ITP (IWG) and Murray modules."""

from __future__ import annotations

import pytest

from jakreg.rules.response import (
    CandidiasisResponse,
    DerivationRule,
    DerivedResponse,
    Disagreement,
    InvalidScoreError,
    ItpOutcome,
    ItpRule,
    ManifestationResponse,
    Outcome,
    Response,
    UnknownResponseError,
    candidiasis_response,
    derive_response,
    disagreements,
    itp_response,
    parse_response,
)


def m(name: str, outcome: Outcome, active: bool = True) -> ManifestationResponse:
    return ManifestationResponse(name, outcome, active)


def test_recorded_response_kept_as_recorded() -> None:
    assert parse_response(" cr ") is Response.CR
    with pytest.raises(UnknownResponseError, match="use CR, PR, NR or NE"):
        parse_response("complete")


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([Outcome.RESOLVED, Outcome.RESOLVED], Response.CR),
        ([Outcome.RESOLVED, Outcome.UNCHANGED], Response.PR),
        ([Outcome.IMPROVED, Outcome.WORSE], Response.PR),
        ([Outcome.UNCHANGED, Outcome.WORSE], Response.NR),
        ([Outcome.NOT_EVALUABLE], Response.NE),
        ([], Response.NE),
        ([Outcome.RESOLVED, Outcome.NOT_EVALUABLE], Response.CR),
    ],
)
def test_default_derivation(outcomes: list[Outcome], expected: Response) -> None:
    d = derive_response([m(f"m{i}", o) for i, o in enumerate(outcomes)])
    assert d.response is expected
    assert d.info.name == "Derived global response: all-resolved/none-improved"


def test_inactive_manifestations_are_ignored_and_not_evaluable_ones_named() -> None:
    d = derive_response(
        [
            m("CMC", Outcome.RESOLVED),
            m("skin", Outcome.WORSE, active=False),
            m("lung", Outcome.NOT_EVALUABLE),
        ]
    )
    assert d.response is Response.CR
    assert d.reason == (
        "all 1 evaluable active manifestations resolved; not evaluable, set aside: lung"
    )
    assert derive_response([], DerivationRule(name="x")).info.name.endswith(": x")


def test_disagreements() -> None:
    recorded: dict[tuple[str, str], Response | str] = {
        ("c1", "6m"): "CR",
        ("c2", "6m"): Response.PR,
        ("c3", "6m"): "NR",
    }
    derived: dict[tuple[str, str], Response | DerivedResponse] = {
        ("c1", "6m"): derive_response([m("CMC", Outcome.IMPROVED), m("ITP", Outcome.RESOLVED)]),
        ("c2", "6m"): Response.PR,
    }
    assert disagreements(recorded, derived) == [
        Disagreement(("c1", "6m"), Response.CR, Response.PR)
    ]


@pytest.mark.parametrize(
    ("platelets", "baseline", "bleeding", "expected"),
    [
        (100, 10, False, ItpOutcome.CR),
        (99.9, 10, False, ItpOutcome.R),
        (100, 10, True, ItpOutcome.R),  # bleeding: not CR, still ≥30 and ≥2× baseline
        (100, 10, None, ItpOutcome.NE),
        (30, 15, None, ItpOutcome.R),
        (30, 15.1, None, ItpOutcome.NR),  # less than 2× baseline
        (29.9, 10, False, ItpOutcome.NR),
        (50, None, False, ItpOutcome.NE),
        (None, 10, False, ItpOutcome.NE),
    ],
)
def test_itp_iwg(
    platelets: float | None, baseline: float | None, bleeding: bool | None, expected: ItpOutcome
) -> None:
    assert (
        itp_response(platelets, "10^9/L", baseline=baseline, bleeding=bleeding).outcome is expected
    )


def test_itp_units_and_bleeding_option() -> None:
    assert itp_response(100_000, "/µL", baseline=10_000, bleeding=False).outcome is ItpOutcome.CR
    strict = ItpRule(response_requires_no_bleeding=True)
    assert (
        itp_response(50, "10^9/L", baseline=10, bleeding=True, rule=strict).outcome is ItpOutcome.NR
    )


def test_murray() -> None:
    r = candidiasis_response(0, 0, baseline_signs=3, baseline_symptoms=2)
    assert isinstance(r, CandidiasisResponse)
    assert r.cured
    assert r.change_signs == -3
    assert r.change_symptoms == -2
    assert not candidiasis_response(1, 0).cured
    with pytest.raises(InvalidScoreError):
        candidiasis_response(4, 0)
