"""Read a study workbook (.xlsx/.xls/.ods) or a folder of CSV files into raw sheets of located cells.

Nothing here knows the study model; file-level problems (unreadable, wrong encoding, formulas, merged cells)
go to the problem log with the file and sheet they belong to.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from jakreg.ingest.archive import CLI_LIMITS, ArchiveLimits, check_archive
from jakreg.ingest.problems import Problem, ProblemLog, Severity
from jakreg.model.cells import unquote

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
IGNORED_SHEETS = {"readme", "data_dictionary"}

Cells = list[Any]


@dataclass
class RawSheet:
    file: str
    name: str
    header: Cells
    rows: Iterator[tuple[int, Cells]]  # (row number as the spreadsheet shows it, cells)
    formula_cells: dict[int, list[int]] = field(default_factory=dict)  # row -> 0-based columns


@dataclass
class RawWorkbook:
    path: Path
    sheets: list[RawSheet]


def read_workbook(path: Path, log: ProblemLog, limits: ArchiveLimits = CLI_LIMITS) -> RawWorkbook:
    """Open whatever the user gave; every problem goes to ``log`` and unreadable parts are skipped.

    A spreadsheet is first checked against ``limits`` (inflated size, rows per sheet) without parsing.
    """
    name = path.name or str(path)
    if not path.exists():
        log.add(_file_problem(str(path), "the file or folder does not exist", "check the path"))
        return RawWorkbook(path, [])
    if path.is_dir():
        return RawWorkbook(path, list(_read_csv_folder(path, log)))
    if path.suffix.lower() == ".csv":
        sheet = _read_csv(path, log)
        return RawWorkbook(path, [sheet] if sheet else [])
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        if not check_archive(path, log, limits):
            return RawWorkbook(path, [])  # a decompression bomb: refused before it is parsed
        return RawWorkbook(path, list(_read_excel(path, log)))
    log.add(
        _file_problem(
            name,
            f"jakreg cannot read {path.suffix or 'a file without extension'}",
            "give a study workbook (.xlsx) or a folder of CSV files named after the sheets",
        )
    )
    return RawWorkbook(path, [])


def _file_problem(file: str, message: str, fix: str, sheet: str | None = None) -> Problem:
    return Problem(file, sheet, None, None, None, message, fix, Severity.error)


# --- CSV ---------------------------------------------------------------------------------------------


def _read_csv_folder(folder: Path, log: ProblemLog) -> Iterator[RawSheet]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    if not files:
        log.add(
            _file_problem(
                folder.name,
                "the folder holds no CSV files",
                "put one CSV file per sheet in it (patients.csv, courses.csv, ...)",
            )
        )
    for f in files:
        sheet = _read_csv(f, log)
        if sheet is not None:
            yield sheet


def _read_csv(path: Path, log: ProblemLog) -> RawSheet | None:
    """A CSV sheet whose rows are read as they are validated (the file is never held whole)."""
    sheet = path.stem.lower()
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        blank = not head.strip() and path.stat().st_size <= len(head)
    except OSError as exc:
        log.add(_file_problem(path.name, f"cannot read the file ({exc.strerror})", "check it"))
        return None
    if blank:
        log.add(_file_problem(path.name, "the file is empty", "add the header row", sheet))
        return None
    if b"\x00" in head:
        log.add(
            _file_problem(
                path.name,
                "this is not a text CSV file (it holds binary data)",
                "export the sheet as 'CSV UTF-8' from your spreadsheet program",
                sheet,
            )
        )
        return None
    bad = _first_decoding_error(path)
    if bad is not None:
        line, byte, shown = bad
        log.add(
            Problem(
                path.name,
                sheet,
                line,
                None,
                shown,
                f"the file is not UTF-8 (byte {byte:#04x} on line {line})",
                "save the sheet as 'CSV UTF-8' (Excel: Save As > CSV UTF-8)",
            )
        )
        return None
    fh_text = path.open("r", encoding="utf-8-sig", newline="")
    first_line = fh_text.readline()
    fh_text.seek(0)
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(fh_text, delimiter=delimiter)
    header = next(reader, [])
    decimal_comma = delimiter == ";"

    def rows() -> Iterator[tuple[int, Cells]]:
        try:
            for i, cells in enumerate(reader, start=2):
                if "'" in "".join(cells):  # one look per row: only a cell with ' can be guarded
                    cells = [unquote(c) for c in cells]  # jakreg's CSV formula-injection guard
                if decimal_comma:
                    cells = [_decimal_comma(c) for c in cells]
                yield i, list(cells)
        finally:
            fh_text.close()

    return RawSheet(path.name, sheet, list(header), rows())


def _first_decoding_error(path: Path) -> tuple[int, int, str] | None:
    """(line, byte, the line as far as readable) of the first byte that is not UTF-8, reading the
    file in pieces (constant memory); None when the whole file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes fed to the decoder before this piece
    lines = 1
    with path.open("rb") as fh:
        while True:
            piece = fh.read(1 << 20)
            final = not piece
            try:
                decoder.decode(piece, final)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(piece)  # bytes the decoder kept from before
                position = offset - pending + exc.start
                fh.seek(max(0, position - 4096))
                around = fh.read(8192)
                at = position - max(0, position - 4096)
                start = around.rfind(b"\n", 0, at) + 1
                end = around.find(b"\n", at)
                line = lines + piece[: max(0, exc.start - pending)].count(b"\n")
                shown = around[start : end if end >= 0 else None][:80]
                return line, exc.object[exc.start], shown.decode("utf-8", errors="replace").strip()
            if final:
                return None
            lines += piece.count(b"\n")
            offset += len(piece)


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _decimal_comma(cell: str) -> str:
    # Semicolon CSVs come from locales that write 3,5 for 3.5.
    return cell.replace(",", ".") if _DECIMAL_COMMA.match(cell.strip()) else cell


