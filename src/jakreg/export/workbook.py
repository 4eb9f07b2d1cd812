"""Write the study workbook: an empty template, the bundled example, or the database's data (xlsx or CSV).

Files are deterministic: the same data give the same bytes (sorted rows, fixed number formatting, and for
xlsx fixed zip timestamps and document dates), so an export can be compared with a later one.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jakreg import __version__
from jakreg.errors import JakregError
from jakreg.export.dictionary import data_dictionary
from jakreg.model.cells import csv_text, neutralise
from jakreg.model.sheets import SHEETS

Table = tuple[list[str], list[list[Any]]]  # header, rows

README_LINES = [
    "jakreg study workbook",
    "",
    "One sheet per entity; the header row holds the column names jakreg reads (do not rename them).",
    "The data_dictionary sheet lists every column: type, unit, allowed values, whether it is required.",
    "Dates as YYYY-MM-DD. Birth as year and month only (YYYY-MM). Numbers without units in the cell.",
    "Never write names, full birth dates, record numbers or contact details anywhere.",
    "patient_id is the study pseudonym; local_id is your own reference and stays at your centre.",
    "Values only: no formulas, no merged cells. A blank cell means 'not recorded'.",
    "Check the file with:  jakreg validate FILE     Import it with:  jakreg import FILE",
    "Sheets named derived_* are written by jakreg (graded labs, doses per kg) and ignored on import.",
]


XLSX_MAX_ROWS = 1_048_576  # rows in one xlsx worksheet, the header included (Excel's limit)


class WorkbookTooLargeError(JakregError):
    """A sheet has more rows than an xlsx worksheet can hold."""


def check_xlsx_rows(sheet: str, rows: int) -> None:
    """Raise when ``rows`` data rows (plus the header) do not fit in one xlsx worksheet."""
    if rows + 1 > XLSX_MAX_ROWS:
        raise WorkbookTooLargeError(
            f"the {sheet} sheet has {rows:,} rows, more than an xlsx worksheet holds "
            f"({XLSX_MAX_ROWS - 1:,} under the header; Excel would cut or refuse the file); "
            "write CSV instead: a folder with one file per sheet (--format csv, or an --out "
            "without .xlsx)"
        )


@dataclass(frozen=True)
class Workbook:
    """Sheets in order: name -> (header, rows)."""

    sheets: dict[str, Table]
    readme: list[str]


def format_cell(value: Any) -> str:
    """The one text form of a value in a CSV export (round-trips through the importer unchanged)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def empty_tables() -> dict[str, Table]:
    return {spec.name: (spec.columns, []) for spec in SHEETS}


def dictionary_table() -> Table:
    header = [
        "sheet",
        "column",
        "type",
        "unit",
        "allowed_values",
        "required",
        "default",
        "description",
    ]
    rows: list[list[Any]] = [
        [c.sheet, c.column, c.type, c.unit, ", ".join(c.allowed), "yes" if c.required else "no",
         c.default, c.description]
        for c in data_dictionary()
    ]  # fmt: skip
    return header, rows


def write_csv_folder(book: Workbook, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in book.sheets.items():
        path = folder / f"{name}.csv"
        text = csv_text([header, *([neutralise(format_cell(v)) for v in row] for row in rows)])
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write_xlsx(book: Workbook, path: Path, *, snapshot: dt.datetime | None = None) -> Path:
    from openpyxl import Workbook as XlBook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = XlBook()
    readme = wb.active
    readme.title = "README"
    for line in book.readme:
        readme.append([line])
    readme.column_dimensions["A"].width = 110
    readme["A1"].font = Font(bold=True, size=14)
    info = {(c.sheet, c.column): c for c in data_dictionary()}
    for name, (_header, rows) in book.sheets.items():
        check_xlsx_rows(name, len(rows))
    for name, (header, rows) in book.sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for index, column in enumerate(header, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = max(12, min(40, len(column) + 4))
            col = info.get((name, column))
            if col is None:
                continue
            if col.type.startswith("date"):
                ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
            if col.type.startswith("year-month") or col.type == "text":
                ws.column_dimensions[letter].number_format = "@"  # keep Excel from making dates
            if col.allowed and len(",".join(col.allowed)) < 250:
                dv = DataValidation(
                    type="list",
                    formula1='"' + ",".join(col.allowed) + '"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="jakreg",
                    error=f"Use one of: {', '.join(col.allowed)}",
                )
                dv.add(f"{letter}2:{letter}5000")
                ws.add_data_validation(dv)
        for row in rows:
            ws.append([_xlsx_value(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                _as_text(cell)
    header, rows = dictionary_table()
    ws = wb.create_sheet("data_dictionary")
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            _as_text(cell)
    ws.freeze_panes = "A2"
    when = snapshot or dt.datetime(2000, 1, 1)
    wb.properties.creator = f"jakreg {__version__}"
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_deterministic_zip(buf.getvalue(), when))
    return path


def _as_text(cell: Any) -> None:
    """Store a text value as text: openpyxl takes a str starting with '=' for a formula, which Excel
    would run (``=HYPERLINK(...)`` typed by any editor); a text cell is never evaluated."""
    if isinstance(cell.value, str):
        cell.data_type = "s"


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    return getattr(value, "value", value)


_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>")


def _deterministic_zip(data: bytes, when: dt.datetime) -> bytes:
    """Rewrite the xlsx zip with fixed timestamps (openpyxl stamps the save time into it)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = _MODIFIED.sub(
                    b'<dcterms:modified xsi:type="dcterms:W3CDTF">'
                    + stamp
                    + b"</dcterms:modified>",
                    content,
                )
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            dst.writestr(info, content)
    return out.getvalue()


def write_workbook(book: Workbook, out: Path, fmt: str) -> list[Path]:
    """Write as ``xlsx`` (one file) or ``csv`` (a folder with one file per sheet)."""
    if fmt == "xlsx":
        return [write_xlsx(book, out)]
    if fmt == "csv":
        return write_csv_folder(book, out)
    raise ValueError(f"unknown workbook format {fmt!r}")


def template_book(tables: dict[str, Table] | None = None, extra: Iterable[str] = ()) -> Workbook:
    return Workbook(sheets=tables or empty_tables(), readme=[*README_LINES, *extra])


def sort_rows(rows: Sequence[list[Any]]) -> list[list[Any]]:
    return sorted(rows, key=lambda r: [("" if v is None else format_cell(v)) for v in r])
