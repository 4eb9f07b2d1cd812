"""Refuse a spreadsheet that would cost too much to parse (a decompression bomb), before parsing it.

An .xlsx/.xlsm/.ods file is a zip archive: a small file can inflate to gigabytes or hold a million tiny
rows, and the spreadsheet reader would spend minutes of CPU and hundreds of MB on it before any row is
judged. So the zip's central directory (the inflated size of every member) is read first, then each
worksheet is streamed once, in constant memory, to count its rows; both against limits, with a located
problem when a limit is passed. Nothing else of the file is read.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from jakreg.ingest.problems import Problem, ProblemLog

ZIP_SUFFIXES = {".xlsx", ".xlsm", ".ods"}
_SHEET_MEMBER = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_ROW_TAGS = {".ods": re.compile(rb"<table:table-row[\s>/]")}
_XLSX_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_RATIO_FLOOR = 10 * 1024 * 1024  # members inflating to less than this are never judged by ratio


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one spreadsheet may inflate to, and how many rows one sheet may hold."""

    max_inflated_bytes: int = 1024 * 1024 * 1024  # 1 GiB over all members
    max_ratio: float = 200.0  # inflated / compressed size of one member (above _RATIO_FLOOR)
    max_rows_per_sheet: int = 1_048_576  # Excel's own limit: a sheet cannot legitimately hold more


CLI_LIMITS = ArchiveLimits()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def check_archive(path: Path, log: ProblemLog, limits: ArchiveLimits = CLI_LIMITS) -> bool:
    """True when ``path`` (a zip spreadsheet) is within ``limits``; otherwise the problems go to ``log``.

    Files that are not zip spreadsheets pass (the reader judges them); a zip that cannot be opened
    passes too, so the spreadsheet reader gives its own "not a readable spreadsheet" problem.
    """
    suffix = path.suffix.lower()
    if suffix not in ZIP_SUFFIXES:
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            problem = _sizes(path.name, members, limits)
            if problem is not None:
                log.add(problem)
                return False
            return _rows(path.name, zf, members, suffix, limits, log)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return True


def _sizes(name: str, members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> Problem | None:
    total = sum(m.file_size for m in members)
    if total > limits.max_inflated_bytes:
        return Problem(name, None, None, None, _mb(total),
                       f"the workbook unpacks to {_mb(total)}, more than the "
                       f"{_mb(limits.max_inflated_bytes)} jakreg reads (a compressed file this "
                       "large is refused before it is opened)",
                       "split the workbook (one file per centre, or CSV files per sheet)")  # fmt: skip
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
            return Problem(name, None, None, None, m.filename,
                           f"the part {m.filename} unpacks {ratio:,.0f} times its packed size "
                           f"({_mb(m.file_size)}), which no real workbook does",
                           "re-save the workbook from your spreadsheet program; if it is real, "
                           "send it as CSV files")  # fmt: skip
    return None


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member -> sheet name as the workbook shows it (the member name when unknown)."""
    names: dict[str, str] = {}
    try:
        workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return names
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {i: t for t, i in re.findall(r'Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    for sheet_name, rid in re.findall(r'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(rid, "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        names[member] = sheet_name
    return names


def _rows(
    name: str, zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], suffix: str,
    limits: ArchiveLimits, log: ProblemLog,
) -> bool:  # fmt: skip
    if suffix == ".ods":
        sheets = {m.filename: "content" for m in members if m.filename == "content.xml"}
        tag = _ROW_TAGS[".ods"]
    else:
        shown = _sheet_names(zf)
        sheets = {
            m.filename: shown.get(m.filename, m.filename)
            for m in members
            if _SHEET_MEMBER.match(m.filename)
        }
        tag = _XLSX_ROW
    ok = True
    for member, sheet in sheets.items():
        rows = _count(zf, member, tag, limits.max_rows_per_sheet)
        if rows > limits.max_rows_per_sheet:
            log.add(Problem(name, sheet, None, None, f"more than {limits.max_rows_per_sheet:,} rows",
                            f"the sheet has more than {limits.max_rows_per_sheet:,} rows, the most "
                            "jakreg reads from one sheet here",
                            "split the sheet over several files (e.g. one per centre or per year), "
                            "or import it as CSV with jakreg import on the command line"))  # fmt: skip
            ok = False
    return ok


def _count(zf: zipfile.ZipFile, member: str, tag: re.Pattern[bytes], stop_above: int) -> int:
    """Row elements in one sheet, streamed; stops counting once past ``stop_above``."""
    count = 0
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(1 << 20):
            data = tail + chunk
            cut = max(len(data) - 16, 0)  # a tag starting in the last 16 bytes is counted next time
            count += sum(1 for m in tag.finditer(data) if m.start() < cut)
            tail = data[cut:]
            if count > stop_above:
                return count
    return count + len(tag.findall(tail))
