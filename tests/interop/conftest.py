"""Helpers: check and import a foreign input through jakreg.study with the format's reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jakreg.store.repository import ImportSummary
from jakreg.study import Checked, Reader, check_path, import_path


def check_converted(
    path: Path, reader: Reader, session: object = None, *, today: dt.date
) -> Checked:
    if session is None:
        return check_path(path, today=today, reader=reader)
    return check_path(path, session, today=today, reader=reader)  # type: ignore[arg-type]


def import_converted(path: Path, reader: Reader, url: str, *, today: dt.date) -> ImportSummary:
    return import_path(path, url, actor="test", today=today, reader=reader)
