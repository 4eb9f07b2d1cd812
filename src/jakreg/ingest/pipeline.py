"""One pass over an input: validate each sheet's rows, check them against what came before, hand them on.

Sheets are taken in the order of jakreg.model.sheets.SHEETS (a sheet refers only to sheets before it) and
their rows in slices, so a sheet of millions of rows is never held in memory: each slice is validated,
checked (jakreg.ingest.checks.Checker) and, while no error has been found, given to ``sink`` (the
importer writes it inside its transaction, which is rolled back if any error turns up later).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Protocol

from jakreg.ingest.checks import DUPLICATES_BY_DATABASE, Checker, Existing
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.read import RawWorkbook
from jakreg.ingest.validate import ProgressFn, StudyRows, ValidRow, prepare_sheets, validate_rows
from jakreg.ingest.vocabularies import HpoLookup
from jakreg.model.sheets import SheetSpec

SLICE_ROWS = 5000


class Sink(Protocol):
    """Where checked rows go (jakreg.store.repository.StudyWriter)."""

    def write(self, spec: SheetSpec, rows: list[ValidRow], file: str) -> None:
        """Write the slice; report keys given twice for sheets in DUPLICATES_BY_DATABASE."""

    def find_duplicates(self, spec: SheetSpec, rows: list[ValidRow], file: str) -> None:
        """Report the slice's keys of DUPLICATES_BY_DATABASE sheets that were written before."""


def _slices(rows: Iterable[ValidRow], size: int) -> Iterator[list[ValidRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def run(
    workbook: RawWorkbook,
    log: ProblemLog,
    *,
    today: dt.date,
    existing: Existing | None = None,
    centre: str | None = None,
    progress: ProgressFn | None = None,
    sink: Sink | None = None,
    keep_rows: bool = True,
    slice_rows: int | None = None,
    isolate_hpo: bool = False,
) -> StudyRows:
    """Validate and check every sheet; returns the counts (and, with ``keep_rows``, the valid rows).

    ``isolate_hpo`` looks HPO ids up in a helper process (jakreg.ingest.vocabularies.HpoLookup): worth
    its start-up for a large input, whose import then never holds the ontology's 200 MB."""
    study = StudyRows(file=workbook.path.name)
    prepared = prepare_sheets(workbook, log)
    for sheet in prepared:
        study.files[sheet.spec.name] = sheet.raw.file
    checker = Checker.for_study(
        study, log, existing, centre=centre, hpo=HpoLookup(isolated=isolate_hpo)
    )
    size = slice_rows or SLICE_ROWS
    try:
        for sheet in prepared:
            spec = sheet.spec
            failed = study.failed_keys.setdefault(spec.name, set())
            kept = study.sheets.setdefault(spec.name, [])
            file = sheet.raw.file
            for rows in _slices(validate_rows(sheet, log, today, progress, failed), size):
                study.counts[spec.name] = study.counts.get(spec.name, 0) + len(rows)
                # While the sink writes, the database's unique index finds keys given twice in the
                # big sheets; once an error stops the writing, the checker keeps those keys itself.
                by_db = sink is not None and log.ok and spec.name in DUPLICATES_BY_DATABASE
                checker.check(spec, rows, duplicates=not by_db)
                if keep_rows:
                    kept.extend(rows)
                if sink is not None and log.ok:
                    sink.write(spec, rows, file)
                elif sink is not None and spec.name in DUPLICATES_BY_DATABASE:
                    if by_db:  # this slice's keys were left to the writer, which did not get them
                        checker.duplicates(spec, rows, which="without a blank")
                    sink.find_duplicates(spec, rows, file)
            checker.sheet_done(spec.name)
    finally:
        checker.close()
    return study
