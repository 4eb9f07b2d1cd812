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
import math
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

_INT = r"^[0-9]{1,9}$"
_FLOAT = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"
_YEAR_MONTH = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"
# the Row base's validators for every field, and what the vector path does in their place
_KNOWN_STAR_VALIDATORS = frozenset({"_no_control_characters", "_not_in_future"})


COLUMN_BATCH = 4096  # rows checked together
_WORDS_KEPT = 20_000  # distinct texts shared per column of a sheet
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
    words: dict[str, str] = field(default_factory=dict)  # one object per distinct text (see decide)


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


def text_cells(cells: Sequence[Any], kind: str) -> list[str]:
    """Cells as the importer's preparation strips them. A typed spreadsheet cell becomes the text the
    row model would read the same way (12.5 in a number column, a date at midnight in a date column);
    any other typed cell becomes undecidable."""
    try:
        return list(map(str.strip, cells))  # a CSV column: text only
    except TypeError:
        return [c.strip() if isinstance(c, str) else _typed_cell(c, kind) for c in cells]


def _typed_cell(cell: Any, kind: str) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool) or not isinstance(cell, int | float | dt.date):
        return UNDECIDED_CELL
    if isinstance(cell, dt.date):
        if kind != "date":
            return UNDECIDED_CELL
        if isinstance(cell, dt.datetime):  # the row model takes a datetime at midnight as its date
            return cell.date().isoformat() if cell.time() == dt.time(0, 0) else UNDECIDED_CELL
        return cell.isoformat()
    if isinstance(cell, float) and not math.isfinite(cell):
        return UNDECIDED_CELL
    if kind == "float":  # repr keeps -0.0 and every digit
        return repr(cell) if isinstance(cell, float) else str(cell)
    if kind in {"int", "str"}:  # as the preparation writes a spreadsheet's 12.0 for a code: 12
        return str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)
    return UNDECIDED_CELL


def decide(plan: ColumnPlan, cells: list[str], today: dt.date) -> DecidedColumn:
    """Decide a column of stripped text cells (see ``text_cells``)."""
    arr = pa.array(cells)  # inferred as string: 10x faster than naming the type (pyarrow 26)
    offsets, data = _buffers(arr)
    present = offsets[1:] != offsets[:-1]
    kind = plan.kind
    values: list[Any]
    if kind in {"str", "enum", "year_month"}:
        # words repeat (codes, units, pseudonyms): each distinct one is checked once
        encoded = arr.dictionary_encode()
        index = encoded.indices.to_numpy(zero_copy_only=False)
        ok_words, word_values = _decide_words(plan, encoded.dictionary)
        ok = ok_words[index]
        if word_values is None:
            # one text object per distinct word, as pydantic's string cache gives: the writer binds
            # and encodes (UTF-8 for SQLite, JSON) each object once, not once per row (7 % of an import)
            seen = plan.words
            if len(seen) < _WORDS_KEPT:  # shared across batches too, up to a bound
                word_values = [
                    seen.setdefault(w, w) or plan.default for w in encoded.dictionary.to_pylist()
                ]
            else:
                word_values = [
                    seen.get(w, w) or plan.default for w in encoded.dictionary.to_pylist()
                ]
        values = [word_values[i] for i in index.tolist()]
    elif kind in {"int", "float"}:
        ok, values = _numbers(plan, arr, offsets, data, present)
    elif kind == "date":
        ok, values = _dates(plan, offsets, data, present, today)
    else:  # pragma: no cover - plan_for knows no other kinds
        raise Unsupported(kind)
    if plan.text_checks:
        ok = ok & _text_checks(plan, values, present)
    # an empty cell is decided when the field has a default (pydantic then reports nothing)
    return DecidedColumn(values, present, np.where(present, ok, not plan.required))


def _decide_words(plan: ColumnPlan, words: pa.Array) -> tuple[np.ndarray, list[Any] | None]:
    """Per distinct text: accepted? and, for a vocabulary, its member (else the text is the value)."""
    offsets, data = _buffers(words)
    if plan.kind == "enum":
        keys = pa.array(list(plan.members), pa.string())
        lower = pc.if_else(pc.string_is_ascii(words), pc.ascii_lower(words), None)
        index = pc.index_in(lower, value_set=keys).to_pylist()
        members = list(plan.members.values())
        return (
            np.array([i is not None for i in index], dtype=bool),
            [plan.default if i is None else members[i] for i in index],
        )
    if plan.kind == "year_month":
        return _bools(pc.match_substring_regex(words, _YEAR_MONTH)), None
    ok = ~_has_control_character(offsets, data)
    if plan.max_length is not None:
        ok &= _bools(pc.less_equal(pc.utf8_length(words), plan.max_length))
    if plan.pattern is not None:
        # RE2 and pydantic's regex engine agree on ASCII text; other text goes row by row
        ok &= _bools(pc.string_is_ascii(words))
        ok &= _bools(pc.match_substring_regex(words, plan.pattern))
    return ok, None


