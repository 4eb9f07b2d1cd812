"""Validate raw sheets against the study model: headers, cells, rows. Cross-row checks are in checks.py."""

from __future__ import annotations

import datetime as dt
import difflib
import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pydantic import ValidationError

from jakreg.ingest.columnar import BLANK, COLUMN_BATCH, decide_batch, plan_for
from jakreg.ingest.problems import Problem, ProblemLog, Severity, show_value
from jakreg.ingest.read import RawSheet, RawWorkbook
from jakreg.model.introspect import allowed_values, base_type
from jakreg.model.rows import Row
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME, SheetSpec

DERIVED_SHEET_PREFIX = "derived_"


@dataclass(frozen=True)
class ValidRow:
    number: int
    row: Row


@dataclass
class StudyRows:
    """The validated rows of one input, sheet by sheet, in the order of jakreg.model.sheets.SHEETS."""

    file: str
    sheets: dict[str, list[ValidRow]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # keys (as text) of rows that failed validation, so rows referring to them are not blamed too
    failed_keys: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    # valid rows per sheet, also when the rows themselves were not kept (a streamed import)
    counts: dict[str, int] = field(default_factory=dict)

    def rows(self, sheet: str) -> list[ValidRow]:
        return self.sheets.get(sheet, [])

    def file_of(self, sheet: str) -> str:
        return self.files.get(sheet, self.file)

    def failed(self, sheet: str, columns: tuple[str, ...], values: tuple[Any, ...]) -> bool:
        del columns
        return tuple(key_text(v) for v in values) in self.failed_keys.get(sheet, set())

    @property
    def n_rows(self) -> int:
        if self.counts:
            return sum(self.counts.values())
        return sum(len(v) for v in self.sheets.values())

    def count(self, sheet: str) -> int:
        return self.counts.get(sheet, len(self.sheets.get(sheet, [])))


ProgressFn = Callable[[str, int], None]

_PATTERN_FIX = {
    "centre": "use 2–16 capital letters, digits or hyphens (e.g. BCN or ES-01)",
    "country": "use the two-letter ISO 3166-1 code in capitals (e.g. ES, DE, BR)",
    "patient_id": "use letters, digits, '.', '_' or '-' (at most 32, no spaces); never a name",
    "hpo_id": "write the HPO id as HP: and 7 digits (e.g. HP:0002728)",
    "manifestation": "write the HPO id as HP: and 7 digits, or leave blank for the global response",
    "transcript": "write the RefSeq transcript with its version (e.g. NM_007315.4)",
    "item": "use the item name from the score definition (lower-case letters, digits, _)",
}


class _Translator:
    """Turns pydantic's errors into jakreg's wording, per sheet."""

    def __init__(self, spec: SheetSpec) -> None:
        self.spec = spec
        self.fields = spec.row.model_fields

    def problems(
        self, exc: ValidationError, file: str, sheet: str, number: int, cells: dict[str, Any]
    ) -> Iterable[Problem]:
        for err in exc.errors(include_url=False):
            ctx = err.get("ctx") or {}
            column = str(err["loc"][0]) if err["loc"] else ctx.get("column")
            value = cells.get(column) if column else None
            message, fix = self._words(err, column)
            yield Problem(file, sheet, number, column, show_value(value), message, fix)

    def _words(self, err: Any, column: str | None) -> tuple[str, str]:
        kind = err["type"]
        ctx = err.get("ctx") or {}
        info = self.fields.get(column) if column else None
        allowed = allowed_values(info.annotation) if info else None
        if kind == "jakreg":
            return err["msg"], str(ctx.get("fix", "check the value"))
        if kind == "missing":
            hint = f" (one of: {', '.join(allowed)})" if allowed else ""
            return "a required value is missing", f"fill in {column}{hint}"
        if kind == "enum":
            return "not an allowed value", f"use one of: {', '.join(allowed or [])}"
        if kind in {"float_parsing", "float_type", "finite_number"}:
            return "not a number", "write a number only (e.g. 12.5), without units or text"
        if kind in {"int_parsing", "int_type", "int_from_float"}:
            return "not a whole number", "write a whole number (e.g. 2)"
        if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
            words = {
                "greater_than": "greater than",
                "greater_than_equal": "at least",
                "less_than": "less than",
                "less_than_equal": "at most",
            }[kind]
            limit = next(iter(ctx.values()))
            shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
            return "the value is out of range", f"use a value {words} {shown}"
        if kind == "string_pattern_mismatch":
            return "not in the expected form", _PATTERN_FIX.get(column or "", "check the value")
        if kind == "string_too_long":
            return (
                "the text is too long",
                f"shorten it to at most {ctx.get('max_length')} characters",
            )
        if kind in {"string_type", "bool_type"}:
            return "not text", "write the value as text"
        return str(err["msg"]), "check the value"


def key_text(value: Any) -> str:
    """One text form of a key cell, whether it came typed from xlsx, as CSV text or validated."""
    value = getattr(value, "value", value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


def failed_key(spec: SheetSpec, values: dict[str, Any]) -> tuple[str, ...]:
    """The key of a row that failed, as text; a key column left blank takes its default (the score of
    an assessment), as the row would have had it."""
    fields = spec.row.model_fields

    def part(k: str) -> Any:
        if k in values or fields[k].is_required():
            return values.get(k)
        return fields[k].get_default(call_default_factory=True)

    return tuple(key_text(part(k)) for k in spec.key)


def _normalise_header(cell: Any) -> str:
    return str(cell if cell is not None else "").strip().lower().replace(" ", "_")


def _preparer(base: Any) -> Callable[[Any], Any]:
    """The cell-to-model conversion of one column type, made once per column (imports call it per cell)."""
    members: dict[str, str] | None = None
    if isinstance(base, type) and issubclass(base, enum.Enum):
        members = {str(m.value).lower(): str(m.value) for m in base}
    formula_allowed = base is str

    def prepare(value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if not formula_allowed and value.startswith("=") and len(value) > 1:
                return value  # left to fail as not-a-number/not-a-date with the formula shown
            if members is not None:
                return members.get(value.lower(), value)
            return value
        if value is None:
            return None
        if formula_allowed and isinstance(value, float) and value.is_integer():
            return str(int(value))  # a spreadsheet turns the code 12 into 12.0
        if formula_allowed and isinstance(value, int | float):
            return str(value)
        if isinstance(value, dt.time | dt.timedelta):
            return str(value)
        return value

    return prepare


@dataclass(frozen=True)
class PreparedSheet:
    """A sheet whose name and header passed: where its rows come from and which column is which."""

    raw: RawSheet
    spec: SheetSpec
    columns: dict[int, str]


def prepare_sheets(workbook: RawWorkbook, log: ProblemLog) -> list[PreparedSheet]:
    """Check every sheet's name and header; returns the usable sheets in the order of SHEETS
    (the order in which rows are checked and written: a sheet only refers to sheets before it)."""
    seen: dict[str, RawSheet] = {}
    prepared: dict[str, PreparedSheet] = {}
    for raw in workbook.sheets:
        key = raw.name.strip().lower()
        if key.startswith(DERIVED_SHEET_PREFIX):
            continue  # computed by jakreg on export; recomputed on import
        spec = SHEETS_BY_NAME.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(SHEETS_BY_NAME), n=1)
            fix = (
                f"rename it to {close[0]!r}"
                if close
                else f"use the sheet names of jakreg template: {', '.join(SHEETS_BY_NAME)}"
            )
            log.add(
                Problem(raw.file, raw.name, None, None, None, "unknown sheet", fix, Severity.error)
            )
            continue
        if key in seen:
            log.add(
                Problem(
                    raw.file,
                    raw.name,
                    None,
                    None,
                    None,
                    f"the sheet {spec.name!r} is given twice (also in {seen[key].file})",
                    "keep one copy",
                )
            )
            continue
        seen[key] = raw
        columns = _header(raw, spec, log)
        if columns is not None:
            prepared[spec.name] = PreparedSheet(raw, spec, columns)
    return [prepared[s.name] for s in SHEETS if s.name in prepared]


def validate_sheets(
    workbook: RawWorkbook,
    log: ProblemLog,
    *,
    today: dt.date,
    progress: ProgressFn | None = None,
) -> StudyRows:
    """Validate every sheet's header and rows; returns the rows that passed (errors are in ``log``).

    This keeps every row in memory: for forms and small files. Imports stream (jakreg.study)."""
    study = StudyRows(file=workbook.path.name)
    for sheet in prepare_sheets(workbook, log):
        name = sheet.spec.name
        study.files[name] = sheet.raw.file
        failed = study.failed_keys.setdefault(name, set())
        study.sheets[name] = list(validate_rows(sheet, log, today, progress, failed))
        study.counts[name] = len(study.sheets[name])
    return study


def _header(raw: RawSheet, spec: SheetSpec, log: ProblemLog) -> dict[int, str] | None:
    """Column index -> field name, or None (with the problems logged) when the header is unusable."""
    fields = spec.row.model_fields
    columns: dict[int, str] = {}
    header_ok = True
    for index, cell in enumerate(raw.header):
        name = _normalise_header(cell)
        if name == "":
            continue
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=1)
            fix = f"rename it to {close[0]!r}" if close else "remove the column"
            log.add(Problem(raw.file, raw.name, 1, str(cell), None, "unknown column", fix))
            header_ok = False
        elif name in columns.values():
            log.add(
                Problem(raw.file, raw.name, 1, name, None, "the column is given twice", "keep one")
            )
            header_ok = False
        else:
            columns[index] = name
    for name, info in fields.items():
        if info.is_required() and name not in columns.values():
            log.add(
                Problem(
                    raw.file,
                    raw.name,
                    1,
                    name,
                    None,
                    "a required column is missing",
                    f"add a column headed {name!r}",
                )
            )
            header_ok = False
    return columns if header_ok else None


def validate_rows(
    sheet: PreparedSheet,
    log: ProblemLog,
    today: dt.date,
    progress: ProgressFn | None,
    failed: set[tuple[str, ...]],
) -> Iterator[ValidRow]:
    """The rows of one prepared sheet that pass the row model, one at a time (problems go to ``log``;
    the keys of failed rows go to ``failed`` so rows referring to them are not blamed too).

    Rows are read in batches and checked column by column (jakreg.ingest.columnar); the row model
    validates only the rows that the column checks cannot accept, so its messages stay the only ones.
    Problems are logged in row order, as each row is given out."""
    raw, spec = sheet.raw, sheet.spec
    one = _RowValidator(sheet, log, today, failed)
    plan = plan_for(spec.row)
    index_of = {name: index for index, name in sheet.columns.items()}
    formula_rows = raw.formula_cells
    count = 0
    rows = iter(raw.rows)
    while batch := list(islice(rows, COLUMN_BATCH)):
        if plan is None:
            decided: list[Row | None] | None = None
        else:
            decided = decide_batch(plan, index_of, batch, today)
        for i, (number, cells) in enumerate(batch):
            count += 1
            if progress is not None and count % 5000 == 0:
                progress(spec.name, 5000)
            if decided is not None and not (formula_rows and number in formula_rows):
                row = decided[i]
                if row is BLANK:
                    continue
                if row is not None:
                    yield ValidRow(number, row)
                    continue
            valid = one.validate(number, cells)
            if valid is not None:
                yield valid
    if progress is not None:
        progress(spec.name, count % 5000)


class _RowValidator:
    """The row model on one row: its value or its problems (the path of every row the columns leave)."""

    def __init__(
        self, sheet: PreparedSheet, log: ProblemLog, today: dt.date, failed: set[tuple[str, ...]]
    ) -> None:
        raw, spec, columns = sheet.raw, sheet.spec, sheet.columns
        fields = spec.row.model_fields
        self.sheet = sheet
        self.log = log
        self.failed = failed
        self.translator = _Translator(spec)
        self.cells_to_fields = [(index, name, _preparer(base_type(fields[name].annotation)))
                                for index, name in columns.items()]  # fmt: skip
        self.validate_model = spec.row.model_validate
        self.context = {"today": today}
        self.formula_rows = raw.formula_cells

    def validate(self, number: int, cells: Any) -> ValidRow | None:
        raw, spec, columns = self.sheet.raw, self.sheet.spec, self.sheet.columns
        log = self.log
        values: dict[str, Any] = {}
        width = len(cells)
        for index, name, prepare in self.cells_to_fields:
            if index < width:
                cell = cells[index]
                if cell is not None and cell != "":
                    prepared = prepare(cell)
                    if prepared is not None:
                        values[name] = prepared
        if not values:
            return None  # blank line
        formula_rows = self.formula_rows
        if formula_rows and number in formula_rows:
            bad = [columns[c] for c in formula_rows[number] if c in columns]
            for name in bad:
                log.add(
                    Problem(
                        raw.file,
                        raw.name,
                        number,
                        name,
                        show_value(_shown(cells, columns, name)),
                        "the cell holds a formula",
                        "replace the formula by its value (copy, then paste as values)",
                    )
                )
            if bad:
                self.failed.add(failed_key(spec, values))
                return None
        try:
            row = self.validate_model(values, context=self.context)
        except ValidationError as exc:
            shown = {name: _shown(cells, columns, name) for name in values}
            for p in self.translator.problems(exc, raw.file, raw.name, number, shown):
                log.add(p)
            self.failed.add(failed_key(spec, values))
            return None
        return ValidRow(number, row)


def _shown(cells: Any, columns: dict[int, str], name: str) -> Any:
    """The cell of a column as the user typed it (None for an empty cell)."""
    for index, column in columns.items():
        if column == name and index < len(cells):
            cell = cells[index]
            return None if isinstance(cell, str) and cell.strip() == "" else cell
    return None
