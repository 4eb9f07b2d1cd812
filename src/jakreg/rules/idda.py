"""Score definition files (IDDA and the like): format, checker, loader and evaluator.

A definition is a YAML (or JSON) file:

    format: jakreg-score-definition/1
    name: idda_provisional            # identifier used to load it
    title: IDDA-like total (provisional structure)
    version: "0.1"
    source: where the items and formula come from
    status: provisional               # verified | provisional | configurable
    items:                            # every input the formula needs
      - id: organ_1
        label: free text
        levels: [0, 1, 2, 3]          # allowed values, or
        range: {min: 0, max: 100}     # an inclusive range (either bound optional); neither = any
    terms:                            # each: min(cap, multiply × Σ weight×item / divide_by)
      - id: organ_burden
        sum: [organ_1, {item: organ_2, weight: 2}]
        multiply: 150                 # default 1
        divide_by: performance_index  # optional item id
        cap: 4                        # optional
    total: [organ_burden]             # the total is the sum of these terms

A missing item never counts as 0: the result is "incomplete (k of n items)" and the total None.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jakreg.rules.base import (
    RuleError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
    require_finite,
)

FORMAT = "jakreg-score-definition/1"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DATA = "data"


class DefinitionError(RuleError):
    """A score definition cannot be found or is not valid; `problems` lists why."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        lines = [message, *(f"  {p}" for p in problems)]
        super().__init__("\n".join(lines))
        self.problems = tuple(problems)