def _bools(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and UTF-8 bytes of a string array without nulls, as numpy arrays (no copy)."""
    _validity, offsets, data = arr.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32, count=len(arr) + 1)[arr.offset :]
    empty = np.zeros(0, np.uint8)
    return starts, np.frombuffer(data, dtype=np.uint8) if data is not None else empty


def _count_bytes(offsets: np.ndarray, data: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Per string: how many of its bytes ``which`` marks."""
    seen = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(which, out=seen[1:])
    return seen[offsets[1:]] - seen[offsets[:-1]]  # type: ignore[no-any-return]


def _has_control_character(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Per string: does it hold a byte of the row model's control characters (NUL, ESC, DEL, ...; not
    tab, LF or CR)? Bytes of multi-byte UTF-8 characters are all 0x80 or above."""
    return _count_bytes(offsets, data, _CONTROL_BYTE[data]) > 0


def _byte_table(chars: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in chars]] = True
    return table


_CONTROL_BYTE = _byte_table("".join(map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])))
_NOT_DIGIT = ~_byte_table("0123456789")
_NOT_DECIMAL = ~_byte_table("0123456789.-")


def _numbers(
    plan: ColumnPlan, arr: pa.Array, offsets: np.ndarray, data: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, list[Any]]:
    """Whole numbers of at most 9 digits; decimals of digits, '-' and '.' only, which Arrow's parser
    (fast_float) and pydantic's both read correctly rounded (anything else Arrow refuses goes to
    the regular expression, and what that refuses, row by row)."""
    lengths = offsets[1:] - offsets[:-1]
    if plan.kind == "int":
        shape = present & (lengths <= 9) & (_count_bytes(offsets, data, _NOT_DIGIT[data]) == 0)
        as_type = pa.int64()
    else:
        shape = present & (lengths <= 31) & (_count_bytes(offsets, data, _NOT_DECIMAL[data]) == 0)
        as_type = pa.float64()
    try:
        numbers = pc.cast(pc.if_else(pa.array(shape), arr, None), as_type)
    except pa.ArrowInvalid:  # '1-2', '.', '-': the strict form decides
        shape = _bools(pc.match_substring_regex(arr, _INT if plan.kind == "int" else _FLOAT))
        numbers = pc.cast(pc.if_else(pa.array(shape), arr, None), as_type)
    parsed = pc.fill_null(numbers, pa.scalar(0, as_type)).to_numpy(zero_copy_only=False)
    ok = shape.copy()
    for kind, limit in plan.bounds:
        ok &= {"ge": parsed >= limit, "gt": parsed > limit, "le": parsed <= limit,
               "lt": parsed < limit}[kind]  # fmt: skip
    return ok, _with_default(parsed, present, plan.default)


def _with_default(parsed: np.ndarray, present: np.ndarray, default: Any) -> list[Any]:
    """Python values (int, float, datetime.date) of ``parsed``, ``default`` where the cell is empty."""
    values: list[Any] = parsed.tolist()
    if not present.all():
        for i in np.flatnonzero(~present).tolist():
            values[i] = default
    return values


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]


def _dates(
    plan: ColumnPlan, offsets: np.ndarray, data: np.ndarray, present: np.ndarray, today: dt.date
) -> tuple[np.ndarray, list[Any]]:
    """Calendar dates written YYYY-MM-DD (ASCII digits), from year 1, none after ``today``."""
    n = len(present)
    ok = (offsets[1:] - offsets[:-1]) == 10
    year = np.full(n, 1970)
    month = np.ones(n, dtype=np.int64)
    day = np.ones(n, dtype=np.int64)
    if ok.any():
        chars = data[offsets[:-1][ok][:, None] + np.arange(10)].astype(np.int64)
        digits = chars[:, _DATE_DIGITS] - ord("0")
        form = ((digits >= 0) & (digits <= 9)).all(axis=1)
        form &= (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
        digits = np.where(form[:, None], digits, 0)
        y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
        m = digits[:, 4] * 10 + digits[:, 5]
        d = digits[:, 6] * 10 + digits[:, 7]
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        length = _DAYS_IN_MONTH[np.clip(m, 0, 12)] + ((m == 2) & leap)
        real = form & (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= length)
        ok[ok] = real
        year[ok], month[ok], day[ok] = y[real], m[real], d[real]
    dates = ((year - 1970).astype("datetime64[Y]") + (month - 1).astype("timedelta64[M]")).astype(
        "datetime64[D]"
    ) + (day - 1).astype("timedelta64[D]")
    if not plan.future_ok:
        ok &= dates <= np.datetime64(today, "D")
    return ok, _with_default(dates, present, plan.default)


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
    if rows and min(map(len, rows)) < width:
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
        got = decide(column, text_cells(by_index[index], column.kind), today)
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
    checks = plan.model_checks
    new = object.__new__
    setattr_ = object.__setattr__
    fresh = [c.name for c in plan.columns if c.kind in {"float", "date"} and c.name in index_of]
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
        fields = dict(zip(names, values, strict=True))
        for name in fresh:
            # Numbers and dates were made a column at a time; a row's own copies lie together in
            # memory, which the writer (audit JSON, inserts) reads a row at a time: 15 % of the import.
            value = fields[name]
            if value.__class__ is float:
                fields[name] = value * 1.0  # a new float, bit for bit the same (also -0.0)
            elif value.__class__ is dt.date:
                fields[name] = dt.date(value.year, value.month, value.day)
        # what model_construct does, without its per-field loop: this runs once per row
        obj: Row | None = new(row_type)
        setattr_(obj, "__dict__", fields)
        setattr_(obj, "__pydantic_fields_set__", set(filled))
        setattr_(obj, "__pydantic_extra__", None)
        setattr_(obj, "__pydantic_private__", None)
        if checks:
            try:
                for check in checks:
                    check(obj)
            except Exception:  # the row model reports it
                obj = None
        out.append(obj)
    return out
