"""Expected visits of one course under a protocol (pure: dates in, visits out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jakreg.protocol.schema import Anchor, Protocol

HORIZON_DAYS = 90  # repeating visits are listed up to this far past the as-of date


@dataclass(frozen=True)
class PlannedVisit:
    visit: str  # the visit id; repeats get a number: every_6_months_1, ...
    label: str
    planned: dt.date
    window_start: dt.date
    window_end: dt.date
    items: tuple[str, ...]
    applicable: bool  # False: after a stop, death, HSCT or loss to follow-up
    reason: str  # why not applicable ("" when applicable)


def _ending(planned: dt.date, ends: list[tuple[dt.date | None, str]]) -> str:
    for date, why in ends:
        if date is not None and planned > date:
            return f"{why} {date.isoformat()}"
    return ""


def expected_visits(
    protocol: Protocol,
    *,
    start: dt.date,
    stop: dt.date | None,
    as_of: dt.date,
    death: dt.date | None = None,
    hsct: dt.date | None = None,
    lost: dt.date | None = None,
) -> list[PlannedVisit]:
    """Every visit a course is expected to have under ``protocol``, in planned order.

    Visits planned after the stop (on-treatment visits), death, HSCT or loss to follow-up are listed as
    not applicable with the reason; repeating visits run while on drug, up to ``as_of`` + 90 days."""
    life_ends = [(death, "death on"), (hsct, "HSCT on"), (lost, "lost to follow-up on")]
    on_drug_ends = [(stop, "course stopped on"), *life_ends]
    stopped = stop is not None and stop <= as_of
    out: list[PlannedVisit] = []
    for v in protocol.visits:
        if v.anchor is Anchor.stop:
            if not stopped or stop is None:
                continue
            planned = stop + dt.timedelta(days=v.day)
            why = _ending(planned, life_ends)
            out.append(PlannedVisit(v.id, v.label, planned, planned - dt.timedelta(days=v.before),
                                    planned + dt.timedelta(days=v.after), tuple(v.items),
                                    not why, why))  # fmt: skip
            continue
        days = [v.day]
        if v.every_days is not None:
            limit = min(d for d in (stop, death, hsct, lost, as_of + dt.timedelta(HORIZON_DAYS))
                        if d is not None)  # fmt: skip
            days = list(range(v.day, (limit - start).days + 1, v.every_days)) or []
        for n, day in enumerate(days, start=1):
            planned = start + dt.timedelta(days=day)
            why = _ending(planned, on_drug_ends)
            name = f"{v.id}_{n}" if v.every_days is not None else v.id
            label = f"{v.label} ({n})" if v.every_days is not None else v.label
            out.append(PlannedVisit(name, label, planned, planned - dt.timedelta(days=v.before),
                                    planned + dt.timedelta(days=v.after), tuple(v.items),
                                    not why, why))  # fmt: skip
    out.sort(key=lambda p: (p.planned, p.visit))
    return out
