"""Stream the synthetic study to a CSV folder or an xlsx workbook, one patient at a time.

Every sheet's file stays open while patients are generated, so memory does not grow with N. The result is
written under a temporary name beside ``out`` and renamed at the end: an interrupted run leaves no
half-written study where a user would import it.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from jakreg.errors import JakregError
from jakreg.export.workbook import WorkbookTooLargeError, check_xlsx_rows
from jakreg.model.sheets import SHEETS
from jakreg.synth.generate import (
    DEFAULT_CUTOFF,
    SYNTHETIC_LABEL,
    Row,
    StudyPlan,
    centre_rows,
    iter_patients,
    plan_study,
)

FORMATS = ("csv", "xlsx")
MAX_CENTRES = 999  # centre codes are SYN-001 ... SYN-999

ProgressFn = Callable[[int], None]


class SynthError(JakregError):
    """The synthetic study cannot be written as asked."""


@dataclass
class SynthSummary:
    """What was written: where, how much, and from which seed."""

    out: Path
    fmt: str
    patients: int
    centres: int
    seed: int
    cutoff: dt.date
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "format": self.fmt,
            "patients": self.patients,
            "centres": self.centres,
            "seed": self.seed,
            "cutoff": self.cutoff.isoformat(),
            "rows": dict(self.rows),
            "total_rows": self.total_rows,
        }


def readme_lines(plan: StudyPlan, patients: int) -> list[str]:
    return [
        SYNTHETIC_LABEL + ".",
        f"Seed {plan.seed}, {patients} patients, {len(plan.centres)} centres, "
        f"data cut-off {plan.cutoff.isoformat()}.",
        "Made to test and measure jakreg at scale; never analyse or cite it as clinical data.",
        "Variants are published STAT1 GOF changes on NM_007315.4; everything per patient is invented.",
    ]


class _SheetWriter(Protocol):
    def write(self, sheet: str, row: Row) -> None: ...


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _CsvWriter:
    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.writers: dict[str, Any] = {}
        self.columns: dict[str, list[str]] = {}
        for spec in SHEETS:
            fh: IO[str] = stack.enter_context(
                (folder / f"{spec.name}.csv").open("w", newline="", encoding="utf-8")
            )
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(spec.columns)
            self.writers[spec.name] = writer
            self.columns[spec.name] = spec.columns

    def write(self, sheet: str, row: Row) -> None:
        self.writers[sheet].writerow([_cell(row.get(c)) for c in self.columns[sheet]])


class _XlsxWriter:
    def __init__(self, readme: list[str]) -> None:
        from openpyxl import Workbook

        # write_only: each sheet streams to its own temporary file, so rows are not kept in memory.
        self.book = Workbook(write_only=True)
        sheet = self.book.create_sheet("README")
        for line in readme:
            sheet.append([line])
        self.sheets: dict[str, Any] = {}
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, int] = {}
        for spec in SHEETS:
            ws = self.book.create_sheet(spec.name)
            ws.append(spec.columns)
            self.sheets[spec.name] = ws
            self.columns[spec.name] = spec.columns

    def write(self, sheet: str, row: Row) -> None:
        count = self.rows[sheet] = self.rows.get(sheet, 0) + 1
        try:
            check_xlsx_rows(sheet, count)
        except WorkbookTooLargeError as exc:
            raise SynthError(f"{exc} (an xlsx holds about 7,000 synthetic patients)") from None
        self.sheets[sheet].append([row.get(c) for c in self.columns[sheet]])

    def save(self, path: Path) -> None:
        self.book.save(str(path))

    def discard(self) -> None:
        """Close the sheets' temporary files of an unfinished workbook (nothing is saved)."""
        for ws in self.book.worksheets:
            with suppress(Exception):
                ws.close()


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary path beside ``out``, renamed to ``out`` only when the block succeeds."""
    tmp = out.with_name(f".{out.name}.partial")
    _remove(tmp)
    try:
        yield tmp
        tmp.rename(out)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _check(
    out: Path, *, patients: int, centres: int, fmt: str, cutoff: dt.date, first: int
) -> None:
    if fmt not in FORMATS:
        raise SynthError(f"unknown format {fmt!r}; use csv (a folder) or xlsx (one workbook)")
    if patients < 1:
        raise SynthError("--patients must be at least 1")
    if first < 0 or first + patients > 999_999:
        raise SynthError("patient numbers run from 1 to 999999; lower --patients")
    if not 1 <= centres <= MAX_CENTRES:
        raise SynthError(f"--centres must be between 1 and {MAX_CENTRES}")
    if cutoff > dt.date.today():
        raise SynthError(f"the data cut-off {cutoff.isoformat()} is in the future")
    if fmt == "xlsx" and out.suffix.lower() != ".xlsx":
        raise SynthError(f"{out} should end in .xlsx for an xlsx workbook")
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise SynthError(f"{out} already exists; give a new path (nothing is overwritten)")
    if not out.parent.exists():
        raise SynthError(f"the folder {out.parent} does not exist")


def write_synthetic(
    out: Path,
    *,
    patients: int,
    centres: int,
    seed: int,
    fmt: str = "csv",
    cutoff: dt.date = DEFAULT_CUTOFF,
    first: int = 0,
    progress: ProgressFn | None = None,
) -> SynthSummary:
    """Write a synthetic study of ``patients`` patients at ``centres`` centres, the same for the same seed.

    ``fmt`` is ``csv`` (``out`` is a folder of one CSV per sheet, with a README.md) or ``xlsx`` (``out`` is
    a workbook with a README sheet). ``first`` numbers the patients from that index (two studies with the
    same seed and disjoint ranges hold different patients at the same centres). ``progress`` is called
    with the number of patients written so far.
    """
    _check(out, patients=patients, centres=centres, fmt=fmt, cutoff=cutoff, first=first)
    if out.is_dir():
        out.rmdir()  # empty (checked above); the finished study is renamed into its place
    plan = plan_study(centres=centres, seed=seed, cutoff=cutoff)
    summary = SynthSummary(out, fmt, patients, centres, seed, cutoff)
    summary.rows = {spec.name: 0 for spec in SHEETS}
    readme = readme_lines(plan, patients)
    with _staging(out) as tmp, ExitStack() as stack:
        writer: _SheetWriter
        xlsx: _XlsxWriter | None = None
        if fmt == "csv":
            tmp.mkdir()
            (tmp / "README.md").write_text(
                "# Synthetic study\n\n" + "\n\n".join(readme) + "\n", encoding="utf-8"
            )
            writer = _CsvWriter(tmp, stack)
        else:
            xlsx = _XlsxWriter(readme)
            stack.callback(xlsx.discard)
            writer = xlsx
        for row in centre_rows(plan):
            writer.write("centres", row)
            summary.rows["centres"] += 1
        for n, rows in enumerate(iter_patients(plan, patients, first), start=1):
            for spec in SHEETS:
                for row in rows.get(spec.name, ()):
                    writer.write(spec.name, row)
                summary.rows[spec.name] += len(rows.get(spec.name, ()))
            if progress is not None and n % 1000 == 0:
                progress(n)
        if xlsx is not None:
            xlsx.save(tmp)
        stack.close()
    return summary