# --- Excel -------------------------------------------------------------------------------------------


def _read_excel(path: Path, log: ProblemLog) -> Iterator[RawSheet]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every kind of bad file
        log.add(
            _file_problem(
                path.name,
                f"this is not a readable spreadsheet ({type(exc).__name__}: {exc})",
                "open it in your spreadsheet program and save it as .xlsx",
            )
        )
        return
    formulas = _formula_cells(path) if path.suffix.lower() in {".xlsx", ".xlsm"} else {}
    if not wb.sheet_names:
        log.add(_file_problem(path.name, "the workbook has no sheets", "use jakreg template"))
    for name in wb.sheet_names:
        if name.strip().lower() in IGNORED_SHEETS:
            continue
        try:
            sheet = wb.get_sheet_by_name(name)
            merged = list(sheet.merged_cell_ranges or [])
        except Exception as exc:
            log.add(_file_problem(path.name, f"cannot read the sheet ({exc})", "re-save it", name))
            continue
        for (r0, c0), (r1, c1) in merged:
            log.add(
                Problem(
                    path.name,
                    name,
                    r0 + 1,
                    None,
                    f"{_col_letter(c0)}{r0 + 1}:{_col_letter(c1)}{r1 + 1}",
                    "the sheet has merged cells",
                    "unmerge them and write the value in every cell",
                )
            )
        start_row = sheet.start[0] if sheet.start else 0
        start_col = sheet.start[1] if sheet.start else 0
        iterator = iter(sheet.iter_rows())
        header: Cells | None = None
        header_row = start_row + 1
        for header_candidate in iterator:
            if any(c not in ("", None) for c in header_candidate):
                header = [""] * start_col + list(header_candidate)
                break
            header_row += 1
        if header is None:
            log.add(_file_problem(path.name, "the sheet is empty", "add the header row", name))
            continue

        def rows(
            it: Iterator[Cells] = iterator, first: int = header_row + 1, pad: int = start_col
        ) -> Iterator[tuple[int, Cells]]:
            for i, cells in enumerate(it, start=first):
                yield i, [""] * pad + list(cells)

        yield RawSheet(path.name, name, header, rows(), formulas.get(name, {}))


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_FORMULA = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?>\s*<f[\s>/]')
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _formula_cells(path: Path) -> dict[str, dict[int, list[int]]]:
    """Cells holding formulas, per sheet name: calamine shows only their cached values."""
    found: dict[str, dict[int, list[int]]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))  # noqa: S314 (own zip, not a URL)
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
            targets = {
                r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)
            }
            for s in wb.findall("m:sheets/m:sheet", _NS):
                target = targets.get(s.get(f"{{{_NS['r']}}}id"), "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                cells: dict[int, list[int]] = {}
                tail = b""
                with zf.open(member) as fh:
                    while chunk := fh.read(1 << 22):
                        data = tail + chunk
                        for m in _FORMULA.finditer(data):
                            row = int(m.group(2))
                            col = _col_index(m.group(1).decode())
                            if col not in cells.setdefault(row, []):
                                cells[row].append(col)
                        tail = data[-512:]
                found[s.get("name", "")] = cells
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}  # not a standard xlsx layout: calamine has already judged it readable
    return found
