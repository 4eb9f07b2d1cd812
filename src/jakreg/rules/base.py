"""What every clinical rule says about itself: name, version, source and how far it is verified."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from jakreg.errors import JakregError


class RuleStatus(StrEnum):
    """How far a rule's content is backed by a source that was actually read."""

    VERIFIED = "verified"  # taken from a source read for this project
    PROVISIONAL = "provisional"  # plausible, from a secondary or partial source; must be checked
    CONFIGURABLE = "configurable"  # a convention chosen here; the user may change it


@dataclass(frozen=True)
class RuleInfo:
    """Name, version, source and status of a rule, printed in every report's methods."""

    name: str
    version: str
    source: str
    status: RuleStatus

    def label(self) -> str:
        """One line for a methods section, e.g. 'CTCAE lab grading 5.0 (verified; source: ...)'."""
        return f"{self.name} {self.version} ({self.status.value}; source: {self.source})"


@runtime_checkable
class RuleOutcome(Protocol):
    """Anything a rule returns: it can name the rule that produced it and the inputs it used."""

    @property
    def info(self) -> RuleInfo: ...

    @property
    def inputs(self) -> Mapping[str, object]: ...


class RuleResultMixin:
    """Gives a result dataclass with an `info` field the flat attributes reports print."""

    info: RuleInfo

    @property
    def rule(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def source(self) -> str:
        return self.info.source

    @property
    def status(self) -> RuleStatus:
        return self.info.status


class RuleError(JakregError):
    """A clinical rule was given something it cannot work with."""


class InvalidValueError(RuleError):
    """A number a rule needs is impossible (negative count, zero reference limit, not finite)."""


def frozen_inputs(**values: object) -> Mapping[str, object]:
    """A read-only record of the inputs a rule used, so a result cannot be edited after the fact."""
    return MappingProxyType(dict(values))


def require_finite(name: str, value: float, *, positive: bool = False) -> float:
    """Reject NaN/infinite (and, if asked, non-positive) numbers with a message naming the input."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise InvalidValueError(f"{name} must be greater than 0, got {value!r}")
    return float(value)
