"""Reading the jakreg federated extract at the node (schema in docs/federated.md)."""

from __future__ import annotations

import pandas as pd

SCHEMA_VERSION = 1
REQUIRED = ("schema_version", "record", "patient_key")


class ExtractError(ValueError):
    """The node's extract cannot be read; the message says why."""


def check_extract(df: pd.DataFrame) -> pd.DataFrame:
    """The extract, after checking its columns and that every row is schema version 1."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ExtractError(
            f"the node's data is not a jakreg federated extract: column(s) {', '.join(missing)} missing"
        )
    if df.empty:
        raise ExtractError("the node's extract has no rows")
    versions = pd.to_numeric(df["schema_version"], errors="coerce")
    found = sorted({str(v) for v in df["schema_version"][versions != SCHEMA_VERSION]})
    if found:
        raise ExtractError(
            f"extract schema version {', '.join(found)} found; this algorithm reads version "
            f"{SCHEMA_VERSION} only (a newer extract may mean something different)"
        )
    return df


def records(df: pd.DataFrame, record: str) -> pd.DataFrame:
    return df[df["record"] == record]
