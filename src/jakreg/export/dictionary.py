"""The data dictionary of the study workbook, derived from the row types so it cannot drift."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from jakreg.model.introspect import allowed_values, base_type
from jakreg.model.sheets import SHEETS
from jakreg.rules import units


@dataclass(frozen=True)
class ColumnInfo:
    sheet: str
    column: str
    type: str
    unit: str
    allowed: list[str]
    required: bool
    default: str
    description: str


def _type_label(field_name: str, base: Any) -> str:
    if field_name == "birth_year_month":
        return "year-month (YYYY-MM)"
    if base is dt.date:
        return "date (YYYY-MM-DD)"
    if base is int:
        return "whole number"
    if base is float:
        return "number"
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "choice"
    return "text"


def _allowed(sheet: str, column: str, annotation: Any) -> list[str]:
    if (sheet, column) == ("labs", "analyte"):
        return sorted(units.ANALYTES)
    return allowed_values(annotation) or []


def data_dictionary() -> list[ColumnInfo]:
    out: list[ColumnInfo] = []
    for spec in SHEETS:
        for name, info in spec.row.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            unit = str(extra.get("unit", ""))
            if (spec.name, name) == ("labs", "unit"):
                unit = "as reported; see the units sheet of docs/workbook.md"
            default = info.default
            shown_default = (
                ""
                if info.is_required() or default is None
                else str(getattr(default, "value", default))
            )
            out.append(
                ColumnInfo(
                    sheet=spec.name,
                    column=name,
                    type=_type_label(name, base_type(info.annotation)),
                    unit=unit,
                    allowed=_allowed(spec.name, name, info.annotation),
                    required=info.is_required(),
                    default=shown_default,
                    description=info.description or "",
                )
            )
    return out


def render_markdown() -> str:
    """docs/data-dictionary.md: every sheet and column (generated; a test keeps it in sync)."""
    from jakreg.model.sheets import SHEETS_BY_NAME

    lines = [
        "# Data dictionary",
        "",
        "Generated from the row types by `make docs` (`python -m jakreg.export.dictionary`); the "
        "same table is the `data_dictionary` sheet of `jakreg template`.",
        "",
    ]
    current = ""
    for c in data_dictionary():
        if c.sheet != current:
            current = c.sheet
            spec = SHEETS_BY_NAME[c.sheet]
            lines += [
                f"## `{c.sheet}`",
                "",
                spec.description + f" Key: {', '.join(spec.key)}.",
                "",
                "| column | type | unit | allowed values | required | default | description |",
                "|---|---|---|---|---|---|---|",
            ]
        allowed = ", ".join(c.allowed)
        lines.append(
            f"| `{c.column}` | {c.type} | {c.unit} | {allowed} | {'yes' if c.required else 'no'} "
            f"| {c.default} | {c.description} |"
        )
    lines.append("")
    return "\n".join(_blank_after_tables(lines))


def _blank_after_tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line.startswith("## ") and out and out[-1].startswith("|"):
            out.append("")
        out.append(line)
    return out


if __name__ == "__main__":
    print(render_markdown(), end="")
