"""What an analysis may be told: which patients, the data cut-off, and every configurable convention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jakreg.rules.base import RuleInfo, RuleStatus
from jakreg.rules.response import DerivationRule
from jakreg.rules.treatment_emergent import TreatmentEmergentWindow, default_window
from jakreg.rules.windows import WindowRule
from jakreg.stats.paired import ZeroMethod

DEFAULT_INFECTION_ATTRIBUTIONS = frozenset({"probable", "definite"})
ATTRIBUTION_ORDER = ("unrelated", "unlikely", "possible", "probable", "definite")
HEPATIC_TERMS = (
    "Alanine aminotransferase increased",
    "Aspartate aminotransferase increased",
    "Blood bilirubin increased",
    "Alkaline phosphatase increased",
)


@dataclass(frozen=True)
class AnalysisOptions:
    """Options of one analysis; defaults reproduce the founding study's conventions."""

    centre: str | None = None  # one centre's patients; None = every centre
    source: str | None = "cohort"  # cohort | literature | external; None = every source
    cutoff: dt.date | None = (
        None  # None: the latest data cut-off of the selected centres, else today
    )
    literature: bool = True  # compare with the published cases (patients with source = literature)
    score: str = "IDDA"
    window_rule: WindowRule = field(default_factory=WindowRule)
    response_rule: DerivationRule = field(default_factory=DerivationRule)
    # An infection counts as "a likely adverse event of the JAK inhibitor" at these attributions.
    infection_attributions: frozenset[str] = DEFAULT_INFECTION_ATTRIBUTIONS
    # Which adverse events count under therapy (analysis.safety.treatment_emergent).
    treatment_emergent: TreatmentEmergentWindow = field(default_factory=default_window)
    hepatotoxicity_min_grade: int = 3  # CTCAE grade of ALT/AST/bilirubin/ALP increased, on therapy
    zero_method: ZeroMethod = "wilcox"
    confidence_level: float = 0.95
    survival_times: tuple[float, ...] | None = None  # None: every 6 months up to the longest course
    hpo_groups: bool = True  # group manifestations by HPO organ system (loads the ontology, ~1 s)
    today: dt.date | None = None  # for tests: what "today" is when no cut-off is known

    def to_dict(self) -> dict[str, Any]:
        return {
            "centre": self.centre,
            "source": self.source,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "literature": self.literature,
            "score": self.score,
            "window_rule": self.window_rule.info.label(),
            "response_rule": self.response_rule.info.label(),
            "infection_attributions": sorted(self.infection_attributions, key=_attribution_rank),
            "hepatotoxicity_min_grade": self.hepatotoxicity_min_grade,
            "treatment_emergent": {
                "days_before_start": self.treatment_emergent.days_before_start,
                "days_after_stop": self.treatment_emergent.days_after_stop,
            },
            "zero_method": self.zero_method,
            "confidence_level": self.confidence_level,
            "survival_times": list(self.survival_times) if self.survival_times else None,
            "hpo_groups": self.hpo_groups,
        }

    def conventions(self) -> tuple[RuleInfo, ...]:
        """The analysis conventions chosen here, as rules for the methods section."""
        attributions = ", ".join(sorted(self.infection_attributions, key=_attribution_rank))
        return (
            FOLLOW_UP,
            ANALYSIS_SET,
            PATIENT_COURSE,
            RECORDED_RESPONSE,
            MANIFESTATION_OUTCOME,
            self.treatment_emergent.info,
            RuleInfo(
                name="Infection as a likely adverse event",
                version="1",
                source=(
                    "jakreg convention after the founding study's 'considered a likely adverse "
                    f"event': category infection with attribution {attributions}"
                ),
                status=RuleStatus.CONFIGURABLE,
            ),
            RuleInfo(
                name="Hepatotoxicity from graded laboratory values",
                version="1",
                source=(
                    "jakreg convention (clinical_rules.md §3 'as commonly defined'): a CTCAE grade "
                    f"≥ {self.hepatotoxicity_min_grade} of {', '.join(HEPATIC_TERMS)} after the "
                    "first start and up to the cut-off"
                ),
                status=RuleStatus.CONFIGURABLE,
            ),
        )


def _attribution_rank(a: str) -> int:
    return ATTRIBUTION_ORDER.index(a) if a in ATTRIBUTION_ORDER else len(ATTRIBUTION_ORDER)


FOLLOW_UP = RuleInfo(
    name="Follow-up on JAK inhibitor",
    version="1",
    source=(
        "jakreg convention matching the founding study's 'follow-up': calendar months from the first "
        "course start to the patient's last follow-up, capped at the data cut-off (missing when the "
        "last follow-up is not recorded); time on drug is separate and ends at the stop"
    ),
    status=RuleStatus.CONFIGURABLE,
)
ANALYSIS_SET = RuleInfo(
    name="Analysis set",
    version="1",
    source=(
        "jakreg convention: the selected patients with a JAK-inhibitor course started on or before "
        "the data cut-off; rows dated after the cut-off are ignored and a stop after it is not seen"
    ),
    status=RuleStatus.CONFIGURABLE,
)
PATIENT_COURSE = RuleInfo(
    name="Patient-level course",
    version="1",
    source=(
        "jakreg convention: patient-level figures (drug, IDDA pair, response, drug survival) use "
        "the patient's first course; course-level tables list every course"
    ),
    status=RuleStatus.CONFIGURABLE,
)
RECORDED_RESPONSE = RuleInfo(
    name="Recorded global response per course",
    version="1",
    source=(
        "jakreg convention: the latest global response (manifestation blank) of the course dated "
        "on or before the cut-off"
    ),
    status=RuleStatus.CONFIGURABLE,
)
MANIFESTATION_OUTCOME = RuleInfo(
    name="Per-manifestation response to outcome",
    version="1",
    source=(
        "jakreg convention for the derivation rule's input: CR = resolved, PR = improved, "
        "NR = unchanged, NE = not evaluable; a manifestation counts as active when it was active "
        "at start or is not listed"
    ),
    status=RuleStatus.CONFIGURABLE,
)
