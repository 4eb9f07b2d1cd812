"""JSON text that people can read and that is written at the speed of the C encoder.

``json.dumps(indent=...)`` switches to the standard library's pure-Python encoder, ten times slower:
over a 10,000-patient results.json that is most of a minute. Here the outer levels are indented and
everything deeper is written by the C encoder on one line (one list item or key per line below the
indented levels).
"""

from __future__ import annotations

import json
from typing import Any


def dumps_readable(value: Any, *, depth: int = 2, ensure_ascii: bool = True,
                   allow_nan: bool = True) -> str:  # fmt: skip
    """``value`` as JSON, indented for the outer ``depth`` levels of objects and arrays; the same
    value as ``json.dumps`` (``json.loads`` of both is equal). Ends without a newline."""

    def one(v: Any) -> str:
        return json.dumps(v, ensure_ascii=ensure_ascii, allow_nan=allow_nan)

    def walk(v: Any, level: int) -> str:
        pad, inner = " " * level, " " * (level + 1)
        if level >= depth or not isinstance(v, dict | list) or not v:
            return one(v)
        if isinstance(v, dict):
            items = [f"{inner}{one(str(k))}: {walk(x, level + 1)}" for k, x in v.items()]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        return "[\n" + ",\n".join(f"{inner}{walk(x, level + 1)}" for x in v) + f"\n{pad}]"

    return walk(value, 0)
