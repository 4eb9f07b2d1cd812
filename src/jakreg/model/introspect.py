"""Read a row field's type: its base type and, for controlled vocabularies, the allowed values."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any


def allowed_values(annotation: Any) -> list[str] | None:
    """The values of the field's enum (through Optional/Annotated), or None for a free field."""
    base = base_type(annotation)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return [str(m.value) for m in base]
    return None


def base_type(annotation: Any) -> Any:
    """The non-None type of a field (unwrapping Optional and Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return base_type(args[0]) if len(args) == 1 else annotation
    return annotation
