"""Columnar validation: a batch of raw rows checked column by column with pyarrow.compute.

The vector path is conservative. It accepts a cell only in the plain forms it can decide exactly (ISO dates,
decimal numbers, vocabulary words in ASCII, text that passes length, pattern and control-character checks)
and gives it the very value pydantic would give; any other cell (a typed xlsx cell, '1_0', a time of day,
a value that fails) marks its row as undecided, and undecided rows go through the row model as before, so
every error message is the row model's own. tests/ingest/test_columnar.py compares both paths cell by cell.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import annotated_types as at
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from pydantic import AfterValidator, BeforeValidator
from pydantic.fields import FieldInfo

from jakreg.model import fields as field_types
from jakreg.model import rows as row_types
from jakreg.model.rows import Row

# A cell that is not text (a number or date from a spreadsheet): no vector check accepts it.
UNDECIDED_CELL = "\x00"

_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_INT = r"^[0-9]{1,9}$"
_FLOAT = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_YEAR_MONTH = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"
# the Row base's validators for every field, and what the vector path does in their place
_KNOWN_STAR_VALIDATORS = frozenset({"_no_control_characters", "_not_in_future"})


COLUMN_BATCH = 2048  # rows checked together
BLANK: Any = object()  # a blank line: neither a row nor a problem


class Unsupported(Exception):
    """A field the vector path does not understand: its sheet is validated row by row."""


@dataclass
class ColumnPlan:
    """How one field's cells are decided: its kind, its constraints and what an empty cell gives."""

    name: str
    kind: str  # str, enum, int, float, date, year_month
    required: bool
    default: Any = None
    max_length: int | None = None
    pattern: str | None = None
    bounds: list[tuple[str, float]] = field(default_factory=list)  # (ge/gt/le/lt, limit)
    members: dict[str, enum.Enum] = field(default_factory=dict)  # lower-case value -> member
    text_checks: list[Callable[[Any], Any]] = field(default_factory=list)  # exact Python validators
    future_ok: bool = False


@dataclass
class SheetPlan:
    row: type[Row]
    columns: list[ColumnPlan]
    model_checks: list[Callable[[Any], Any]]


def plan_for(row: type[Row]) -> SheetPlan | None:
    """The vector plan of a row model, or None when some field or validator is beyond it."""
    try:
        return _plan(row)
    except Unsupported:
        return None


def _plan(row: type[Row]) -> SheetPlan:
    decorators = row.__pydantic_decorators__
    if decorators.validators or decorators.root_validators:
        raise Unsupported("old-style validators")
    per_field: dict[str, list[Callable[[Any], Any]]] = {}
    for dec in decorators.field_validators.values():
        fields = dec.info.fields
        if fields == ("*",):
            if dec.cls_var_name not in _KNOWN_STAR_VALIDATORS:
                raise Unsupported(dec.cls_var_name)
            continue
        if dec.info.mode != "after" or len(inspect.signature(dec.func).parameters) != 1:
            raise Unsupported(dec.cls_var_name)
        for name in fields:
            per_field.setdefault(name, []).append(dec.func)
    model_checks = []
    for check in decorators.model_validators.values():
        if check.info.mode != "after":
            raise Unsupported(check.cls_var_name)
        model_checks.append(check.func)
    columns = [
        _column(name, info, per_field.get(name, [])) for name, info in row.model_fields.items()
    ]
    return SheetPlan(row, columns, model_checks)


