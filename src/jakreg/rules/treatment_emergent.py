"""The treatment-emergent window: when an adverse event counts as an event under a course.

Pure and versioned: the limits live in data/treatment_emergent.yaml (a study convention; the
concept is ICH E9's). ``TreatmentEmergentWindow.contains`` is the one place the window is decided;
analysis.safety.treatment_emergent applies it to a patient's courses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from jakreg.rules.base import RuleError, RuleInfo, RuleStatus


class InvalidWindowError(RuleError):
    """Window limits that cannot describe a window (negative or non-whole days)."""


@dataclass(frozen=True)
class TreatmentEmergentWindow:
    """Onset in [start − days_before_start, min(stop + days_after_stop, cut-off)].

    ``stop`` is the stop seen by the cut-off; a course still running at the cut-off ends there.
    """

    days_before_start: int
    days_after_stop: int
    base: RuleInfo

    def __post_init__(self) -> None:
        for name in ("days_before_start", "days_after_stop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidWindowError(
                    f"{name} must be a whole number of days >= 0, got {value!r}"
                )

    @property
    def info(self) -> RuleInfo:
        return RuleInfo(
            name=self.base.name,
            version=self.base.version,
            source=(
                f"{self.base.source} Used here: {self.days_before_start} days before start, "
                f"{self.days_after_stop} days after stop."
            ),
            status=self.base.status,
        )

    def bounds(
        self, start: dt.date, stop: dt.date | None, cutoff: dt.date
    ) -> tuple[dt.date, dt.date]:
        first = start - dt.timedelta(days=self.days_before_start)
        last = (
            cutoff if stop is None else min(stop + dt.timedelta(days=self.days_after_stop), cutoff)
        )
        return first, last

    def contains(
        self, onset: dt.date, start: dt.date, stop: dt.date | None, cutoff: dt.date
    ) -> bool:
        first, last = self.bounds(start, stop, cutoff)
        return first <= onset <= last

    def with_days(
        self, *, before: int | None = None, after: int | None = None
    ) -> TreatmentEmergentWindow:
        return dataclasses.replace(
            self,
            days_before_start=self.days_before_start if before is None else before,
            days_after_stop=self.days_after_stop if after is None else after,
        )


@cache
def default_window() -> TreatmentEmergentWindow:
    """The shipped window (data/treatment_emergent.yaml)."""
    text = (
        resources.files("jakreg.rules").joinpath("data/treatment_emergent.yaml").read_text("utf-8")
    )
    raw = yaml.safe_load(text)
    info = RuleInfo(
        name=str(raw["name"]),
        version=str(raw["version"]),
        source=" ".join(str(raw["source"]).split()),
        status=RuleStatus(raw["status"]),
    )
    return TreatmentEmergentWindow(
        days_before_start=int(raw["days_before_start"]),
        days_after_stop=int(raw["days_after_stop"]),
        base=info,
    )
