"""REDCap flat records: export the study as REDCap would, and read a REDCap export back into sheets.

Layout: one row per (record, repeating instrument, instance); ``record_id`` is the pseudonym, the
``patient`` form is the non-repeating row, ``redcap_data_access_group`` is the REDCap unique name of the
centre's data access group (``SYN-A`` -> ``syna``, see ``redcap_dags``); on import the unique name and the
centre code are both accepted. Fields outside a row's instrument are empty strings.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jakreg.export.workbook import Table, format_cell
from jakreg.ingest.problems import Problem, ProblemLog, Severity, show_value
from jakreg.ingest.read import read_workbook
from jakreg.interop.convert import Converted, Origin
from jakreg.interop.redcap_dags import centre_of_group, dag_unique_names
from jakreg.interop.redcap_dictionary import (
    PATIENT_FORM,
    RECORD_ID,
    DictionaryField,
    dictionary_fields,
    form_of,
    sheet_of,
    write_dictionary,
)
from jakreg.interop.redcap_lint import (
    csv_rows,
    header_form,
    normalise_header,
    parse_choices,
    read_csv_text,
)
from jakreg.model.cells import csv_text, neutralise, unquote

REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
EVENT = "redcap_event_name"
KEY_COLUMNS = (RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE, DAG)
DICTIONARY_FILE = "data_dictionary.csv"
RECORDS_FILE = "records.csv"
CENTRES_FILE = "centres.csv"


def _forms(fields: list[DictionaryField]) -> list[str]:
    return list(dict.fromkeys(f.form for f in fields))


def records_header(fields: list[DictionaryField] | None = None) -> list[str]:
    fields = fields or dictionary_fields()
    names = [f.name for f in fields if f.name != RECORD_ID]
    return [*KEY_COLUMNS, *names, *(f"{form}_complete" for form in _forms(fields))]


def records_rows(tables: dict[str, Table], groups: Iterable[str] = ()) -> list[list[str]]:
    """The flat records of ``tables`` (sheet -> header, rows), patients in pseudonym order.

    ``groups`` are the data access groups of the project (every centre code): REDCap's unique names
    are de-duplicated over all of them, so a one-centre export names its group as the project does.
    """
    fields = dictionary_fields()
    header = records_header(fields)
    index = {name: i for i, name in enumerate(header)}
    by_sheet: dict[str, list[DictionaryField]] = {}
    for f in fields:
        by_sheet.setdefault(f.sheet, []).append(f)
    columns, patients = tables["patients"]
    centre_header, centre_rows = tables.get("centres", (["centre"], []))
    codes = [str(r[centre_header.index("centre")]) for r in centre_rows]
    codes += [str(r[columns.index("centre")]) for r in patients]
    unique = dag_unique_names([*groups, *codes])
    out: list[list[str]] = []
    for patient in sorted(patients, key=lambda r: str(r[columns.index("patient_id")])):
        values = dict(zip(columns, patient, strict=True))
        pid, dag = str(values["patient_id"]), unique[str(values["centre"])]
        out.append(_row(header, index, pid, "", "", dag, "patients", values, by_sheet))
        for sheet in by_sheet:
            if sheet == "patients" or sheet not in tables:
                continue
            cols, rows = tables[sheet]
            mine = [
                dict(zip(cols, r, strict=True)) for r in rows if r[cols.index("patient_id")] == pid
            ]
            for n, row in enumerate(mine, start=1):
                out.append(
                    _row(header, index, pid, form_of(sheet), str(n), dag, sheet, row, by_sheet)
                )
    return out


def _row(
    header: list[str], index: dict[str, int], pid: str, instrument: str, instance: str, dag: str,
    sheet: str, values: dict[str, Any], by_sheet: dict[str, list[DictionaryField]],
) -> list[str]:  # fmt: skip
    cells = [""] * len(header)
    for name, value in zip(KEY_COLUMNS, (pid, instrument, instance, dag), strict=True):
        cells[index[name]] = value
    for f in by_sheet[sheet]:
        if f.name != RECORD_ID and f.column is not None:
            cells[index[f.name]] = format_cell(values.get(f.column))
    cells[index[f"{form_of(sheet)}_complete"]] = "2"
    return cells


def render_records(tables: dict[str, Table], groups: Iterable[str] = ()) -> str:
    rows = ([neutralise(c) for c in row] for row in records_rows(tables, groups))
    return csv_text([records_header(), *rows])


def write_redcap(tables: dict[str, Table], out: Path, groups: Iterable[str] = ()) -> list[Path]:
    """``data_dictionary.csv``, ``records.csv`` and ``centres.csv`` (for jakreg's centre set-up)."""
    out.mkdir(parents=True, exist_ok=True)
    records = out / RECORDS_FILE
    records.write_text(render_records(tables, groups), encoding="utf-8")
    centres = out / CENTRES_FILE
    header, rows = tables["centres"]
    text = csv_text([header, *([neutralise(format_cell(v)) for v in row] for row in rows)])
    centres.write_text(text, encoding="utf-8")
    return [write_dictionary(out / DICTIONARY_FILE), records, centres]


def export_redcap(out: Path, url: str | None = None, *, centre: str | None = None) -> list[Path]:
    """Write the database as a REDCap project (dictionary + records); local ids never leave."""
    from sqlalchemy import select

    from jakreg.store import db
    from jakreg.store.tables import Centre
    from jakreg.study import database_tables

    with db.open_session(url) as session:
        tables = database_tables(session, centre=centre)
        groups = list(
            session.scalars(select(Centre.centre))
        )  # codes only: study set-up, no patient data
    return write_redcap(tables, out, groups)


# --- reading a REDCap export -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    form: str
    ftype: str
    choices: dict[str, str]  # label (case-folded) -> code; codes map to themselves


def _read_dictionary(path: Path, log: ProblemLog) -> dict[str, _Field] | None:
    try:
        rows = csv_rows(read_csv_text(path))
    except (OSError, UnicodeDecodeError) as exc:
        log.add(Problem(path.name, None, None, None, None, f"cannot read the data dictionary ({exc})",
                        "export the data dictionary from REDCap as CSV"))  # fmt: skip
        return None
    if not rows:
        log.add(Problem(path.name, None, None, None, None, "the data dictionary is empty",
                        "export the data dictionary from REDCap as CSV"))  # fmt: skip
        return None
    if header_form(rows[0]) is None:
        log.add(Problem(path.name, None, 1, None, None, "this is not a REDCap data dictionary",
                        "give the data dictionary CSV exported from REDCap (download or API)"))  # fmt: skip
        return None
    where = 5  # choices: the same place in both header forms
    fields: dict[str, _Field] = {}
    for row in rows[1:]:
        if len(row) < 4 or not row[0].strip():
            continue
        choices: dict[str, str] = {}
        for code, label in parse_choices(row[where] if len(row) > where else "") or []:
            choices[code.casefold()] = code
            choices.setdefault(label.casefold(), code)
        name = row[0].strip()
        fields[name] = _Field(name, row[1].strip(), row[3].strip(), choices)
    return fields


def _find(folder: Path, log: ProblemLog) -> tuple[Path, Path, Path | None] | None:
    if folder.is_file():
        folder = folder.parent
    csvs = sorted(p for p in folder.glob("*.csv")) if folder.is_dir() else []
    dictionaries = [
        p for p in csvs if "dictionary" in p.name.lower() or "metadata" in p.name.lower()
    ]
    centres = folder / CENTRES_FILE
    records = [p for p in csvs if p not in dictionaries and p.name != CENTRES_FILE]
    if len(dictionaries) != 1 or len(records) != 1:
        log.add(Problem(folder.name, None, None, None, None,
                        "a REDCap import needs one folder with the data dictionary and one records CSV",
                        "put the REDCap data dictionary (…DataDictionary….csv) and the records export "
                        "(CSV, raw or labels) in one folder, optionally with centres.csv"))  # fmt: skip
        return None
    return dictionaries[0], records[0], centres if centres.exists() else None


def read_redcap(path: Path, log: ProblemLog, *, centre: str | None = None) -> Converted:
    """Read a REDCap project export (folder: data dictionary + flat records CSV [+ centres.csv]).

    ``centre`` is the centre of every record when the export has no data access group column.
    """
    converted = Converted(path)
    found = _find(path, log)
    if found is None:
        return converted
    dictionary_path, records_path, centres_path = found
    converted.label = records_path.name
    dictionary = _read_dictionary(dictionary_path, log)
    if dictionary is None:
        return converted
    known_centres: list[str] = []
    if centres_path is not None:
        sheets = read_workbook(centres_path, log).sheets
        if sheets:
            sheet = sheets[0]
            rows = list(sheet.rows)
            sheet.rows = iter(rows)
            converted.extra.append(sheet)
            at = [normalise_header(str(h)) for h in sheet.header]
            if "centre" in at:
                known_centres = [str(r[at.index("centre")]).strip() for _, r in rows if r]
    _Records(converted, dictionary, records_path, log, centre, known_centres).read()
    return converted


class _Records:
    def __init__(
        self, converted: Converted, dictionary: dict[str, _Field], path: Path, log: ProblemLog,
        centre: str | None, known_centres: list[str],
    ) -> None:  # fmt: skip
        self.converted = converted
        self.dictionary = dictionary
        self.path = path
        self.log = log
        self.centre = centre
        self.known_centres = known_centres
        self.centres = {_alnum(c): c for c in known_centres}
        self.ours = {f.name: f for f in dictionary_fields()}
        self.forms = {f.form for f in self.ours.values()}

    def problem(self, row: int | None, column: str | None, value: Any, message: str, fix: str,
                severity: Severity = Severity.error) -> None:  # fmt: skip
        self.log.add(
            Problem(self.path.name, None, row, column, show_value(value), message, fix, severity)
        )

    def read(self) -> None:
        try:
            text = read_csv_text(self.path)
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, None, None, f"cannot read the records ({exc})",
                         "export the records from REDCap as CSV")  # fmt: skip
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.replace("\ufeff", "").strip() for h in next(reader, [])]
        if RECORD_ID not in header:
            self.problem(1, RECORD_ID, None, "the records have no record_id column",
                         "export all fields of the project, record_id first")  # fmt: skip
            return
        columns = self._columns(header)
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                cells = [unquote(c) for c in cells]  # our export's formula-injection guard
                self._row(number, dict(zip(header, cells, strict=False)), columns)

    def _columns(self, header: list[str]) -> dict[str, tuple[str, str | None]]:
        """Header -> (our field, checkbox code); unknown columns are reported."""
        columns: dict[str, tuple[str, str | None]] = {}
        for name in header:
            base, _, code = name.partition("___")
            if name in KEY_COLUMNS or name == EVENT:
                continue
            if name.endswith("_complete") and name[: -len("_complete")] in self.forms:
                continue
            if base in self.ours:
                columns[name] = (base, code or None)
            else:
                columns[name] = ("", None)
        return columns

    def _row(
        self, number: int, cells: dict[str, str], columns: dict[str, tuple[str, str | None]]
    ) -> None:
        pid = cells.get(RECORD_ID, "").strip()
        instrument = _form_name(cells.get(REPEAT_INSTRUMENT, ""))
        form = instrument or PATIENT_FORM
        if form not in self.forms:
            self.problem(number, REPEAT_INSTRUMENT, cells.get(REPEAT_INSTRUMENT),
                         "not an instrument of the jakreg project",
                         "export the project built from jakreg's data dictionary")  # fmt: skip
            return
        sheet = sheet_of(form)
        values: dict[str, Any] = {"patient_id": pid}
        origin_columns = {"patient_id": RECORD_ID}
        ticked: dict[str, list[str]] = {}
        for name, (ours, code) in columns.items():
            raw = cells.get(name, "").strip()
            if not ours:
                if raw:
                    self.problem(number, name, raw, "an unknown field: jakreg does not know it",
                                 "remove the field from the export, or from the REDCap project")  # fmt: skip
                continue
            field = self.ours[ours]
            if field.form != form:
                if raw and not (code and raw == "0"):
                    self.problem(number, name, raw,
                                 f"a value in a field of the {field.form} form on a {form} row",
                                 "each row holds only its own instrument's fields; re-export from REDCap")  # fmt: skip
                continue
            assert field.column is not None
            origin_columns[field.column] = ours
            if code is not None:
                if raw.casefold() in ("1", "checked"):
                    ticked.setdefault(field.column, []).append(self._code(ours, code))
                continue
            if raw:
                values[field.column] = self._code(ours, raw)
        for column, codes in ticked.items():
            if len(codes) > 1:
                self.problem(number, self.ours_name(sheet, column), ", ".join(codes),
                             "several boxes are ticked for a one-choice field", "tick one")  # fmt: skip
            values[column] = codes[0]
        if sheet == "patients":
            values["centre"] = self._centre(number, cells.get(DAG))
            origin_columns["centre"] = DAG
        where = form
        self.converted.sheet(sheet).add(
            values, Origin(self.path.name, where, number, origin_columns, RECORD_ID)
        )

    def ours_name(self, sheet: str, column: str) -> str:
        return next(
            (f.name for f in self.ours.values() if (f.sheet, f.column) == (sheet, column)), column
        )

    def _code(self, field: str, value: str) -> str:
        given = self.dictionary.get(field)
        if given is None or not given.choices:
            return value
        return given.choices.get(value.casefold(), value)

    def _centre(self, number: int, dag: str | None) -> str | None:
        dag = (dag or "").strip()
        if not dag:
            if self.centre is None:
                self.problem(number, DAG, None, "the record has no data access group (centre)",
                             "export as a user outside any data access group, or give the centre")  # fmt: skip
            return self.centre
        named = centre_of_group(dag, self.known_centres)
        if named is not None:
            return named
        return self.centres.get(_alnum(dag)) or dag.upper().replace("_", "-")


def _alnum(text: str) -> str:
    # REDCap may drop or replace the hyphen of a centre code in a group's unique name.
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _form_name(text: str) -> str:
    """An instrument as exported raw (courses) or with its label (Courses)."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
