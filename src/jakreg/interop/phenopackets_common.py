"""What the phenopacket export and import share: ages as ISO 8601 durations, dates, jakreg extensions.

A jakreg extension is a ``metaData.externalReferences`` entry with id ``jakreg:<sheet>``: its
``reference`` is the JSON path of the element it completes (blank for a record with no native element)
and its ``description`` the record's other columns as a JSON object. See docs/interop.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

EXTENSION_PREFIX = "jakreg:"
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def years_to_duration(years: float) -> str:
    whole = int(years)
    months = round((years - whole) * 12)
    if months == 12:
        whole, months = whole + 1, 0
    text = "P" + (f"{whole}Y" if whole else "") + (f"{months}M" if months else "")
    return text if text != "P" else "P0Y"


def duration_to_years(text: str) -> float | None:
    m = _DURATION.match(text.strip())
    if m is None or text.strip() == "P":
        return None
    y, mo, w, d = (int(g) if g else 0 for g in m.groups())
    return round(y + mo / 12 + (w * 7 + d) / 365.25, 4)


def months_between(birth_year_month: str, day: dt.date) -> int:
    year, month = (int(x) for x in birth_year_month.split("-"))
    return (day.year - year) * 12 + day.month - month


def timestamp_text(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def plain(value: Any) -> Any:
    """A cell value as JSON (dates as YYYY-MM-DD, enums as their text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    value = getattr(value, "value", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def extension_text(values: dict[str, Any]) -> str:
    return json.dumps(
        {k: plain(v) for k, v in values.items()}, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False,
    )  # fmt: skip
