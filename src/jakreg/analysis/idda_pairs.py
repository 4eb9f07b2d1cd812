"""IDDA before vs under JAK inhibitor: pairs by patient through the window rule, and the paired tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.rules.base import RuleInfo
from jakreg.rules.idda import reported_total
from jakreg.rules.windows import Assessment, WindowRule, choose_assessments
from jakreg.stats import ContinuousSummary, PairedComparison, compare_paired, describe_continuous
from jakreg.stats.paired import WILCOXON_SOFTWARE, ZeroMethod


@dataclass(frozen=True)
class ChosenScore:
    on: dt.date
    value: float
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.on.isoformat(), "value": self.value, "why": self.why}


@dataclass(frozen=True)
class PatientScores:
    """The window rule's choice for one patient's first course."""

    patient: str
    course_no: int
    before: ChosenScore | None
    under: ChosenScore | None
    before_reason: str
    under_reason: str
    not_chosen: tuple[tuple[str, str], ...]  # (assessment date, why not chosen)

    @property
    def paired(self) -> bool:
        return self.before is not None and self.under is not None

    @property
    def exclusion_reason(self) -> str | None:
        if self.paired:
            return None
        missing = []
        if self.before is None:
            missing.append(f"no 'before' score ({self.before_reason})")
        if self.under is None:
            missing.append(f"no 'under' score ({self.under_reason})")
        return "; ".join(missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "course_no": self.course_no,
            "before": self.before.to_dict() if self.before else None,
            "under": self.under.to_dict() if self.under else None,
            "paired": self.paired,
            "difference": (
                self.under.value - self.before.value if self.before and self.under else None
            ),
            "not_chosen": [{"date": d, "why": w} for d, w in self.not_chosen],
        }


@dataclass(frozen=True)
class IddaSection:
    score: str
    score_versions: tuple[str, ...]
    window_rule: RuleInfo
    total_rule: RuleInfo
    n_patients: int
    patients: tuple[PatientScores, ...]
    before: ContinuousSummary  # every patient with a 'before' score
    under: ContinuousSummary  # every patient with an 'under' score
    comparison: PairedComparison  # complete pairs only

    @property
    def n_pairs(self) -> int:
        return self.comparison.counts.n_complete

    @property
    def excluded(self) -> list[dict[str, str]]:
        return [
            {"patient": p.patient, "reason": p.exclusion_reason}
            for p in self.patients
            if p.exclusion_reason is not None
        ]

    def test_dict(self) -> dict[str, Any]:
        w = self.comparison.wilcoxon
        return {
            "name": "Wilcoxon signed-rank test",
            "software": WILCOXON_SOFTWARE,
            "method": w.method,
            "alternative": w.alternative,
            "zero_method": w.zero_method,
            "zero_handling": _zero_text(w.zero_method),
            "correction": w.correction,
            "statistic": w.statistic,
            "p_value": w.p_value,
            "n": w.n_ranked,
            "has_ties": w.has_ties,
            "computable": w.computable,
            "reason": w.reason,
        }

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        paired_before = [p.before.value for p in self.patients if p.paired and p.before]
        paired_under = [p.under.value for p in self.patients if p.paired and p.under]
        return {
            "score": self.score,
            "score_versions": list(self.score_versions),
            "window_rule": self.window_rule.label(),
            "total_rule": self.total_rule.label(),
            "n_patients": self.n_patients,
            "n_pairs": self.n_pairs,
            "excluded": self.excluded,
            "patients": [p.to_dict() for p in self.patients],
            "before": self.before.to_dict(),
            "under": self.under.to_dict(),
            "paired_before": describe_continuous(paired_before).to_dict(),
            "paired_under": describe_continuous(paired_under).to_dict(),
            "direction": c.direction,
            "test": self.test_dict(),
            "sign_test": c.sign_test.to_dict(),
            "hodges_lehmann": c.hodges_lehmann.to_dict(),
            "rank_biserial": c.rank_biserial.to_dict(),
            "paired": c.to_dict(),
        }


def _zero_text(zero_method: ZeroMethod) -> str:
    return {
        "wilcox": "zero differences dropped before ranking (Wilcoxon's original method)",
        "pratt": "zero differences ranked, then their ranks dropped (Pratt)",
        "zsplit": "zero differences ranked and their ranks split between signs",
    }[zero_method]


# The rule's inputs of each patient, kept while one set of views is analysed under several rules
# (the sensitivity table): key id(assessments), value (the assessments, the score, the inputs).
ItemCache = dict[int, tuple[object, str, list[Assessment]]]


def _items(v: PatientView, score: str, cache: ItemCache | None) -> list[Assessment]:
    assessments = v.data.assessments
    if cache is not None:
        hit = cache.get(id(assessments))
        if hit is not None and hit[0] is assessments and hit[1] == score:
            return hit[2]
    mine = [a for a in assessments if a.score == score]
    items = [Assessment(id=a.on.isoformat(), on=a.on, total=a.total) for a in mine]
    if cache is not None:
        cache[id(assessments)] = (assessments, score, items)
    return items


def patient_scores(
    v: PatientView,
    score: str,
    rule: WindowRule,
    cutoff: dt.date,
    cache: ItemCache | None = None,
) -> PatientScores:
    course = v.first
    items = _items(v, score, cache)
    # The same date twice would make ids collide; the unique key (patient, date, score) forbids it.
    choice = choose_assessments(course.start, course.course.stop, items, rule, cutoff=cutoff)

    def chosen(a: Assessment | None, why: str) -> ChosenScore | None:
        return None if a is None or a.total is None else ChosenScore(a.on, a.total, why)

    return PatientScores(
        patient=v.patient_id,
        course_no=course.course_no,
        before=chosen(choice.before, choice.before_reason),
        under=chosen(choice.under, choice.under_reason),
        before_reason=choice.before_reason,
        under_reason=choice.under_reason,
        not_chosen=tuple(sorted(choice.not_chosen.items())),
    )


def idda_section(
    views: Sequence[PatientView],
    *,
    score: str,
    rule: WindowRule,
    cutoff: dt.date,
    zero_method: ZeroMethod,
    confidence_level: float,
    cache: ItemCache | None = None,
) -> IddaSection:
    """``cache``: shared by calls on the same views under other rules (the rule's inputs are read
    once per patient)."""
    scores = tuple(patient_scores(v, score, rule, cutoff, cache) for v in views)
    versions = sorted(
        {a.score_version for v in views for a in v.data.assessments if a.score == score}
    )
    shown = ", ".join(versions) if versions else None
    total_rule = reported_total(0.0, definition_name=score, definition_version=shown).info
    return IddaSection(
        score=score,
        score_versions=tuple(versions),
        window_rule=rule.info,
        total_rule=total_rule,
        n_patients=len(views),
        patients=scores,
        before=describe_continuous([p.before.value for p in scores if p.before]),
        under=describe_continuous([p.under.value for p in scores if p.under]),
        comparison=compare_paired(
            [
                (p.before.value, p.under.value)
                for p in scores
                if p.before is not None and p.under is not None
            ],
            zero_method=zero_method,
            confidence_level=confidence_level,
        ),
    )
