"""Shared by the scale tests: run the jakreg command in a child process, and dump a database canonically."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

JAKREG = str(Path(sys.executable).with_name("jakreg"))

# Written by the importer with the wall-clock time; compared without it.
Dump = dict[str, list[tuple[Any, ...]]]


def jakreg(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JAKREG, *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def dump(db: Path) -> Dump:
    """Every table's rows (sorted) and the schema: equal dumps mean equal databases.

    Opened read-write on purpose: like the next jakreg process, it rolls back a hot journal left behind
    by a killed writer before reading.
    """
    conn = sqlite3.connect(db)
    try:
        out: Dump = {
            "__schema__": sorted(
                conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                key=repr,
            )
        }
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ):
            out[name] = sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        return out
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def without_clock(d: Dump) -> Dump:
    """The dump without the tables that record when an import ran (audit events, import batches)."""
    return {k: v for k, v in d.items() if k not in {"audit_event", "import_batch"}}