def _column(name: str, info: FieldInfo, checks: list[Callable[[Any], Any]]) -> ColumnPlan:
    annotation = info.annotation
    metadata = list(info.metadata)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise Unsupported(name)
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    if info.is_required():
        plan = ColumnPlan(name, "", required=True)
    else:
        plan = ColumnPlan(name, "", required=False, default=info.get_default())
    plan.text_checks = list(checks)
    plan.future_ok = name in row_types._FUTURE_ALLOWED
    for item in metadata:
        if isinstance(item, BeforeValidator) and item.func is field_types._date:
            plan.kind = "date"
        elif isinstance(item, BeforeValidator) and item.func is field_types._year_month:
            plan.kind = "year_month"
        elif isinstance(item, AfterValidator) and item.func is field_types._free_text:
            plan.text_checks.append(field_types._free_text)
        elif isinstance(item, at.MaxLen):
            plan.max_length = item.max_length
        elif isinstance(item, at.Ge | at.Gt | at.Le | at.Lt):
            kind = type(item).__name__.lower()
            plan.bounds.append((kind, float(getattr(item, kind))))
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) == {"pattern"}:
            plan.pattern = item.pattern
        else:
            raise Unsupported(f"{name}: {item!r}")
    if plan.kind in {"date", "year_month"}:
        return plan
    if annotation is str:
        plan.kind = "str"
    elif annotation is int:
        plan.kind = "int"
    elif annotation is float:
        plan.kind = "float"
    elif isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
        plan.kind = "enum"
        plan.members = {str(m.value).lower(): m for m in annotation}
    else:
        raise Unsupported(f"{name}: {annotation!r}")
    if plan.kind in {"int", "float", "enum"} and (plan.pattern or plan.max_length):
        raise Unsupported(name)
    if plan.kind in {"str", "enum"} and plan.bounds:
        raise Unsupported(name)
    return plan


@dataclass
class DecidedColumn:
    """One column of a batch: the value of each row as the row model would give it, whether the cell
    was filled, and whether the vector path could decide it."""

    values: list[Any]
    present: np.ndarray
    decided: np.ndarray


def text_cells(cells: Sequence[Any]) -> list[str]:
    """Cells as the importer's preparation strips them; a cell that is not text becomes undecidable."""
    return [
        c.strip() if c.__class__ is str else ("" if c is None else UNDECIDED_CELL) for c in cells
    ]


def decide(plan: ColumnPlan, cells: list[str], today: dt.date) -> DecidedColumn:
    """Decide a column of stripped text cells (see ``text_cells``)."""
    arr = pa.array(cells, pa.string())
    present = pc.not_equal(arr, "")
    present_np = present.to_numpy(zero_copy_only=False)
    ok = pc.invert(pc.match_substring_regex(arr, _CONTROL))
    ascii_ok = pc.string_is_ascii(arr)
    kind = plan.kind
    values: list[Any]
    if kind == "str":
        if plan.max_length is not None:
            ok = pc.and_(ok, pc.less_equal(pc.utf8_length(arr), plan.max_length))
        if plan.pattern is not None:
            # RE2 and pydantic's regex engine agree on ASCII text; other text goes row by row
            ok = pc.and_(ok, pc.and_(ascii_ok, pc.match_substring_regex(arr, plan.pattern)))
        values = [c or plan.default for c in cells]
    elif kind == "enum":
        keys = pa.array(list(plan.members), pa.string())
        index = pc.index_in(pc.if_else(ascii_ok, pc.ascii_lower(arr), None), value_set=keys)
        ok = pc.and_(ok, pc.is_valid(index))
        members = list(plan.members.values())
        values = [plan.default if i is None else members[i] for i in index.to_pylist()]
    elif kind in {"int", "float"}:
        shape = pc.match_substring_regex(arr, _INT if kind == "int" else _FLOAT)
        numbers = pc.cast(
            pc.if_else(shape, arr, None), pa.int64() if kind == "int" else pa.float64()
        )
        ok = pc.and_(shape, _in_bounds(numbers, plan.bounds))
        values = numbers.to_pylist()
    elif kind == "date":
        shape = pc.and_(
            pc.match_substring_regex(arr, _DATE), pc.invert(pc.starts_with(arr, "0000"))
        )
        text = pc.if_else(shape, arr, None)
        parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2021-02-30 over to March: a real date prints back as it was written
        real = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), text)
        dates = pc.cast(pc.if_else(real, parsed, None), pa.date32())
        ok = pc.fill_null(real, False)
        if not plan.future_ok:
            ok = pc.and_(
                ok, pc.fill_null(pc.less_equal(dates, pa.scalar(today, pa.date32())), False)
            )
        values = dates.to_pylist()
    elif kind == "year_month":
        ok = pc.and_(ok, pc.match_substring_regex(arr, _YEAR_MONTH))
        values = [c or plan.default for c in cells]
    else:  # pragma: no cover - plan_for knows no other kinds
        raise Unsupported(kind)
    decided = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    if plan.text_checks:
        decided = decided & _text_checks(plan, values, present_np)
    if kind in {"int", "float", "date"}:
        values = [v if v is not None else plan.default for v in values]
    # an empty cell is decided when the field has a default (pydantic then reports nothing)
    decided = np.where(present_np, decided, not plan.required)
    return DecidedColumn(values, present_np, decided)


