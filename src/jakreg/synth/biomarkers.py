"""Synthetic biomarker series on therapy (pSTAT1, ISG score, CXCL10), so the demo's biomarker
section has trajectories and pairs. Values are invented (the study is labelled synthetic); they
fall towards the lab's range in responders and stay raised otherwise."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

PSTAT1_DETAIL = "after IFN-alpha stimulation, monocytes"


class CourseLike(Protocol):
    start: dt.date
    stop: dt.date | None
    response: str


def _day(start: dt.date, days: float) -> dt.date:
    return start + dt.timedelta(days=round(days))


def biomarker_series(
    rng: random.Random,
    add: Callable[[str, dict[str, Any]], None],
    courses: Sequence[CourseLike],
    start1: dt.date,
    last_fu: dt.date,
) -> None:
    """On-therapy values at about 6 and 12 months (pSTAT1, ISG) and a CXCL10 series (baseline, 3, 6
    and 12 months) for some patients; dates differ from the baseline rows the generator writes."""
    first = courses[0]
    end = min(first.stop or last_fu, last_fu)
    responder = first.response in ("CR", "PR")

    def level(months: float, baseline: float, floor: float) -> float:
        # Responders approach `floor` over ~3 months; others drift little.
        fall = (1 - 0.75 * min(1.0, months / 3)) if responder else (1 - 0.1 * min(1.0, months / 6))
        return max(floor * 0.5, baseline * fall * rng.uniform(0.85, 1.15))

    def on_therapy(months: float) -> dt.date | None:
        day = _day(first.start, months * 30.44 + rng.uniform(-10, 10))
        return day if first.start < day <= end else None

    if rng.random() < 0.5:
        base = rng.uniform(3, 8)
        for months in (6.0, 12.0):
            day = on_therapy(months)
            if day is not None:
                add("biomarkers", {"date": day, "marker": "pstat1", "marker_detail": PSTAT1_DETAIL,
                                   "value": round(level(months, base, 1.5), 1),
                                   "unit": "MFI ratio", "ref_high": 2.0})  # fmt: skip
    if rng.random() < 0.4:
        base = rng.uniform(3, 16)
        for months in (6.0, 12.0):
            day = on_therapy(months)
            if day is not None:
                add("biomarkers", {"date": day, "marker": "isg_score",
                                   "value": round(level(months, base, 1.5), 1),
                                   "unit": "score", "ref_high": 2.5})  # fmt: skip
    if rng.random() < 0.35:
        base = rng.uniform(300, 1500)
        baseline_day = _day(start1, -rng.uniform(3, 25))
        add("biomarkers", {"date": baseline_day, "marker": "cxcl10", "value": round(base),
                           "unit": "pg/mL", "ref_low": 50.0, "ref_high": 250.0})  # fmt: skip
        for months in (3.0, 6.0, 12.0):
            day = on_therapy(months)
            if day is not None:
                add("biomarkers", {"date": day, "marker": "cxcl10",
                                   "value": round(level(months, base, 150.0)),
                                   "unit": "pg/mL", "ref_low": 50.0, "ref_high": 250.0})  # fmt: skip
