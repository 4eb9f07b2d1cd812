"""What a data-entry form shows for each field of a row class: input kind, choices, help, value, errors.

Built from the row classes' own fields (jakreg.model.rows), so a new column appears in the forms without
touching a template. Pure: tested as data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jakreg.ingest.problems import Problem
from jakreg.model.introspect import allowed_values, base_type
from jakreg.model.sheets import SheetSpec
from jakreg.web.entry import Checked, plain


@dataclass(frozen=True)
class FieldView:
    name: str
    kind: str  # select | date | number | text | textarea | hidden
    required: bool
    help: str
    unit: str | None
    value: str
    options: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    readonly: bool = False


LONG_TEXT = frozenset(
    {"indication", "prior_therapies", "concomitant_therapies", "stop_detail", "term"}
)


def shown(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _kind(name: str, annotation: Any) -> str:
    base = base_type(annotation)
    if allowed_values(annotation) is not None:
        return "select"
    if base is dt.date:
        return "date"
    if base in (int, float):
        return "number"
    return "textarea" if name in LONG_TEXT else "text"


def field_views(
    spec: SheetSpec,
    values: dict[str, Any],
    *,
    checked: Checked | None = None,
    fixed: frozenset[str] = frozenset(),
    hidden: frozenset[str] = frozenset(),
) -> list[FieldView]:
    """One view per column of the sheet, in the sheet's order, with this form's problems attached."""
    columns = list(spec.columns)
    problems = checked.by_field(columns) if checked is not None else {}
    views: list[FieldView] = []
    for name, info in spec.row.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unit = extra.get("unit")
        kind = "hidden" if name in hidden else _kind(name, info.annotation)
        views.append(
            FieldView(
                name=name,
                kind=kind,
                required=info.is_required(),
                help=info.description or "",
                unit=str(unit) if unit is not None else None,
                value=shown(values.get(name)),
                options=allowed_values(info.annotation) or [],
                problems=problems.get(name, []),
                readonly=name in fixed,
            )
        )
    return views


def form_values(form: dict[str, Any], spec: SheetSpec) -> dict[str, Any]:
    """The posted text of the sheet's columns; blank fields are left out, as blank cells are."""
    out: dict[str, Any] = {}
    for name in spec.columns:
        value = form.get(name)
        if isinstance(value, str) and value.strip() != "":
            out[name] = value
    return out