class UnknownItemError(RuleError):
    """Values were given for items the definition does not have."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition file, with where it is."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class ItemDef:
    id: str
    label: str
    levels: tuple[float, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: float) -> str | None:
        """Why a value is not allowed for this item, or None when it is."""
        if self.levels is not None and value not in self.levels:
            allowed = ", ".join(f"{x:g}" for x in self.levels)
            return f"{self.id} = {value:g} is not one of the allowed levels ({allowed})"
        if self.minimum is not None and value < self.minimum:
            return f"{self.id} = {value:g} is below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"{self.id} = {value:g} is above the maximum {self.maximum:g}"
        return None


@dataclass(frozen=True)
class TermDef:
    id: str
    label: str
    weights: tuple[tuple[str, float], ...]
    multiply: float = 1.0
    divide_by: str | None = None
    cap: float | None = None

    def describe(self) -> str:
        """The term as a formula, e.g. 'min(0.1 × hospital_days, 4)'."""
        parts = [i if w == 1 else f"{w:g} × {i}" for i, w in self.weights]
        s = parts[0] if len(parts) == 1 else f"sum({' + '.join(parts)})"
        if self.multiply != 1:
            s = f"{self.multiply:g} × {s}" if len(parts) == 1 else f"{s} × {self.multiply:g}"
        if self.divide_by:
            s = f"{s} / {self.divide_by}"
        return f"min({s}, {self.cap:g})" if self.cap is not None else s


@dataclass(frozen=True)
class ScoreDefinition:
    name: str
    title: str
    version: str
    source: str
    status: RuleStatus
    items: tuple[ItemDef, ...]
    terms: tuple[TermDef, ...]
    total: tuple[str, ...]
    origin: str = ""

    @property
    def info(self) -> RuleInfo:
        return RuleInfo(
            name=self.title, version=self.version, source=self.source, status=self.status
        )

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def formula(self) -> str:
        """The total as one readable formula."""
        by_id = {t.id: t for t in self.terms}
        return " + ".join(by_id[t].describe() for t in self.total)


@dataclass(frozen=True)
class ScoreResult(RuleResultMixin):
    """A computed total, or why there is none (incomplete or invalid item values)."""

    definition: str
    total: float | None
    state: str  # "complete" | "incomplete" | "invalid"
    items_present: int
    items_total: int
    missing: tuple[str, ...]
    problems: tuple[str, ...]
    term_values: Mapping[str, float]
    info: RuleInfo
    inputs: Mapping[str, object]

    @property
    def reason(self) -> str:
        if self.state == "complete":
            return f"computed from all {self.items_total} items"
        if self.state == "incomplete":
            return f"incomplete ({self.items_present} of {self.items_total} items)"
        return "invalid item values: " + "; ".join(self.problems)

    @property
    def label(self) -> str:
        """E.g. 'IDDA-like total (provisional structure) 0.1: 15.99' for reports."""
        shown = f"{self.total:.4g}" if self.total is not None else self.reason
        return f"{self.info.name} {self.info.version}: {shown}"


@dataclass(frozen=True)
class ReportedTotal(RuleResultMixin):
    """A total copied from a source (most retrospective data), labelled with its definition."""

    value: float
    definition_name: str
    definition_version: str | None
    info: RuleInfo
    inputs: Mapping[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        version = self.definition_version or "version not stated"
        return f"{self.value:g} ({self.definition_name}, {version}; as reported)"


def reported_total(
    value: float,
    *,
    definition_name: str,
    definition_version: str | None = None,
    source: str = "as reported by the centre or publication",
) -> ReportedTotal:
    """Wrap a reported total so every output names the definition it was reported under."""
    v = require_finite("reported total", value)
    info = RuleInfo(
        name=f"{definition_name} total as reported",
        version=definition_version or "unknown",
        source=source,
        status=RuleStatus.PROVISIONAL,
    )
    return ReportedTotal(
        value=v,
        definition_name=definition_name,
        definition_version=definition_version,
        info=info,
        inputs=frozen_inputs(value=value, definition_name=definition_name),
    )


# ---- parsing and checking -------------------------------------------------------------------


class _Checker:
    """Collects problems while reading a parsed definition; knows YAML lines when it has them."""

    def __init__(self, where: str, root: yaml.Node | None) -> None:
        self.where = where
        self.root = root
        self.problems: list[Problem] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        line = self._line(path)
        prefix = f"{self.where}:{line}" if line is not None else self.where
        self.problems.append(Problem(f"{prefix}: {loc or '(top)'}", message))

    def _line(self, path: tuple[str | int, ...]) -> int | None:
        node = self.root
        for p in path:
            if isinstance(node, yaml.MappingNode) and isinstance(p, str):
                nxt = [v for k, v in node.value if getattr(k, "value", None) == p]
                if not nxt:
                    break
                node = nxt[0]
            elif isinstance(node, yaml.SequenceNode) and isinstance(p, int):
                if p >= len(node.value):
                    break
                node = node.value[p]
            else:
                break
        return None if node is None else node.start_mark.line + 1


def _number(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _parse(data: object, ck: _Checker) -> ScoreDefinition | None:
    if not isinstance(data, dict):
        ck.add((), "a definition is a mapping with name, version, source, status, items, terms")
        return None
    if data.get("format") != FORMAT:
        ck.add(("format",), f"must be {FORMAT!r}, got {data.get('format')!r}")
    text: dict[str, str] = {}
    for key in ("name", "version", "source", "status"):
        v = data.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and key == "version":
            v = str(v)  # YAML reads 2.1 as a number; a version is text
        if not isinstance(v, str) or not v.strip():
            ck.add((key,), "required text is missing or empty")
        else:
            text[key] = v
    if "name" in text and not _ID.match(text["name"]):
        ck.add(("name",), "use lower-case letters, digits and _ (it is how the file is loaded)")
    status: RuleStatus | None = None
    if "status" in text:
        try:
            status = RuleStatus(text["status"])
        except ValueError:
            ck.add(("status",), "must be one of: verified, provisional, configurable")
    title = data.get("title", text.get("name", ""))
    indexed_items = _parse_items(data.get("items"), ck)
    items = [i for _, i in indexed_items]
    indexed_terms = _parse_terms(data.get("terms"), ck, {i.id: i for i in items})
    terms = [t for _, t in indexed_terms]
    total = _parse_total(data.get("total"), ck, {t.id for t in terms})
    used = {i for t in terms for i, _ in t.weights} | {t.divide_by for t in terms if t.divide_by}
    for n, item in indexed_items:
        if item.id not in used:
            ck.add(("items", n), f"item {item.id!r} is not used by any term")
    for n, term in indexed_terms:
        if term.id not in total:
            ck.add(("terms", n), f"term {term.id!r} is not part of the total")
    if ck.problems or status is None:
        return None
    return ScoreDefinition(
        name=text["name"],
        title=str(title),
        version=text["version"],
        source=text["source"],
        status=status,
        items=tuple(items),
        terms=tuple(terms),
        total=tuple(total),
        origin=ck.where,
    )


def _parse_items(raw: object, ck: _Checker) -> list[tuple[int, ItemDef]]:
    """Items with their index in the file (for locations)."""
    if not isinstance(raw, list) or not raw:
        ck.add(("items",), "a non-empty list of items is required")
        return []
    out: list[tuple[int, ItemDef]] = []
    seen: set[str] = set()
    for n, it in enumerate(raw):
        if not isinstance(it, dict):
            ck.add(("items", n), "each item is a mapping with at least an id")
            continue
        iid = it.get("id")
        if not isinstance(iid, str) or not _ID.match(iid):
            ck.add(("items", n, "id"), "id must be lower-case letters, digits and _")
            continue
        if iid in seen:
            ck.add(("items", n, "id"), f"duplicate item id {iid!r}")
            continue
        seen.add(iid)
        levels: tuple[float, ...] | None = None
        lo = hi = None
        if "levels" in it and "range" in it:
            ck.add(("items", n), "give levels or range, not both")
        if "levels" in it:
            raw_levels = it["levels"]
            nums = [_number(x) for x in raw_levels] if isinstance(raw_levels, list) else []
            if not nums or any(x is None for x in nums):
                ck.add(("items", n, "levels"), "levels must be a non-empty list of numbers")
            elif len(set(nums)) != len(nums):
                ck.add(("items", n, "levels"), "levels must not repeat")
            else:
                levels = tuple(x for x in nums if x is not None)
        if "range" in it:
            rng = it["range"]
            if not isinstance(rng, dict) or not set(rng) <= {"min", "max"}:
                ck.add(("items", n, "range"), "range is a mapping with min and/or max")
            else:
                lo = _number(rng["min"]) if "min" in rng else None
                hi = _number(rng["max"]) if "max" in rng else None
                if ("min" in rng and lo is None) or ("max" in rng and hi is None):
                    ck.add(("items", n, "range"), "min and max must be numbers")
                elif lo is not None and hi is not None and lo > hi:
                    ck.add(("items", n, "range"), f"min {lo:g} is above max {hi:g}")
        out.append((n, ItemDef(iid, str(it.get("label", iid)), levels, lo, hi)))
    return out


def _parse_terms(
    raw: object, ck: _Checker, items: Mapping[str, ItemDef]
) -> list[tuple[int, TermDef]]:
    """Terms with their index in the file (for locations)."""
    if not isinstance(raw, list) or not raw:
        ck.add(("terms",), "a non-empty list of terms is required")
        return []
    out: list[tuple[int, TermDef]] = []
    seen: set[str] = set(items)
    for n, t in enumerate(raw):
        if not isinstance(t, dict):
            ck.add(("terms", n), "each term is a mapping with id and sum")
            continue
        tid = t.get("id")
        if not isinstance(tid, str) or not _ID.match(tid):
            ck.add(("terms", n, "id"), "id must be lower-case letters, digits and _")
            continue
        if tid in seen:
            ck.add(("terms", n, "id"), f"id {tid!r} is already used by an item or term")
            continue
        seen.add(tid)
        weights: list[tuple[str, float]] = []
        parts = t.get("sum")
        if not isinstance(parts, list) or not parts:
            ck.add(("terms", n, "sum"), "sum must be a non-empty list of item ids")
            parts = []
        for k, p in enumerate(parts):
            iid, w = (p, 1.0) if isinstance(p, str) else (None, None)
            if isinstance(p, dict):
                iid, w = p.get("item"), _number(p.get("weight", 1))
            if not isinstance(iid, str) or iid not in items:
                ck.add(("terms", n, "sum", k), f"unknown item {iid!r}")
            elif w is None:
                ck.add(("terms", n, "sum", k), "weight must be a number")
            else:
                weights.append((iid, w))
        mult = _number(t.get("multiply", 1))
        if mult is None:
            ck.add(("terms", n, "multiply"), "multiply must be a number")
        cap = None
        if t.get("cap") is not None:
            cap = _number(t["cap"])
            if cap is None:
                ck.add(("terms", n, "cap"), "cap must be a number")
        div = t.get("divide_by")
        if div is not None:
            if not isinstance(div, str) or div not in items:
                ck.add(("terms", n, "divide_by"), f"unknown item {div!r}")
                div = None
            else:
                d = items[div]
                can_be_zero = (
                    (0.0 in d.levels)
                    if d.levels is not None
                    else (d.minimum is None or d.minimum <= 0)
                )
                if can_be_zero:
                    ck.add(
                        ("terms", n, "divide_by"),
                        f"item {div!r} can be 0; give it levels or a range minimum above 0",
                    )
        multiply = 1.0 if mult is None else mult
        out.append((n, TermDef(tid, str(t.get("label", tid)), tuple(weights), multiply, div, cap)))
    return out


def _parse_total(raw: object, ck: _Checker, terms: set[str]) -> list[str]:
    if not isinstance(raw, list) or not raw:
        ck.add(("total",), "total must be a non-empty list of term ids")
        return []
    out: list[str] = []
    for n, t in enumerate(raw):
        if not isinstance(t, str) or t not in terms:
            ck.add(("total", n), f"unknown term {t!r}")
        elif t in out:
            ck.add(("total", n), f"term {t!r} is listed twice")
        else:
            out.append(t)
    return out


def _read(text: str, where: str) -> tuple[ScoreDefinition | None, list[Problem]]:
    ck = _Checker(where, None)
    try:
        if where.endswith(".json"):
            data: Any = json.loads(text)
        else:
            ck.root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        if isinstance(exc, json.JSONDecodeError):
            line = f":{exc.lineno}"
        return None, [Problem(f"{where}{line}", f"not valid YAML/JSON: {exc}")]
    definition = _parse(data, ck)
    return definition, ck.problems


def check_definition(path: str | Path) -> list[Problem]:
    """Every problem in a definition file, each with its location; empty when it is valid."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(str(p), f"cannot read the file: {exc}")]
    return _read(text, str(p))[1]