def _in_bounds(numbers: pa.Array, bounds: list[tuple[str, float]]) -> pa.Array:
    ok = pc.is_valid(numbers)
    ops = {"ge": pc.greater_equal, "gt": pc.greater, "le": pc.less_equal, "lt": pc.less}
    for kind, limit in bounds:
        ok = pc.and_(ok, pc.fill_null(ops[kind](numbers, limit), False))
    return ok


def _text_checks(plan: ColumnPlan, values: list[Any], present: np.ndarray) -> np.ndarray:
    """The field's own Python validators (free text, citation) on each distinct filled value: exact by
    construction, and cheap because such columns repeat their values."""
    seen: dict[Any, tuple[bool, Any]] = {}
    decided = np.ones(len(values), dtype=bool)
    for i in np.flatnonzero(present):
        value = values[i]
        outcome = seen.get(value)
        if outcome is None:
            result = value
            try:
                for check in plan.text_checks:
                    result = check(result)
                outcome = (True, result)
            except Exception:  # the row model reports it
                outcome = (False, value)
            seen[value] = outcome
        decided[i] = outcome[0]
        values[i] = outcome[1]
    return decided


def decide_batch(
    plan: SheetPlan, index_of: dict[str, int], batch: list[tuple[int, Any]], today: dt.date
) -> list[Row | None]:
    """Per row of the batch: the row object when the column checks accept every cell, BLANK for a
    blank line, None when the row model must decide."""
    width = max(index_of.values(), default=-1) + 1
    rows = [cells for _number, cells in batch]
    if any(len(cells) < width for cells in rows):
        rows = [cells if len(cells) >= width else [*cells, *[None] * (width - len(cells))]
                for cells in rows]  # fmt: skip
    by_index = list(zip(*rows, strict=False)) if rows and width else []
    n = len(batch)
    names: list[str] = []
    columns: list[list[Any]] = []
    present_names: list[str] = []
    present: list[np.ndarray] = []
    ok = np.ones(n, dtype=bool)
    for column in plan.columns:
        names.append(column.name)
        index = index_of.get(column.name)
        if index is None:
            if column.required:  # pragma: no cover - the header check refuses the sheet
                return [None] * n
            columns.append([column.default] * n)
            continue
        got = decide(column, text_cells(by_index[index]), today)
        ok &= got.decided
        columns.append(got.values)
        present_names.append(column.name)
        present.append(got.present)
    bits = np.zeros(n, dtype=np.int64)  # which cells of each row are filled, one bit per column
    for j, mask in enumerate(present):
        bits |= mask.astype(np.int64) << j
    sets: dict[int, frozenset[str]] = {}
    out: list[Row | None] = []
    row_type = plan.row
    for values, code, accepted in zip(
        zip(*columns, strict=True), bits.tolist(), ok.tolist(), strict=True
    ):
        if code == 0:
            out.append(BLANK)
            continue
        if not accepted:
            out.append(None)
            continue
        filled = sets.get(code)
        if filled is None:
            filled = sets[code] = frozenset(
                name for j, name in enumerate(present_names) if code >> j & 1
            )
        obj = construct(row_type, dict(zip(names, values, strict=True)), set(filled))
        out.append(obj if passes_model_checks(plan, obj) else None)
    return out


def construct(row: type[Row], values: dict[str, Any], fields_set: set[str]) -> Row:
    """A row object from decided values, as ``model_validate`` would have built it (no validation)."""
    obj = row.__new__(row)
    setattr_ = object.__setattr__
    setattr_(obj, "__dict__", values)
    setattr_(obj, "__pydantic_fields_set__", fields_set)
    setattr_(obj, "__pydantic_extra__", None)
    setattr_(obj, "__pydantic_private__", None)
    return obj


def passes_model_checks(plan: SheetPlan, obj: Row) -> bool:
    """The row model's own checks across fields (a stop date needs a stop reason, ...)."""
    try:
        for check in plan.model_checks:
            check(obj)
    except Exception:  # the row model reports it
        return False
    return True
