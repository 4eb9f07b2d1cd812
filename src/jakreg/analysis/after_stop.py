"""What followed each stop of a JAK-inhibitor course, by stop reason."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.drug_survival import NOT_STATED
from jakreg.analysis.prepare import PatientView
from jakreg.rules.follow_up import months_between

RESTART = "restarted the same drug"
SWITCH = "switched to another JAK inhibitor"
HSCT = "HSCT"
DIED = "died (no later course or HSCT recorded)"
ALIVE_OFF = "alive, off JAK inhibitor at last follow-up"
UNKNOWN = "not known (no later course, HSCT or vital status)"
OUTCOMES = (RESTART, SWITCH, HSCT, DIED, ALIVE_OFF, UNKNOWN)


@dataclass(frozen=True)
class AfterStop:
    patient: str
    course_no: int
    drug: str
    stop: dt.date
    reason: str
    outcome: str
    on: dt.date | None  # date of what followed (next start, HSCT, last follow-up)
    months_after_stop: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "course_no": self.course_no,
            "drug": self.drug,
            "stop": self.stop.isoformat(),
            "reason": self.reason,
            "outcome": self.outcome,
            "date": self.on.isoformat() if self.on else None,
            "months_after_stop": self.months_after_stop,
        }


@dataclass(frozen=True)
class AfterStopSection:
    stops: tuple[AfterStop, ...]

    def by_reason(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for s in self.stops:
            out[s.reason][s.outcome] += 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": (
                "every course stopped by the cut-off; what came first after the stop: a later "
                "course (same drug: restart; other drug: switch) or HSCT; else vital status "
                "(deceased) or the last follow-up (alive, off drug)"
            ),
            "outcomes": list(OUTCOMES),
            "n_stops": len(self.stops),
            "by_reason": {
                reason: {o: counts.get(o, 0) for o in OUTCOMES}
                for reason, counts in self.by_reason().items()
            },
            "stops": [s.to_dict() for s in self.stops],
        }


def after_stop(v: PatientView, i: int, cutoff: dt.date) -> AfterStop | None:
    c = v.courses[i]
    if c.stop is None:
        return None
    later = [n for n in v.courses[i + 1 :] if n.start >= c.stop]
    hsct = [d for d in v.data.hsct if c.stop <= d <= cutoff]
    candidates: list[tuple[dt.date, str]] = []
    if later:
        nxt = min(later, key=lambda n: n.start)
        candidates.append((nxt.start, RESTART if nxt.drug == c.drug else SWITCH))
    if hsct:
        candidates.append((min(hsct), HSCT))
    on: dt.date | None
    if candidates:
        on, outcome = min(candidates)  # HSCT sorts before a course started the same day
    elif v.data.vital_status == "deceased":
        on, outcome = None, DIED
    elif v.data.vital_status == "alive" and v.data.last_follow_up is not None:
        on, outcome = min(v.data.last_follow_up, cutoff), ALIVE_OFF
    else:
        on, outcome = None, UNKNOWN
    months = months_between(c.stop, on) if on is not None and on >= c.stop else None
    return AfterStop(v.patient_id, c.course_no, c.drug, c.stop, c.stop_reason or NOT_STATED,
                     outcome, on, months)  # fmt: skip


def after_stop_section(views: Sequence[PatientView], cutoff: dt.date) -> AfterStopSection:
    stops = (after_stop(v, i, cutoff) for v in views for i in range(len(v.courses)))
    return AfterStopSection(tuple(s for s in stops if s is not None))