def _builtin_files() -> list[tuple[str, str]]:
    """(file name, text) of the definitions shipped in jakreg/rules/data."""
    root = resources.files("jakreg.rules").joinpath(_DATA)
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml", ".json")):
            text = entry.read_text(encoding="utf-8")
            if FORMAT in text:
                out.append((entry.name, text))
    return out


def list_definitions() -> list[ScoreDefinition]:
    """The score definitions shipped with jakreg."""
    out = []
    for name, text in _builtin_files():
        definition, problems = _read(text, f"jakreg/rules/data/{name}")
        if definition is None:  # a broken shipped file is a bug; the test suite checks them
            raise DefinitionError(f"shipped definition {name} is not valid", problems)
        out.append(definition)
    return out


def load_definition(path_or_name: str | Path) -> ScoreDefinition:
    """Load a definition from a file, or a shipped one by name (e.g. 'idda_provisional')."""
    p = Path(path_or_name)
    if p.is_file():
        definition, problems = _read(p.read_text(encoding="utf-8"), str(p))
        if definition is None:
            raise DefinitionError(f"score definition {p} is not valid", problems)
        return definition
    for d in list_definitions():
        if d.name == str(path_or_name):
            return d
    shipped = ", ".join(d.name for d in list_definitions())
    raise DefinitionError(
        f"no score definition file or shipped definition named {str(path_or_name)!r}; "
        f"shipped: {shipped}"
    )


