"""The protocol file (YAML): a pydantic model, and parsing that locates every error by line and value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jakreg.errors import JakregError


class ItemKind(StrEnum):
    """Which records satisfy an item (records already in the database; never entered twice)."""

    assessment = "assessment"  # any assessment (e.g. IDDA) dated in the window
    lab = "lab"  # every analyte in ``codes`` has a result in the window
    biomarker = "biomarker"  # every marker in ``codes`` has a result in the window
    body = "body"  # weight and height measured in the window (body measurement or dose row)
    ae_review = "ae_review"  # an AE with onset in the window, or an assessment in the window
    response = "response"  # a response assessment for the course in the window


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    kind: ItemKind
    codes: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)
    provisional: bool = True


class Anchor(StrEnum):
    start = "start"
    stop = "stop"


class Visit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    anchor: Anchor = Anchor.start
    day: int
    before: int = Field(ge=0)
    after: int = Field(ge=0)
    items: list[str] = Field(min_length=1)
    every_days: int | None = Field(default=None, gt=0)  # repeat while on drug


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective_date: dt.date
    items: dict[str, Item]
    visits: list[Visit] = Field(min_length=1)

    @model_validator(mode="after")
    def _items_known(self) -> Protocol:
        ids = [v.id for v in self.visits]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"visit ids must be unique; repeated: {', '.join(dupes)}")
        for visit in self.visits:
            unknown = [i for i in visit.items if i not in self.items]
            if unknown:
                raise ValueError(
                    f"visit {visit.id!r} requires unknown item(s) {', '.join(unknown)}; "
                    f"define them under 'items' (known: {', '.join(sorted(self.items))})"
                )
            if visit.every_days is not None and visit.anchor is Anchor.stop:
                raise ValueError(f"visit {visit.id!r}: a visit after the stop cannot repeat")
        return self


@dataclass(frozen=True)
class ProtocolProblem:
    file: str
    line: int | None
    field: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        shown = f" (value {self.value!r})" if self.value else ""
        return f"{where}: {self.field}{shown}: {self.message}"


class ProtocolFileError(JakregError):
    def __init__(self, problems: list[ProtocolProblem]) -> None:
        self.problems = problems
        super().__init__(
            f"the protocol file has {len(problems)} problem(s); nothing was stored:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


class _Loader(yaml.SafeLoader):
    """Dates stay text, so pydantic checks them and the error is located like any other."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_at(node: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The YAML node at a pydantic error location (the deepest one found)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def _fix(kind: str, message: str) -> str:
    hints = {
        "missing": "add it",
        "extra_forbidden": "remove it or check its spelling",
        "date_from_datetime_parsing": "write a date as YYYY-MM-DD",
        "date_parsing": "write a date as YYYY-MM-DD",
        "int_parsing": "write a whole number of days",
        "enum": "use one of the values listed",
    }
    hint = hints.get(kind)
    return f"{message}; {hint}" if hint else message


def parse_protocol(text: str, file: str = "<protocol>") -> Protocol:
    """Parse and validate a protocol; raise ProtocolFileError listing every located problem."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        data: Any = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProtocolFileError(
            [ProtocolProblem(file, line, "(file)", "", f"not valid YAML: {exc}; fix the syntax")]
        ) from None
    if not isinstance(data, dict):
        raise ProtocolFileError(
            [
                ProtocolProblem(
                    file,
                    1,
                    "(file)",
                    "",
                    "expected a mapping with name, version, effective_date, items and visits",
                )
            ]
        )
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = tuple(e["loc"])
            node = _node_at(root, loc)
            line = node.start_mark.line + 1 if node is not None else None
            value = "" if e["type"] == "missing" else str(e.get("input", ""))
            if len(value) > 60 or isinstance(e.get("input"), dict | list):
                value = ""
            field = ".".join(str(p) for p in loc) or "(protocol)"
            problems.append(ProtocolProblem(file, line, field, value, _fix(e["type"], e["msg"])))
        raise ProtocolFileError(problems) from None


def read_protocol(path: Path) -> tuple[Protocol, str]:
    """The protocol in a file and the file's text."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolFileError(
            [ProtocolProblem(str(path), None, "(file)", "", f"cannot be read: {exc}")]
        ) from None
    return parse_protocol(text, str(path)), text


DEFAULT_PATH = Path(__file__).parent / "data" / "default_protocol.yaml"


def default_protocol() -> tuple[Protocol, str]:
    """The shipped default protocol (used when none was loaded)."""
    return read_protocol(DEFAULT_PATH)
