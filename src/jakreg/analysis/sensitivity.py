"""Sensitivity of the primary result: the paired IDDA analysis under other window rules and raters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.idda_pairs import IddaSection, ItemCache, idda_section
from jakreg.analysis.prepare import PatientView
from jakreg.rules.windows import UnderMode, WindowRule
from jakreg.stats.paired import ZeroMethod


@dataclass(frozen=True)
class Variant:
    label: str
    rule: WindowRule
    physician_only: bool = False


def variants(primary: WindowRule) -> tuple[Variant, ...]:
    """The primary rule first, then the before window at 30/60/180 days, the 'under' score at a
    3/6/12-month landmark (nearest, ±60 days) instead of the last on therapy, and physician only."""
    out = [Variant("primary: " + primary.name, primary)]
    for days in (30, 60, 90, 180):
        if days == primary.before_days and primary.under_mode == UnderMode.LAST_ON_THERAPY:
            continue
        rule = dataclasses.replace(
            primary, name=f"last-before-{days}d / last-on-therapy", before_days=days,
            under_mode=UnderMode.LAST_ON_THERAPY,
        )  # fmt: skip
        out.append(Variant(f"before window {days} days", rule))
    for months in (3, 6, 12):
        rule = dataclasses.replace(
            primary, name=f"last-before-{primary.before_days}d / nearest {months} months",
            under_mode=UnderMode.LANDMARK, landmark_months=months,
        )  # fmt: skip
        out.append(Variant(f"under: nearest to {months} months (±60 days)", rule))
    out.append(Variant("physician-scored assessments only", primary, physician_only=True))
    return tuple(out)


@dataclass(frozen=True)
class SensitivityRow:
    """One re-run: its rule and the summary of its paired analysis (not the per-patient choices,
    which the primary analysis reports; a registry's seven re-runs would hold them seven times)."""

    label: str
    rule: str
    physician_only: bool
    n_pairs: int
    summary: dict[str, Any]

    @classmethod
    def of(
        cls, label: str, rule: str, physician_only: bool, section: IddaSection
    ) -> SensitivityRow:
        c = section.comparison
        w, hl = c.wilcoxon, c.hodges_lehmann
        summary = {
            "n_patients": section.n_patients,
            "n_pairs": section.n_pairs,
            "paired_median_before": _median([p.before.value for p in section.patients
                                             if p.paired and p.before]),
            "paired_median_under": _median([p.under.value for p in section.patients
                                            if p.paired and p.under]),
            "hodges_lehmann": hl.estimate,
            "hl_ci_lower": hl.ci_lower,
            "hl_ci_upper": hl.ci_upper,
            "wilcoxon_p": w.p_value,
            "wilcoxon_method": w.method,
            "computable": w.computable,
            "reason": w.reason,
        }  # fmt: skip
        return cls(label, rule, physician_only, section.n_pairs, summary)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "window_rule": self.rule,
            "physician_only": self.physician_only,
            **self.summary,
        }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


@dataclass(frozen=True)
class SensitivitySection:
    rows: tuple[SensitivityRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": "paired before vs under, first course, as the primary IDDA analysis",
            "direction": "under − before",
            "rows": [r.to_dict() for r in self.rows],
        }


def physician_only(v: PatientView) -> PatientView:
    kept = tuple(a for a in v.data.assessments if a.assessor_role == "physician")
    return dataclasses.replace(v, data=dataclasses.replace(v.data, assessments=kept))


def sensitivity_section(
    views: Sequence[PatientView],
    *,
    score: str,
    primary: WindowRule,
    cutoff: dt.date,
    zero_method: ZeroMethod,
    confidence_level: float,
    primary_section: IddaSection | None = None,
) -> SensitivitySection:
    """``primary_section``: the primary analysis already computed on the same views with the same
    settings (the report's), used for the primary row instead of computing it again."""
    rows = []
    cache: ItemCache = {}
    for var in variants(primary):
        if primary_section is not None and var.rule == primary and not var.physician_only:
            rows.append(SensitivityRow.of(var.label, var.rule.info.label(), False, primary_section))
            continue
        vs = [physician_only(v) for v in views] if var.physician_only else views
        sec = idda_section(
            vs, score=score, rule=var.rule, cutoff=cutoff, zero_method=zero_method,
            confidence_level=confidence_level, cache=cache,
        )  # fmt: skip
        rows.append(SensitivityRow.of(var.label, var.rule.info.label(), var.physician_only, sec))
    return SensitivitySection(tuple(rows))