# ---- evaluation ---------------------------------------------------------------------------------


def evaluate(definition: ScoreDefinition, values: Mapping[str, float | None]) -> ScoreResult:
    """Compute the total from item values; a missing item makes the result incomplete, not 0."""
    unknown = sorted(set(values) - set(definition.item_ids))
    if unknown:
        raise UnknownItemError(
            f"{definition.name} has no item(s) {', '.join(unknown)}; "
            f"items: {', '.join(definition.item_ids)}"
        )
    present: dict[str, float] = {}
    missing: list[str] = []
    problems: list[str] = []
    for item in definition.items:
        raw = values.get(item.id)
        if raw is None:
            missing.append(item.id)
            continue
        v = _number(raw)
        if v is None:
            problems.append(f"{item.id} = {raw!r} is not a finite number")
            continue
        why = item.check(v)
        if why:
            problems.append(why)
        else:
            present[item.id] = v
    n = len(definition.items)

    def result(total: float | None, state: str, terms: Mapping[str, float]) -> ScoreResult:
        return ScoreResult(
            definition=definition.name,
            total=total,
            state=state,
            items_present=len(present),
            items_total=n,
            missing=tuple(missing),
            problems=tuple(problems),
            term_values=terms,
            info=definition.info,
            inputs=frozen_inputs(**dict(values)),
        )

    if problems:
        return result(None, "invalid", {})
    if missing:
        return result(None, "incomplete", {})
    term_values: dict[str, float] = {}
    for t in definition.terms:
        s = sum(w * present[i] for i, w in t.weights) * t.multiply
        if t.divide_by is not None:
            s /= present[t.divide_by]
        term_values[t.id] = min(s, t.cap) if t.cap is not None else s
    return result(sum(term_values[t] for t in definition.total), "complete", term_values)
