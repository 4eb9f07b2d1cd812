"""Biomarkers over time, paired before/under change per marker, and correlation with IDDA change.

No response threshold is claimed: no validated cut-off exists for these markers in STAT1 GOF
(/work/shared/reference/clinical_rules.md §5); values are shown with the lab's own reference range.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.idda_pairs import IddaSection
from jakreg.analysis.longitudinal import signed_months
from jakreg.analysis.prepare import PatientView
from jakreg.rules.windows import Assessment, WindowRule, choose_assessments
from jakreg.stats import PairedComparison, compare_paired
from jakreg.stats.correlation import SPEARMAN_METHOD, SpearmanResult, spearman
from jakreg.stats.paired import ZeroMethod

NO_THRESHOLD = (
    "No response threshold is claimed: no validated cut-off exists for these biomarkers in STAT1 "
    "GOF; values are shown in the lab's units with the lab's reference range."
)


@dataclass(frozen=True)
class MarkerPoint:
    patient: str
    months: float
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"patient": self.patient, "months": self.months, "value": self.value}


@dataclass(frozen=True)
class MarkerResult:
    marker: str  # marker (detail)
    unit: str
    reference_range: tuple[float | None, float | None] | None  # the most often reported one
    n_reference_ranges: int
    points: tuple[MarkerPoint, ...]
    pairs: tuple[tuple[str, float, float], ...]  # patient, before, under
    excluded: tuple[tuple[str, str], ...]
    paired: PairedComparison
    with_idda_change: SpearmanResult

    def to_dict(self) -> dict[str, Any]:
        w, hl = self.paired.wilcoxon, self.paired.hodges_lehmann
        return {
            "marker": self.marker,
            "unit": self.unit,
            "reference_range": list(self.reference_range) if self.reference_range else None,
            "n_reference_ranges": self.n_reference_ranges,
            "n_patients": len({p.patient for p in self.points}),
            "n_values": len(self.points),
            "n_pairs": len(self.pairs),
            "pairs": [{"patient": p, "before": b, "under": u} for p, b, u in self.pairs],
            "excluded": [{"patient": p, "reason": r} for p, r in self.excluded],
            "median_difference": self.paired.median_difference,
            "wilcoxon": {
                "p_value": w.p_value,
                "method": w.method,
                "statistic": w.statistic,
                "computable": w.computable,
                "reason": w.reason,
            },
            "hodges_lehmann": hl.to_dict(),
            "spearman_with_idda_change": self.with_idda_change.to_dict(),
            "points": [p.to_dict() for p in self.points],
        }


@dataclass(frozen=True)
class BiomarkerSection:
    markers: tuple[MarkerResult, ...]
    window_rule: str
    score: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "no_threshold": NO_THRESHOLD,
            "window_rule": self.window_rule,
            "pairing": (
                f"before/under per marker chosen with the same window rule as the {self.score} "
                "pairs (first course); markers are kept apart by unit"
            ),
            "direction": "under − before",
            "spearman_method": SPEARMAN_METHOD,
            "markers": [m.to_dict() for m in self.markers],
        }


def biomarker_section(
    views: Sequence[PatientView],
    idda: IddaSection,
    *,
    rule: WindowRule,
    cutoff: dt.date,
    zero_method: ZeroMethod,
    confidence_level: float,
) -> BiomarkerSection:
    idda_change = {
        p.patient: p.under.value - p.before.value
        for p in idda.patients
        if p.before is not None and p.under is not None
    }
    grouped: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for v in views:
        for b in v.data.biomarkers:
            if b.on <= cutoff:
                grouped[(b.label, b.unit)][v.patient_id].append(b)
    by_id = {v.patient_id: v for v in views}
    markers = []
    for (label, unit), per_patient in sorted(grouped.items()):
        points, pairs, excluded = [], [], []
        ranges: Counter[tuple[float | None, float | None]] = Counter()
        for pid, values in sorted(per_patient.items()):
            c = by_id[pid].first
            for b in values:
                points.append(MarkerPoint(pid, signed_months(c.start, b.on), b.value))
                if b.ref_low is not None or b.ref_high is not None:
                    ranges[(b.ref_low, b.ref_high)] += 1
            items = [Assessment(id=f"{b.on.isoformat()}#{i}", on=b.on, total=b.value)
                     for i, b in enumerate(values)]  # fmt: skip
            choice = choose_assessments(c.start, c.course.stop, items, rule, cutoff=cutoff)
            before, under = choice.before, choice.under
            if before is not None and under is not None:
                # require_total in the window rule: a chosen value always has its total.
                pairs.append((pid, float(before.total or 0.0), float(under.total or 0.0)))
            else:
                why = []
                if choice.before is None:
                    why.append(f"no 'before' value ({choice.before_reason})")
                if choice.under is None:
                    why.append(f"no 'under' value ({choice.under_reason})")
                excluded.append((pid, "; ".join(why)))
        both = [(u - b, idda_change[p]) for p, b, u in pairs if p in idda_change]
        markers.append(
            MarkerResult(
                marker=label,
                unit=unit,
                reference_range=ranges.most_common(1)[0][0] if ranges else None,
                n_reference_ranges=len(ranges),
                points=tuple(points),
                pairs=tuple(pairs),
                excluded=tuple(excluded),
                paired=compare_paired(
                    [(b, u) for _, b, u in pairs],
                    zero_method=zero_method,
                    confidence_level=confidence_level,
                ),
                with_idda_change=spearman([a for a, _ in both], [b for _, b in both]),
            )
        )
    return BiomarkerSection(tuple(markers), rule.info.label(), idda.score)
