"""The results.json schema shipped with the package, and a small checker for the subset it uses.

The checker understands type, const, enum, required, properties, additionalProperties, items,
minimum and pattern: enough for results.schema.json without a jsonschema dependency.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@cache
def results_schema() -> dict[str, Any]:
    text = resources.files("jakreg.analysis").joinpath("results.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def check(instance: Any, schema: dict[str, Any] | None = None, path: str = "$") -> list[str]:
    """Every place where `instance` breaks the schema, as 'path: problem' lines (empty = valid)."""
    schema = results_schema() if schema is None else schema
    problems: list[str] = []
    if "const" in schema and instance != schema["const"]:
        problems.append(f"{path}: expected {schema['const']!r}, got {instance!r}")
    if "enum" in schema and instance not in schema["enum"]:
        problems.append(f"{path}: {instance!r} is not one of {schema['enum']!r}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(instance, n) for n in names):
            problems.append(f"{path}: expected {' or '.join(names)}, got {type(instance).__name__}")
            return problems
    if "minimum" in schema and _is(instance, "number") and instance < schema["minimum"]:
        problems.append(f"{path}: {instance} is below {schema['minimum']}")
    if (
        "pattern" in schema
        and isinstance(instance, str)
        and not re.search(schema["pattern"], instance)
    ):
        problems.append(f"{path}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                problems.append(f"{path}: missing key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                problems += check(value, props[key], f"{path}.{key}")
            elif extra is False:
                problems.append(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                problems += check(value, extra, f"{path}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, value in enumerate(instance):
            problems += check(value, schema["items"], f"{path}[{i}]")
    return problems
