"""The methods section as data: rules with versions and status, tests with options, software, data hash."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from jakreg.rules.base import RuleInfo, RuleStatus

SOFTWARE = (
    "jakreg", "numpy", "scipy", "pandas", "lifelines", "sqlalchemy", "pydantic", "hpo3",
    "matplotlib", "jinja2", "weasyprint",
)  # fmt: skip


@dataclass(frozen=True)
class TestUsed:
    purpose: str
    test: str
    options: str

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "test": self.test, "options": self.options}


@dataclass(frozen=True)
class MethodsSection:
    rules: tuple[RuleInfo, ...]
    tests: tuple[TestUsed, ...]
    software: tuple[tuple[str, str], ...]
    data_sha256: str
    cutoff: str
    cutoff_source: str

    @property
    def provisional(self) -> tuple[RuleInfo, ...]:
        return tuple(r for r in self.rules if r.status is RuleStatus.PROVISIONAL)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "name": r.name,
                    "version": r.version,
                    "status": r.status.value,
                    "source": r.source,
                    "label": r.label(),
                }
                for r in self.rules
            ],
            "tests": [t.to_dict() for t in self.tests],
            "software": dict(self.software),
            "data_sha256": self.data_sha256,
            "cutoff": self.cutoff,
            "cutoff_source": self.cutoff_source,
        }


def unique_rules(rules: Iterable[RuleInfo]) -> tuple[RuleInfo, ...]:
    seen: dict[tuple[str, str], RuleInfo] = {}
    for r in rules:
        seen.setdefault((r.name, r.version), r)
    return tuple(seen.values())


def software_versions(names: Sequence[str] = SOFTWARE) -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version())]
    for name in names:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)
