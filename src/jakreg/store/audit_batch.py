"""Batch audit events: many row changes of one sheet and action in one hash-chained event.

An import writes, per slice of a sheet and per action (create, update), one ``audit_event`` whose hashed
``after`` is a summary holding the Merkle root (SHA-256) of the slice's row changes, and one
``audit_batch`` row holding those changes as compressed columnar JSON: column names once, then per
column the after-image values of every row; for updates the changed columns' values before. The chain
proves the summary; the summary's root proves every row of the payload, its order and its count, so a
payload edited, shortened or reordered no longer matches (``verify_batch``).

The payload is JSON (zlib) rather than Arrow IPC: the values are the very JSON values per-row events
hold (the trail's text form, which replay compares against), the leaves must be canonical bytes to hash
anyway, and JSON keeps the trail readable by any tool without pyarrow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

FORMAT = "jakreg audit batch 1"
ACTIONS = {"create": "batch_create", "update": "batch_update"}  # row action -> event action
ROW_ACTION = {v: k for k, v in ACTIONS.items()}
LEVEL = 1  # zlib: level 1 is ~4x faster than the default and the payload is mostly repeats anyway


def _plain(value: Any) -> Any:
    """What a per-row event writes for a value JSON has no type for (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_encode = json.JSONEncoder(default=_plain, separators=(",", ":")).encode


def plain_column(values: list[Any]) -> list[Any]:
    """A column with its dates as ISO text: converted once here, the encoder calls no Python per value."""
    return [v.isoformat() if isinstance(v, dt.date) else v for v in values]


def _leaf(row: list[Any]) -> bytes:
    return hashlib.sha256(b"\x00" + _encode(row).encode()).digest()


def merkle_root(leaves: list[bytes]) -> str:
    """SHA-256 Merkle root; leaves and inner nodes are prefixed 0x00 and 0x01 (RFC 6962), so a leaf
    can never pass for a node; an odd node at the end of a level is carried up as it is."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = leaves
    while len(level) > 1:
        up = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            up.append(level[-1])
        level = up
    return level[0].hex()


@dataclass(frozen=True)
class BatchRow:
    """One row change as the payload holds it."""

    pk: int
    key: str
    patient_id: str | None
    centre: str | None
    after: dict[str, Any]
    before: dict[str, Any] | None  # update: the changed columns' values before; create: None


@dataclass(frozen=True)
class Batch:
    """One batch event's rows, ready to store: the event summary (hashed) and the payload (stored)."""

    summary: dict[str, Any]
    payload: bytes
    rows: int
    min_pk: int
    max_pk: int


def _row_lists(columns: list[str], row: BatchRow) -> list[Any]:
    """The canonical leaf of a row: [pk, key, patient, centre, after values, [[column no, before]...]]
    (the columns in their order; what ``build_batch`` hashes for the same row)."""
    changed = None
    if row.before is not None:
        changed = [[i, row.before[c]] for i, c in enumerate(columns) if c in row.before]
    return [row.pk, row.key, row.patient_id, row.centre, [row.after[c] for c in columns], changed]


def build_batch(
    columns: list[str],
    pks: list[int],
    keys: list[str],
    patient_ids: list[str | None],
    centres: list[str | None],
    after: list[list[Any]],
    before: list[dict[str, Any]] | None,
) -> Batch:
    """Columnar payload and Merkle root of one slice's row changes. ``after`` holds a list per column;
    ``before`` per row the changed columns' old values, in column order (updates only)."""
    n = len(pks)
    if {len(keys), len(patient_ids), len(centres), *(len(a) for a in after)} != {n} or (
        before is not None and len(before) != n
    ):
        raise ValueError("a batch's columns must hold one value per row")
    index = {c: i for i, c in enumerate(columns)}
    changed: list[list[int]] | None = None
    old: list[list[Any]] | None = None
    pairs: Iterable[Any]
    if before is None:
        pairs = repeat(None)
    else:
        changed = [[index[c] for c in b] for b in before]
        old = [list(b.values()) for b in before]
        pairs = (
            [list(p) for p in zip(n, v, strict=True)] for n, v in zip(changed, old, strict=True)
        )
    sha = hashlib.sha256
    leaves = [
        sha(b"\x00" + _encode(row).encode()).digest()
        for row in zip(  # not strict: ``pairs`` repeats None for creates
            pks, keys, patient_ids, centres, zip(*after, strict=True), pairs, strict=False
        )
    ]
    payload = {
        "format": FORMAT, "columns": columns, "pk": pks, "key": keys, "patient_id": patient_ids,
        "centre": centres, "after": after, "changed": changed, "before": old,
    }  # fmt: skip
    summary = {
        "format": FORMAT, "columns": columns, "rows": len(pks), "min_pk": min(pks),
        "max_pk": max(pks), "merkle_root": merkle_root(leaves),
    }  # fmt: skip
    return Batch(
        summary, zlib.compress(_encode(payload).encode(), LEVEL), len(pks), min(pks), max(pks)
    )


class PayloadError(ValueError):
    """A batch payload that cannot be read as one."""


def decode(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(zlib.decompress(payload))
    except (zlib.error, ValueError) as exc:
        raise PayloadError(f"its stored rows cannot be read ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PayloadError("its stored rows are not a jakreg batch payload")
    return data


def batch_rows(data: dict[str, Any]) -> Iterator[BatchRow]:
    """The rows of a decoded payload, in their order; before images only for an update's changes."""
    columns: list[str] = data["columns"]
    after_columns = data["after"]
    changed: list[list[int]] | None = data.get("changed")
    before: list[list[Any]] = data.get("before") or []
    for i, pk in enumerate(data["pk"]):
        old: dict[str, Any] | None = None
        if changed is not None:
            old = {columns[c]: v for c, v in zip(changed[i], before[i], strict=True)}
        yield BatchRow(
            pk, data["key"][i], data["patient_id"][i], data["centre"][i],
            {c: after_columns[n][i] for n, c in enumerate(columns)}, old,
        )  # fmt: skip


def check_batch(payload: bytes, summary_text: str | None) -> str | None:
    """Why a stored payload does not match its event's summary, or None when every row holds."""
    try:
        summary = json.loads(summary_text or "")
    except ValueError:
        return "its summary is not readable (edited?)"
    try:
        data = decode(payload)
        columns = data["columns"]
        rows = list(batch_rows(data))
        leaves = [_leaf(_row_lists(columns, r)) for r in rows]
    except (PayloadError, KeyError, IndexError, TypeError, ValueError) as exc:
        return f"its stored rows cannot be read ({exc})"
    if columns != summary.get("columns"):
        return "its stored rows have other columns than its hash covers (edited?)"
    if len(rows) != summary.get("rows"):
        return (
            f"it stores {len(rows)} row(s), but its hash covers {summary.get('rows')} "
            "(rows removed or added?)"
        )
    if merkle_root(leaves) != summary.get("merkle_root"):
        return "its stored rows do not match its hash (a row edited, removed or reordered?)"
    return None
