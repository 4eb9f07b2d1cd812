"""Which assessment counts as 'before' and which as 'under' a treatment course, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

from jakreg.rules.base import (
    InvalidValueError,
    RuleError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
)
from jakreg.rules.follow_up import add_months


class InvalidCourseError(RuleError):
    """A course whose stop is before its start."""


class UnderMode(StrEnum):
    LAST_ON_THERAPY = "last_on_therapy"
    LANDMARK = "landmark"


@dataclass(frozen=True)
class Assessment:
    """A dated assessment with its total (None when no total was recorded)."""

    id: str
    on: date
    total: float | None


@dataclass(frozen=True)
class WindowRule:
    """How 'before' and 'under' are chosen. Defaults are jakreg's, documented in docs/rules.md.

    before: the last assessment from `before_days` before start up to the start day itself (an
    assessment on the start day is taken as before the first dose). under: the last assessment
    after start up to stop + `after_stop_days` (or the data cut-off), or, in landmark mode, the one
    nearest start + `landmark_months` within `landmark_tolerance_days` (tie: the earlier).
    """

    name: str = "last-before-90d / last-on-therapy"
    before_days: int = 90
    start_day_counts_as_before: bool = True
    under_mode: UnderMode = UnderMode.LAST_ON_THERAPY
    landmark_months: int = 6
    landmark_tolerance_days: int = 60
    after_stop_days: int = 0
    require_total: bool = True

    @cached_property  # the rule is frozen; every patient's choice carries it
    def info(self) -> RuleInfo:
        if self.under_mode is UnderMode.LANDMARK:
            under = (
                f"under = nearest to {self.landmark_months} months on therapy "
                f"(±{self.landmark_tolerance_days} days)"
            )
        else:
            under = f"under = last on therapy (to stop + {self.after_stop_days} days)"
        start = f"start day counts as {'before' if self.start_day_counts_as_before else 'under'}"
        return RuleInfo(
            name=f"Assessment windows: {self.name}",
            version="1",
            source=(
                f"jakreg convention (clinical_rules.md §1 examples): before = last within "
                f"{self.before_days} days before start; {start}; {under}"
            ),
            status=RuleStatus.CONFIGURABLE,
        )


LANDMARK_6_MONTHS = WindowRule(
    name="last-before-90d / nearest-6-months", under_mode=UnderMode.LANDMARK
)
LANDMARK_12_MONTHS = WindowRule(
    name="last-before-90d / nearest-12-months", under_mode=UnderMode.LANDMARK, landmark_months=12
)


@dataclass(frozen=True)
class WindowChoice(RuleResultMixin):
    """The chosen assessments (or why there is none) and why every other one was not chosen."""

    before: Assessment | None
    under: Assessment | None
    before_reason: str
    under_reason: str
    not_chosen: Mapping[str, str]
    info: RuleInfo
    inputs: Mapping[str, object]


SAME_DAY_RULE = (
    "two assessments on the same date in one window: the one whose id sorts last is chosen, "
    "independent of the order they are listed in (in the database a patient has at most one "
    "assessment of a score per date, so this only matters for rule callers passing their own)"
)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def choose_assessments(
    start: date,
    stop: date | None,
    assessments: Sequence[Assessment],
    rule: WindowRule | None = None,
    *,
    cutoff: date | None = None,
) -> WindowChoice:
    """Choose 'before' and 'under' for one course and explain every assessment not chosen."""
    rule = rule or WindowRule()
    if min(rule.before_days, rule.landmark_tolerance_days, rule.after_stop_days) < 0:
        raise InvalidValueError("window lengths cannot be negative")
    if rule.landmark_months < 0:
        raise InvalidValueError("the landmark cannot be negative")
    if stop is not None and stop < start:
        raise InvalidCourseError(f"stop {stop.isoformat()} is before start {start.isoformat()}")
    ids = [a.id for a in assessments]
    if len(set(ids)) != len(ids):
        raise InvalidValueError("assessment ids must be unique within a patient")
    reasons: dict[str, str] = {}
    before_pool: list[Assessment] = []
    under_pool: list[Assessment] = []
    window_open = start - timedelta(days=rule.before_days)
    last_on = None if stop is None else stop + timedelta(days=rule.after_stop_days)
    for a in assessments:
        if rule.require_total and a.total is None:
            reasons[a.id] = "no total recorded"
        elif cutoff is not None and a.on > cutoff:
            reasons[a.id] = f"after the data cut-off ({cutoff.isoformat()})"
        elif a.on < start or (a.on == start and rule.start_day_counts_as_before):
            if a.on < window_open:
                gap = (start - a.on).days
                reasons[a.id] = (
                    f"outside the {rule.before_days}-day window before start ({_days(gap)} before)"
                )
            else:
                before_pool.append(a)
        elif stop is not None and last_on is not None and a.on > last_on:
            reasons[a.id] = f"after the course stopped ({_days((a.on - stop).days)} after stop)"
        else:
            under_pool.append(a)
    before = _latest(before_pool, "before start", reasons)
    before_reason = (
        f"last assessment within {rule.before_days} days before start"
        if before
        else f"no assessment with a total within {rule.before_days} days before start"
    )
    if rule.under_mode is UnderMode.LANDMARK:
        under, under_reason = _landmark(start, under_pool, rule, reasons)
    else:
        under = _latest(under_pool, "on therapy", reasons)
        under_reason = "last assessment on therapy" if under else "no assessment on therapy"
    return WindowChoice(
        before=before,
        under=under,
        before_reason=before_reason,
        under_reason=under_reason,
        not_chosen=reasons,
        info=rule.info,
        inputs=frozen_inputs(start=start, stop=stop, cutoff=cutoff, assessments=tuple(assessments)),
    )


def _latest(pool: list[Assessment], where: str, reasons: dict[str, str]) -> Assessment | None:
    if not pool:
        return None
    # Same-day assessments: the one whose id sorts last, whatever order they are listed in
    # (SAME_DAY_RULE); the list order of a query or a spreadsheet carries no meaning.
    chosen = max(pool, key=lambda a: (a.on, a.id))
    for a in pool:
        if a is not chosen:
            reasons[a.id] = (
                f"superseded by a later assessment {where} ({chosen.id} on {chosen.on.isoformat()})"
            )
    return chosen


def _landmark(
    start: date, pool: list[Assessment], rule: WindowRule, reasons: dict[str, str]
) -> tuple[Assessment | None, str]:
    mark = add_months(start, rule.landmark_months)  # as relativedelta(months=...), by arithmetic
    tol = rule.landmark_tolerance_days
    near = [a for a in pool if abs((a.on - mark).days) <= tol]
    for a in pool:
        if a not in near:
            gap = abs((a.on - mark).days)
            reasons[a.id] = (
                f"more than {tol} days from the {rule.landmark_months}-month landmark "
                f"({mark.isoformat()}; {_days(gap)} away)"
            )
    if not near:
        return None, (
            f"no assessment on therapy within {tol} days of the {rule.landmark_months}-month "
            f"landmark ({mark.isoformat()})"
        )
    # Equally near: the earlier date; the same date: the id that sorts last (SAME_DAY_RULE).
    earliest = min((abs((a.on - mark).days), a.on) for a in near)
    chosen = max(
        (a for a in near if (abs((a.on - mark).days), a.on) == earliest), key=lambda a: a.id
    )
    for a in near:
        if a is not chosen:
            reasons[a.id] = (
                f"further from the {rule.landmark_months}-month landmark than {chosen.id} "
                f"({chosen.on.isoformat()})"
            )
    return chosen, f"nearest to the {rule.landmark_months}-month landmark ({mark.isoformat()})"
