"""A foreign input turned into raw workbook sheets, remembering where every row and cell came from.

The REDCap and phenopacket readers build a ``Converted``: the ``RawWorkbook`` that jakreg's own validation
reads unchanged, plus the origin of each row, so a problem found on sheet/row/column can be told in the
input's own words (REDCap CSV row and field, phenopacket file and JSON path).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jakreg.ingest.problems import Problem
from jakreg.ingest.read import RawSheet, RawWorkbook
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME


@dataclass(frozen=True)
class Origin:
    """Where one converted row came from."""

    file: str
    where: str | None  # REDCap instrument, or None for a phenopacket
    row: int | None  # REDCap CSV row (header = 1), or None for a phenopacket
    columns: dict[str, str] = field(default_factory=dict)  # jakreg column -> field / JSON path
    default_column: str | None = None  # what to blame when the column is not known


@dataclass
class SheetBuilder:
    """Rows of one jakreg sheet as they are converted, numbered 2, 3, ... like a spreadsheet."""

    name: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    origins: dict[int, Origin] = field(default_factory=dict)

    def add(self, values: dict[str, Any], origin: Origin) -> dict[str, Any]:
        number = len(self.rows) + 2
        self.rows.append((number, values))
        self.origins[number] = origin
        return values


@dataclass
class Converted:
    """The converted input: sheets for jakreg's validator and the origins for its problems."""

    path: Path
    sheets: dict[str, SheetBuilder] = field(default_factory=dict)
    extra: list[RawSheet] = field(default_factory=list)  # sheets read as they are (centres.csv)
    label: str = ""  # the file name shown for problems without an origin

    def sheet(self, name: str) -> SheetBuilder:
        if name not in self.sheets:
            self.sheets[name] = SheetBuilder(name)
        return self.sheets[name]

    @property
    def workbook(self) -> RawWorkbook:
        sheets = list(self.extra)
        for spec in SHEETS:
            built = self.sheets.get(spec.name)
            if built is None or not built.rows:
                continue
            sheets.append(
                RawSheet(self.label or self.path.name, spec.name, spec.columns, _cells(built))
            )
        return RawWorkbook(self.path, sheets)

    def relabel(self, problem: Problem) -> Problem:
        """The problem located in the input's own terms (file, instrument/JSON path, row, field)."""
        built = self.sheets.get(problem.sheet or "")
        if built is None or problem.row is None or problem.row not in built.origins:
            return problem
        origin = built.origins[problem.row]
        column = problem.column
        if column is not None:
            names = [origin.columns.get(c.strip(), c.strip()) for c in column.split(",")]
            column = ", ".join(names)
        elif origin.default_column is not None:
            column = origin.default_column
        return dataclasses.replace(
            problem, file=origin.file, sheet=origin.where, row=origin.row, column=column
        )


def _cells(built: SheetBuilder) -> Iterator[tuple[int, list[Any]]]:
    columns = SHEETS_BY_NAME[built.name].columns
    for number, values in built.rows:
        yield number, [values.get(c) for c in columns]
