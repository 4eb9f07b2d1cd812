"""Response to JAK inhibition: the physician's global response, a derived one, and organ modules."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from jakreg.rules.base import (
    RuleError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
    require_finite,
)
from jakreg.rules.units import convert


class UnknownResponseError(RuleError):
    """A response code that is not CR, PR, NR or NE (or a manifestation outcome not known)."""


class Response(StrEnum):
    CR = "CR"  # complete response
    PR = "PR"  # partial response
    NR = "NR"  # no response
    NE = "NE"  # not evaluable


class Outcome(StrEnum):
    """How one active manifestation changed under therapy."""

    RESOLVED = "resolved"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSE = "worse"
    NOT_EVALUABLE = "not_evaluable"


def parse_response(code: str) -> Response:
    """The recorded response kept as recorded: CR, PR, NR or NE (case and spaces ignored)."""
    try:
        return Response(code.strip().upper())
    except ValueError:
        raise UnknownResponseError(
            f"unknown response {code!r}; use CR, PR, NR or NE (not evaluable)"
        ) from None


@dataclass(frozen=True)
class ManifestationResponse:
    manifestation: str
    outcome: Outcome
    active_at_start: bool = True


@dataclass(frozen=True)
class DerivationRule:
    """A named rule turning per-manifestation outcomes into a global response."""

    name: str = "all-resolved/none-improved"
    version: str = "1"

    @property
    def info(self) -> RuleInfo:
        return RuleInfo(
            name=f"Derived global response: {self.name}",
            version=self.version,
            source=(
                "clinical_rules.md §2 default: CR if every active manifestation resolved; NR if "
                "none improved; else PR; NE when nothing is evaluable (not-evaluable "
                "manifestations are set aside)"
            ),
            status=RuleStatus.CONFIGURABLE,
        )


@dataclass(frozen=True)
class DerivedResponse(RuleResultMixin):
    response: Response
    reason: str
    evaluable: int
    set_aside: tuple[str, ...]
    info: RuleInfo
    inputs: Mapping[str, object]


def derive_response(
    manifestations: Sequence[ManifestationResponse], rule: DerivationRule | None = None
) -> DerivedResponse:
    """Global response from the active manifestations with an evaluable outcome."""
    rule = rule or DerivationRule()
    active = [m for m in manifestations if m.active_at_start]
    judged = [m for m in active if m.outcome is not Outcome.NOT_EVALUABLE]
    aside = tuple(m.manifestation for m in active if m.outcome is Outcome.NOT_EVALUABLE)
    better = {Outcome.RESOLVED, Outcome.IMPROVED}
    if not judged:
        resp, why = Response.NE, "no active manifestation with an evaluable outcome"
    elif all(m.outcome is Outcome.RESOLVED for m in judged):
        resp, why = Response.CR, f"all {len(judged)} evaluable active manifestations resolved"
    elif not any(m.outcome in better for m in judged):
        resp, why = Response.NR, f"none of {len(judged)} evaluable active manifestations improved"
    else:
        n = sum(m.outcome in better for m in judged)
        resp, why = Response.PR, f"{n} of {len(judged)} evaluable active manifestations improved"
    if aside:
        why += f"; not evaluable, set aside: {', '.join(aside)}"
    return DerivedResponse(
        response=resp,
        reason=why,
        evaluable=len(judged),
        set_aside=aside,
        info=rule.info,
        inputs=frozen_inputs(manifestations=tuple(manifestations)),
    )


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Disagreement:
    key: Hashable
    recorded: Response
    derived: Response


def disagreements(
    recorded: Mapping[K, Response | str],
    derived: Mapping[K, Response | DerivedResponse],
) -> list[Disagreement]:
    """Keys (e.g. (course, time point)) where the recorded and derived responses differ.

    Keys present on one side only are not disagreements; they are missing data.
    """
    out = []
    for key, rec in recorded.items():
        if key not in derived:
            continue
        r = rec if isinstance(rec, Response) else parse_response(rec)
        d = derived[key]
        dr = d.response if isinstance(d, DerivedResponse) else d
        if r is not dr:
            out.append(Disagreement(key=key, recorded=r, derived=dr))
    return out


# ---- immune thrombocytopenia (IWG) ------------------------------------------------------------

ITP_IWG = RuleInfo(
    name="ITP response (IWG)",
    version="1",
    source=(
        "International Working Group criteria as summarised in clinical_rules.md §2: CR platelets "
        "≥100×10⁹/L without bleeding; R ≥30×10⁹/L and ≥2× baseline; the IWG paper was not read "
        "here, and repeat-measurement confirmation is not checked"
    ),
    status=RuleStatus.PROVISIONAL,
)


class ItpOutcome(StrEnum):
    CR = "CR"
    R = "R"
    NR = "NR"
    NE = "NE"


@dataclass(frozen=True)
class ItpRule:
    """Whether R also needs no bleeding (not in clinical_rules.md §2, so off by default)."""

    response_requires_no_bleeding: bool = False


@dataclass(frozen=True)
class ItpResponse(RuleResultMixin):
    outcome: ItpOutcome
    platelets: float | None
    reason: str
    info: RuleInfo
    inputs: Mapping[str, object]


def itp_response(
    platelets: float | None,
    unit: str,
    *,
    baseline: float | None,
    bleeding: bool | None,
    rule: ItpRule | None = None,
) -> ItpResponse:
    """IWG ITP response from one platelet count (baseline in the same unit)."""
    rule = rule or ItpRule()

    def out(o: ItpOutcome, v: float | None, why: str) -> ItpResponse:
        return ItpResponse(
            outcome=o,
            platelets=v,
            reason=why,
            info=ITP_IWG,
            inputs=frozen_inputs(
                platelets=platelets, unit=unit, baseline=baseline, bleeding=bleeding
            ),
        )

    if platelets is None:
        return out(ItpOutcome.NE, None, "no platelet count")
    v = convert("platelets", require_finite("platelets", platelets), unit).value
    b = None
    if baseline is not None:
        b = convert("platelets", require_finite("baseline platelets", baseline), unit).value
    if v >= 100:
        if bleeding is False:
            return out(ItpOutcome.CR, v, f"platelets {v:g}×10⁹/L ≥100 without bleeding")
        if bleeding is None:
            return out(ItpOutcome.NE, v, f"platelets {v:g}×10⁹/L ≥100 but bleeding not recorded")
    if v >= 30:
        if b is None:
            return out(ItpOutcome.NE, v, f"platelets {v:g}×10⁹/L ≥30 but no baseline count")
        if v >= 2 * b:
            if rule.response_requires_no_bleeding and bleeding is not False:
                return out(
                    ItpOutcome.NE if bleeding is None else ItpOutcome.NR,
                    v,
                    (
                        f"platelets {v:g}×10⁹/L ≥30 and ≥2× baseline ({b:g}) but bleeding "
                        f"{'not recorded' if bleeding is None else 'present'}"
                    ),
                )
            return out(ItpOutcome.R, v, f"platelets {v:g}×10⁹/L ≥30 and ≥2× baseline ({b:g})")
        return out(ItpOutcome.NR, v, f"platelets {v:g}×10⁹/L less than 2× baseline ({b:g})")
    return out(ItpOutcome.NR, v, f"platelets {v:g}×10⁹/L below 30")


# ---- oropharyngeal candidiasis (Murray scale) ----------------------------------------------------

MURRAY = RuleInfo(
    name="Oropharyngeal candidiasis (Murray scale)",
    version="1",
    source=(
        "Murray scale as summarised in clinical_rules.md §2: signs 0–3, symptoms 0–3, cure = both "
        "0; no definition of improvement is encoded"
    ),
    status=RuleStatus.PROVISIONAL,
)


class InvalidScoreError(RuleError):
    """A Murray sign or symptom score outside 0 to 3."""


@dataclass(frozen=True)
class CandidiasisResponse(RuleResultMixin):
    signs: int
    symptoms: int
    cured: bool
    change_signs: int | None
    change_symptoms: int | None
    reason: str
    info: RuleInfo
    inputs: Mapping[str, object]


def _murray(name: str, x: int | None) -> int | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 3:
        raise InvalidScoreError(f"Murray {name} score is 0 to 3, got {x!r}")
    return x


def _murray_required(name: str, x: int) -> int:
    v = _murray(name, x)
    if v is None:
        raise InvalidScoreError(f"Murray {name} score is required")
    return v


def candidiasis_response(
    signs: int,
    symptoms: int,
    *,
    baseline_signs: int | None = None,
    baseline_symptoms: int | None = None,
) -> CandidiasisResponse:
    """Cure when signs and symptoms are both 0; changes from baseline are reported as numbers."""
    s, y = _murray_required("signs", signs), _murray_required("symptoms", symptoms)
    bs, by = _murray("signs", baseline_signs), _murray("symptoms", baseline_symptoms)
    cured = s == 0 and y == 0
    return CandidiasisResponse(
        signs=s,
        symptoms=y,
        cured=cured,
        change_signs=None if bs is None else s - bs,
        change_symptoms=None if by is None else y - by,
        reason=("cured: " if cured else "not cured: ") + f"signs {s}, symptoms {y}",
        info=MURRAY,
        inputs=frozen_inputs(
            signs=signs,
            symptoms=symptoms,
            baseline_signs=baseline_signs,
            baseline_symptoms=baseline_symptoms,
        ),
    )
