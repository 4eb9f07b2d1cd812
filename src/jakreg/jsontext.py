"""JSON text that people can read and that is written at the speed of the C encoder.

``json.dumps(indent=...)`` switches to the standard library's pure-Python encoder, ten times slower:
over a 10,000-patient results.json that is most of a minute. Here the outer levels are indented and
everything deeper is written by the C encoder on one line (one list item or key per line below the
indented levels).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def dumps_readable(value: Any, *, depth: int = 2, ensure_ascii: bool = True,
                   allow_nan: bool = True) -> str:  # fmt: skip
    """``value`` as JSON, indented for the outer ``depth`` levels of objects and arrays; the same
    value as ``json.dumps`` (``json.loads`` of both is equal). Ends without a newline."""

    one = compact_encoder(ensure_ascii=ensure_ascii, allow_nan=allow_nan, separators=(", ", ": "))

    def walk(v: Any, level: int) -> str:
        pad, inner = " " * level, " " * (level + 1)
        if level >= depth or not isinstance(v, dict | list) or not v:
            return one(v)
        if isinstance(v, dict):
            items = [f"{inner}{one(str(k))}: {walk(x, level + 1)}" for k, x in v.items()]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        return "[\n" + ",\n".join(f"{inner}{walk(x, level + 1)}" for x in v) + f"\n{pad}]"

    return walk(value, 0)


def _not_serialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact_encoder(
    *,
    ensure_ascii: bool = True,
    allow_nan: bool = True,
    separators: tuple[str, str] = (",", ":"),
    default: Callable[[Any], Any] = _not_serialisable,
) -> Callable[[Any], str]:
    """``json.dumps`` on one line as a function built once: json.dumps builds a new encoder per call,
    which over a hundred thousand rows costs more than the encoding. Same text as json.dumps with the
    same options."""
    item, key = separators
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return lambda v: json.dumps(v, ensure_ascii=ensure_ascii, allow_nan=allow_nan,
                                    separators=separators, default=default)  # fmt: skip
    strings = (
        json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    )
    encode = make(None, default, strings, None, key, item, False, False, allow_nan)
    return lambda v: "".join(encode(v, 0))
