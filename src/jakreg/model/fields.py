"""Reusable field types for workbook rows: dates, year-months, pseudonyms, free text without identifiers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

PSEUDONYM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


def problem(message: str, fix: str, column: str | None = None) -> PydanticCustomError:
    """A validation error whose message and suggested fix are jakreg's own words.

    ``column`` names the cell to blame when the rule spans several columns of the row.
    """
    ctx = {"fix": fix} if column is None else {"fix": fix, "column": column}
    return PydanticCustomError("jakreg", message, ctx)


def _year_month(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        # Excel turns a typed "2011-01" into 2011-01-01; any other day is a full birth date.
        if value.day != 1:
            raise problem(
                "a full birth date is not stored in jakreg",
                "write the year and month only, as YYYY-MM (e.g. 2011-01)",
            )
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})", text)
    if m is None:
        if re.fullmatch(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", text):
            raise problem(
                "a full birth date is not stored in jakreg",
                "write the year and month only, as YYYY-MM (e.g. 2011-01)",
            )
        raise problem("not a year and month", "write it as YYYY-MM (e.g. 2011-01)")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or year < 1900:
        raise problem("not a year and month", "write it as YYYY-MM (e.g. 2011-01)")
    return f"{year:04d}-{month:02d}"


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise problem("a date with a time of day", "write the date only, as YYYY-MM-DD")
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise problem("not a calendar date", "write a real date as YYYY-MM-DD") from None
        raise problem("not a date", "write the date as YYYY-MM-DD (e.g. 2021-03-15)")
    if isinstance(value, dt.date):
        return value
    raise problem("not a date", "write the date as YYYY-MM-DD (e.g. 2021-03-15)")


_IDENTIFIER_PATTERNS = [
    (re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"), "a full date"),
    (re.compile(r"\d{6,}"), "a long number (a record or phone number?)"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "an e-mail address"),
]


def _free_text(value: str) -> str:
    text = value.strip()
    for pattern, what in _IDENTIFIER_PATTERNS:
        if pattern.search(text):
            raise problem(
                f"free text looks like it holds an identifier ({what})",
                "remove dates, record numbers and contact details; use the dated columns instead",
            )
    return text


YearMonth = Annotated[str, BeforeValidator(_year_month), Field(max_length=7)]
Date = Annotated[dt.date, BeforeValidator(_date)]
FreeText = Annotated[str, Field(max_length=500), AfterValidator(_free_text)]
Pseudonym = Annotated[str, Field(pattern=PSEUDONYM_PATTERN)]
