"""Spreadsheet formula injection: text for CSV files people open, and its reversal on our own import.

Excel, LibreOffice and Google Sheets evaluate a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula (``=HYPERLINK(...)`` runs in the reader's spreadsheet). Following OWASP's
CSV-injection guidance, such a text value is written with a leading apostrophe, which spreadsheets show as
text and hide. A value that already starts with apostrophes before such a character gets one more, so
``unquote`` (used by jakreg's CSV readers) gives back exactly the value written: round trips stay lossless.
Plain numbers such as ``-2`` or ``-0.53`` are left alone: they are harmless and must stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_RISKY = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: str) -> str:
    """The text as a CSV cell that no spreadsheet evaluates (an apostrophe before a formula prefix)."""
    if _RISKY.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unquote(value: str) -> str:
    """Undo ``neutralise``: one leading apostrophe before a formula prefix goes."""
    return value[1:] if _QUOTED.match(value) else value


def neutralise_cell(value: Any) -> Any:
    """``neutralise`` for text; other values (numbers, dates, None) unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (comma, LF line ends), quoting every cell that holds a comma, a quote, LF or CR.

    Python's csv writer (before 3.13) leaves a bare CR unquoted when the line end is LF, and the row then
    breaks in two on reading; a text with a CR must survive an export.
    """
    lines = []
    for row in rows:
        cells = ["" if c is None else str(c) for c in row]
        if cells == [""]:
            lines.append('""')
            continue
        lines.append(",".join(_quoted(c) for c in cells))
    return "".join(line + "\n" for line in lines)


def _quoted(cell: str) -> str:
    if any(ch in cell for ch in ',"\n\r'):
        return '"' + cell.replace('"', '""') + '"'
    return cell
