"""Time on drug with its censoring flag, calendar months, and age from a birth year-month."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from jakreg.rules.base import RuleError, RuleInfo, RuleResultMixin, RuleStatus, frozen_inputs

TIME_ON_DRUG = RuleInfo(
    name="Time on drug",
    version="1",
    source=(
        "jakreg convention (docs/rules.md, 'Follow-up'): start to stop, else to the last "
        "follow-up or data cut-off; calendar months with a fractional last month"
    ),
    status=RuleStatus.CONFIGURABLE,
)
AGE = RuleInfo(
    name="Age from birth year-month",
    version="1",
    source="jakreg convention (docs/rules.md, 'Follow-up'): birthday taken as the 15th",
    status=RuleStatus.CONFIGURABLE,
)

# Only year and month of birth are stored (data minimisation); the 15th halves the worst error.
BIRTH_DAY_OF_MONTH = 15


class InvalidDatesError(RuleError):
    """Dates that cannot describe a follow-up (an end before the start, a malformed year-month)."""


def months_between(start: date, end: date) -> float:
    """Calendar months from start to end: whole months, then the rest as a fraction of the next.

    2019-03-15 → 2020-09-15 is 18.0; 2019-01-15 → 2019-02-01 is 17/31 (the month that begins on
    2019-01-15 has 31 days).
    """
    if end < start:
        raise InvalidDatesError(f"{end.isoformat()} is before {start.isoformat()}")
    # dateutil's relativedelta(end, start) months, by arithmetic (it is called per score and per
    # course: 30x faster); tests/rules/test_follow_up.py checks the two agree on random dates
    whole = (end.year - start.year) * 12 + end.month - start.month
    anchor = add_months(start, whole)
    if anchor > end:
        whole -= 1
        anchor = add_months(start, whole)
    nxt = add_months(start, whole + 1)
    return whole + (end - anchor).days / (nxt - anchor).days


def add_months(d: date, months: int) -> date:
    """``d`` plus whole calendar months, the day clamped to the month's last (as relativedelta)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = d.day
    if day > 28:  # every month has 28 days; only later days may need clamping
        day = min(day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True)
class TimeOnDrug(RuleResultMixin):
    """Days and months on drug; `event` is True when the drug was stopped by the cut-off."""

    start: date
    end: date
    end_reason: str
    event: bool
    days: int
    months: float
    info: RuleInfo
    inputs: Mapping[str, object]

    @property
    def censored(self) -> bool:
        return not self.event


def time_on_drug(
    start: date,
    *,
    stop: date | None = None,
    last_follow_up: date | None = None,
    cutoff: date,
) -> TimeOnDrug:
    """From start to stop (event) or, still on drug, to the last follow-up or cut-off (censored).

    A stop on the cut-off day counts as an event; a stop after the cut-off is not seen, so the
    course is censored at the cut-off.
    """
    if cutoff < start:
        raise InvalidDatesError(
            f"data cut-off {cutoff.isoformat()} is before start {start.isoformat()}"
        )
    if stop is not None and stop < start:
        raise InvalidDatesError(f"stop {stop.isoformat()} is before start {start.isoformat()}")
    if last_follow_up is not None and last_follow_up < start:
        raise InvalidDatesError(
            f"last follow-up {last_follow_up.isoformat()} is before start {start.isoformat()}"
        )
    if stop is not None and stop <= cutoff:
        end, reason, event = stop, "stopped", True
    elif last_follow_up is not None and last_follow_up < cutoff:
        end, reason, event = last_follow_up, "last follow-up (still on drug)", False
    else:
        end, reason, event = cutoff, "data cut-off (still on drug)", False
    return TimeOnDrug(
        start=start,
        end=end,
        end_reason=reason,
        event=event,
        days=(end - start).days,
        months=months_between(start, end),
        info=TIME_ON_DRUG,
        inputs=frozen_inputs(start=start, stop=stop, last_follow_up=last_follow_up, cutoff=cutoff),
    )


_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def birth_date_assumed(birth_year_month: str | tuple[int, int]) -> date:
    """The date jakreg assumes for a birth year-month: the 15th of that month."""
    if isinstance(birth_year_month, str):
        m = _YEAR_MONTH.match(birth_year_month.strip())
        if not m:
            raise InvalidDatesError(f"birth {birth_year_month!r} is not a year-month like 2011-01")
        year, month = int(m.group(1)), int(m.group(2))
    else:
        year, month = birth_year_month
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise InvalidDatesError(f"birth {birth_year_month!r} is not a valid year-month")
    _ = calendar.monthrange(year, month)  # every month has a 15th; this validates the year
    return date(year, month, BIRTH_DAY_OF_MONTH)


@dataclass(frozen=True)
class Age(RuleResultMixin):
    years: float
    birth_assumed: date
    on: date
    info: RuleInfo
    inputs: Mapping[str, object]


def age_years(birth_year_month: str | tuple[int, int], on: date) -> Age:
    """Age in years (calendar months / 12): birth 2011-01 → 2019-07-15 is exactly 8.5."""
    born = birth_date_assumed(birth_year_month)
    if on < born:
        raise InvalidDatesError(f"{on.isoformat()} is before the assumed birth {born.isoformat()}")
    return Age(
        years=months_between(born, on) / 12,
        birth_assumed=born,
        on=on,
        info=AGE,
        inputs=frozen_inputs(birth_year_month=birth_year_month, on=on),
    )
