"""REDCap data access group unique names: the name REDCap derives from a group's label, and back.

REDCap (``Project::getUniqueGroupNames``, checked against REDCap 15.7.6) builds a group's unique name from
its label: drop every character outside ``[0-9A-Za-z_ ]``, turn spaces into ``_``, keep the first 18
characters, lower-case, drop one trailing ``_``; a label with nothing left becomes the first 10 hex digits
of its MD5. Groups are taken in order of their trimmed label; a name already given to an earlier group
gets ``b``, ``c``, … ``z`` appended (the second, third … group with it), then ``ba``, ``bb`` …, and ``??``
after 701. A records import naming a group REDCap does not know is refused whole, so jakreg writes this
name. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable

MAX_LENGTH = 18
_NOT_ALLOWED = re.compile(r"[^0-9a-zA-Z_ ]")


def dag_base_name(label: str) -> str:
    """The unique name REDCap derives from one group label, before de-duplication."""
    name = _NOT_ALLOWED.sub("", html.unescape(label).strip())
    name = name.replace(" ", "_")[:MAX_LENGTH].lower()
    if name.endswith("_"):
        name = name[:-1]
    if not name:
        name = hashlib.md5(label.encode("utf-8")).hexdigest()[:10]  # noqa: S324 - REDCap's rule
    return name


def _suffix(count: int) -> str:
    if count == 0:
        return ""
    if count < 26:
        return chr(97 + count)
    if count < 702:
        return chr(96 + count // 26) + chr(97 + count % 26)
    return "??"


def dag_unique_names(labels: Iterable[str]) -> dict[str, str]:
    """label -> unique name for every group of a project, with REDCap's de-duplication.

    REDCap orders the groups by trimmed label in the database (case-insensitive collation); the
    same order is used here, so the names match the project's when its groups are exactly ``labels``.
    """
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for label in sorted(dict.fromkeys(labels), key=lambda s: (s.strip().casefold(), s)):
        base = dag_base_name(label)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out[label] = base + _suffix(count)
    return out


def centre_of_group(value: str, centres: Iterable[str]) -> str | None:
    """The centre a records export's ``redcap_data_access_group`` value names: the centre code itself
    (any case) or its REDCap unique name; None when it names none of ``centres``."""
    known = list(centres)
    text = value.strip()
    by_code = {c.casefold(): c for c in known}
    if text.casefold() in by_code:
        return by_code[text.casefold()]
    by_unique = {unique: label for label, unique in dag_unique_names(known).items()}
    return by_unique.get(text.lower())
