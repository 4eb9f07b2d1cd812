"""Check a REDCap data dictionary CSV against REDCap's rules before a coordinator uploads it.

Tolerates what real files carry (a byte-order mark, header cells with changed spacing or case) and reports
everything else as problems located to the CSV row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from jakreg.ingest.problems import Problem, Severity
from jakreg.interop.redcap_dictionary import COLUMNS

FIELD_TYPES = frozenset(
    [
        "text",
        "notes",
        "dropdown",
        "radio",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "file",
        "slider",
        "descriptive",
        "sql",
    ]
)
# REDCap's standard text validation types (the redcap_validation_types table of a REDCap install, as
# REDCap 14/15 ship it, and the validation menu of the REDCapR "validation-types-1" test project).
VALIDATION_TYPES = frozenset(
    [
        "alpha_only",
        "date_dmy",
        "date_mdy",
        "date_ymd",
        "datetime_dmy",
        "datetime_mdy",
        "datetime_ymd",
        "datetime_seconds_dmy",
        "datetime_seconds_mdy",
        "datetime_seconds_ymd",
        "email",
        "integer",
        "mrn_10d",
        "mrn_generic",
        "number",
        "number_1dp",
        "number_2dp",
        "number_3dp",
        "number_4dp",
        "number_comma_decimal",
        "number_1dp_comma_decimal",
        "number_2dp_comma_decimal",
        "number_3dp_comma_decimal",
        "number_4dp_comma_decimal",
        "phone",
        "phone_australia",
        "postalcode_australia",
        "postalcode_canada",
        "postalcode_french",
        "postalcode_germany",
        "postalcode_uk",
        "ssn",
        "time",
        "time_hh_mm_ss",
        "time_mm_ss",
        "vmrn",
        "zipcode",
    ]
)
# Older names REDCap still stores (its legacy_value column) and maps to the current ones.
LEGACY_VALIDATION_TYPES = {
    "date": "date_ymd",
    "datetime": "datetime_ymd",
    "datetime_seconds": "datetime_seconds_ymd",
    "int": "integer",
    "float": "number",
}
FILE_VALIDATION_TYPES = frozenset({"signature"})  # a file upload field drawn as a signature
SLIDER_VALIDATION_TYPES = frozenset({"number"})  # "show the slider's number"
# The header of the dictionary as the REDCap API (exportMetadata, PyCap's export_metadata) returns it.
API_COLUMNS: tuple[str, ...] = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
CHOICE_TYPES = frozenset({"dropdown", "radio", "checkbox"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"\[([A-Za-z0-9_]+)(?:\([^)\]]*\))?\](?!\[)")  # [event][field]: the field only
_FIX_HEADER = (
    "use the 18 REDCap columns in order, as REDCap's Data Dictionary download or its API "
    "(field_name, form_name, ...) writes them"
)


def normalise_header(cell: str) -> str:
    """Header text compared the tolerant way: no BOM, case and spacing ignored."""
    return re.sub(r"\s+", " ", cell.replace("\ufeff", "")).strip().casefold()


def read_csv_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def csv_rows(text: str) -> list[list[str]]:
    """The rows of a CSV text; quoted cells may hold line breaks (labels often do)."""
    return list(csv.reader(io.StringIO(text, newline="")))


def header_form(header: list[str]) -> tuple[str, ...] | None:
    """COLUMNS (the Data Dictionary download) or API_COLUMNS (the API), whichever ``header`` is
    (tolerantly compared, a missing final Field Annotation allowed); None when it is neither."""
    got = [normalise_header(c) for c in header]
    while got and got[-1] == "":
        got.pop()
    for form in (COLUMNS, API_COLUMNS):
        want = [normalise_header(c) for c in form]
        if got in (want, want[:-1]):
            return form
    return None


def lint_dictionary(path: Path) -> list[Problem]:
    """Every problem of a REDCap data dictionary CSV, either header form (no errors: it can be uploaded)."""
    name = path.name
    try:
        text = read_csv_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(name, None, None, None, None, f"cannot read the file ({exc})",
                        "save the dictionary as CSV UTF-8")]  # fmt: skip
    rows = csv_rows(text)
    if not rows:
        return [Problem(name, None, None, None, None, "the file is empty", "add the header row")]
    problems = _header(name, rows[0])
    if any(p.severity is Severity.error for p in problems):
        return problems
    linter = _Linter(name, rows[1:], header_form(rows[0]) or COLUMNS)
    linter.run()
    return problems + linter.problems


def _header(name: str, header: list[str]) -> list[Problem]:
    form = header_form(header)
    if form is not None:
        if len([c for c in header if c.strip()]) == len(form) - 1:
            return [Problem(name, None, 1, form[-1], None,
                            f"the header has no {form[-1]!r} column (older REDCap "
                            "versions wrote 17 columns)",
                            f"add an empty {form[-1]!r} column if REDCap refuses the file",
                            Severity.warning)]  # fmt: skip
        return []
    api = normalise_header(header[0] if header else "") == API_COLUMNS[0]
    columns = API_COLUMNS if api else COLUMNS
    got = [normalise_header(c) for c in header]
    while got and got[-1] == "":
        got.pop()
    want = [normalise_header(c) for c in columns]
    problems = []
    if len(got) != len(want):
        problems.append(Problem(name, None, 1, None, str(len(got)),
                                f"the header has {len(got)} columns, REDCap expects 18", _FIX_HEADER))  # fmt: skip
    for index, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            problems.append(Problem(name, None, 1, columns[index], header[index],
                                    f"column {index + 1} should be {columns[index]!r}", _FIX_HEADER))  # fmt: skip
    return problems or [Problem(name, None, 1, None, None, "not a REDCap data dictionary header",
                                _FIX_HEADER)]  # fmt: skip


class _Linter:
    def __init__(
        self, file: str, rows: list[list[str]], columns: tuple[str, ...] = COLUMNS
    ) -> None:
        self.file = file
        self.columns = columns  # problems name the columns as the file does
        self.rows = [
            (i, [c.strip() for c in r] + [""] * (18 - len(r))) for i, r in enumerate(rows, 2)
        ]
        self.rows = [(i, r) for i, r in self.rows if any(r)]
        self.problems: list[Problem] = []

    def add(self, row: int, column: int, value: str, message: str, fix: str) -> None:
        self.problems.append(
            Problem(self.file, None, row, self.columns[column], value, message, fix)
        )

    def run(self) -> None:
        if not self.rows:
            self.problems.append(Problem(self.file, None, None, None, None,
                                         "the dictionary has no fields", "add the record id field"))  # fmt: skip
            return
        first_row, first = self.rows[0]
        if first[3] != "text":
            self.add(first_row, 3, first[3], "the first field is the record id and must be text",
                     "make the first row the record id field (record_id, type text)")  # fmt: skip
        elif first[0] != "record_id":
            self.problems.append(Problem(self.file, None, first_row, self.columns[0], first[0],
                                         "the record id field is usually named record_id",
                                         "keep it if your project uses this name", Severity.warning))  # fmt: skip
        names = {r[0] for _, r in self.rows}
        seen_fields: dict[str, int] = {}
        finished_forms: set[str] = set()
        current = ""
        for number, row in self.rows:
            field, form, ftype = row[0], row[1], row[3]
            if not _NAME.match(field):
                self.add(number, 0, field, "not a valid REDCap variable name",
                         "use lower-case letters, digits and _; start with a letter")  # fmt: skip
            elif len(field) > 100:
                self.add(number, 0, field, "the variable name is longer than 100 characters",
                         "shorten it")  # fmt: skip
            if field in seen_fields:
                self.add(number, 0, field, f"the variable is defined twice (also row {seen_fields[field]})",
                         "give every field a unique name")  # fmt: skip
            seen_fields.setdefault(field, number)
            if not _NAME.match(form):
                self.add(number, 1, form, "not a valid form name",
                         "use lower-case letters, digits and _; start with a letter")  # fmt: skip
            if form != current:
                if form in finished_forms:
                    self.add(number, 1, form, "the fields of this form are not contiguous",
                             "move all rows of one form together")  # fmt: skip
                finished_forms.add(current)
                current = form
            if ftype not in FIELD_TYPES:
                self.add(number, 3, ftype, "not a REDCap field type",
                         f"use one of: {', '.join(sorted(FIELD_TYPES))}")  # fmt: skip
            self._choices(number, row)
            self._validation(number, row)
            for column in (10, 12, 16):
                if row[column] not in ("", "y"):
                    self.add(
                        number, column, row[column], "must be y or blank", "write y or leave blank"
                    )
            if row[13] not in ("", "LV", "LH", "RV", "RH"):
                self.add(
                    number, 13, row[13], "not a REDCap alignment", "use LV, LH, RV, RH or blank"
                )
            for ref in _REF.findall(row[11]):
                if ref not in names:
                    self.add(number, 11, row[11], f"the branching logic refers to [{ref}], which is not a field",
                             "correct the field name in the branching logic")  # fmt: skip

    def _choices(self, number: int, row: list[str]) -> None:
        ftype, text = row[3], row[5]
        if ftype == "calc" and not text:
            self.add(number, 5, text, "a calc field needs its calculation", "write the equation")
        if ftype not in CHOICE_TYPES:
            return
        parsed = parse_choices(text)
        if parsed is None:
            self.add(number, 5, text, "the choices are not in the form 'code, label | code, label'",
                     "write each choice as code, label and separate them with |")  # fmt: skip
            return
        codes = [c for c, _ in parsed]
        if len(set(codes)) != len(codes):
            self.add(
                number, 5, text, "a choice code is used twice", "give every choice its own code"
            )
        if ftype == "checkbox" and any(not re.fullmatch(r"[A-Za-z0-9_]+", c) for c in codes):
            self.add(number, 5, text, "checkbox codes must be letters, digits or _",
                     "recode the choices")  # fmt: skip

    def _validation(self, number: int, row: list[str]) -> None:
        ftype, kind = row[3], row[7]
        if ftype == "slider":
            self._slider(number, row)
            return
        if not kind:
            if row[8] or row[9]:
                self.add(number, 8 if row[8] else 9, row[8] or row[9],
                         "a minimum or maximum without a validation type",
                         "set the validation type (e.g. number) or clear the limits")  # fmt: skip
            return
        if ftype == "file":
            if kind not in FILE_VALIDATION_TYPES:
                self.add(number, 7, kind, "a file field takes only the signature validation",
                         "write signature (a signature pad) or leave it blank")  # fmt: skip
            return
        if ftype != "text":
            self.add(number, 7, kind, f"a {ftype} field takes no validation type", "clear it")
            return
        if kind in LEGACY_VALIDATION_TYPES:
            self.problems.append(Problem(self.file, None, number, self.columns[7], kind,
                                         f"an old REDCap name for {LEGACY_VALIDATION_TYPES[kind]}",
                                         f"write {LEGACY_VALIDATION_TYPES[kind]}", Severity.warning))  # fmt: skip
            kind = LEGACY_VALIDATION_TYPES[kind]
        elif kind not in VALIDATION_TYPES:
            self.add(number, 7, kind, "not a REDCap validation type",
                     "use one of REDCap's (e.g. date_ymd, integer, number, number_1dp, "
                     "time_hh_mm_ss, email); a type your REDCap server added locally is not known "
                     "to jakreg")  # fmt: skip
            return
        for column in (8, 9):
            if row[column] and not _limit_ok(kind, row[column]):
                self.add(number, column, row[column], f"the limit does not fit the {kind} validation",
                         "write the limit in the validation's format")  # fmt: skip

    def _slider(self, number: int, row: list[str]) -> None:
        if row[7] and row[7] not in SLIDER_VALIDATION_TYPES:
            self.add(number, 7, row[7], "a slider takes only 'number' here (show its value)",
                     "write number or leave it blank")  # fmt: skip
        limits = []
        for column in (8, 9):
            value = row[column]
            if not value:
                continue
            try:
                limits.append(int(value))
            except ValueError:
                self.add(number, column, value, "a slider limit must be a whole number",
                         "write a whole number (REDCap's slider runs from 0 to 100 by default)")  # fmt: skip
        if len(limits) == 2 and limits[0] >= limits[1]:
            self.add(number, 9, row[9], "the slider maximum is not above its minimum",
                     "make the maximum larger than the minimum")  # fmt: skip


def _limit_ok(kind: str, value: str) -> bool:
    if kind.startswith(("date", "time")) and value in ("today", "now"):
        return True  # REDCap's relative limits
    try:
        if kind == "integer":
            int(value)
        elif kind.startswith("number"):
            float(value.replace(",", ".") if "comma" in kind else value)
        elif kind == "date_ymd":
            dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse_choices(text: str) -> list[tuple[str, str]] | None:
    """``code, label | code, label`` as pairs, or None when it is not in that form."""
    if not text.strip():
        return None
    pairs = []
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            return None
        pairs.append((code.strip(), label.strip()))
    return pairs
