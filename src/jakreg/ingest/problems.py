"""Problems found in an input file, each located to file, sheet, row and column, with a suggested fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from jakreg.errors import JakregError


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class Problem:
    file: str
    sheet: str | None
    row: int | None  # 1-based, as the spreadsheet shows it (the header is row 1)
    column: str | None
    value: str | None
    message: str
    fix: str
    severity: Severity = Severity.error

    def location(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{self.location()}: {self.message}{value}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def show_value(value: Any) -> str | None:
    """The offending value as the user would recognise it; long values are cut."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class ProblemLog:
    """Collects every problem; keeps the first ``limit`` and counts the rest so a huge bad file stays cheap."""

    limit: int = 1000
    kept: list[Problem] = field(default_factory=list)
    n_errors: int = 0
    n_warnings: int = 0

    def add(self, problem: Problem) -> None:
        if problem.severity is Severity.error:
            self.n_errors += 1
        else:
            self.n_warnings += 1
        if len(self.kept) < self.limit:
            self.kept.append(problem)

    @property
    def n_omitted(self) -> int:
        return self.n_errors + self.n_warnings - len(self.kept)

    @property
    def ok(self) -> bool:
        """The strict policy: no errors at all (warnings are allowed)."""
        return self.n_errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": self.n_errors,
            "warnings": self.n_warnings,
            "omitted": self.n_omitted,
            "problems": [p.to_dict() for p in self.kept],
        }


class ValidationFailed(JakregError):
    """The input has errors; nothing was written."""

    def __init__(self, log: ProblemLog) -> None:
        super().__init__(f"{log.n_errors} error(s) found; nothing was written")
        self.log = log
