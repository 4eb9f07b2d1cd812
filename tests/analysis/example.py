"""Build study databases for the analysis and report tests: the bundled example, edits of it, tiny ones."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

from jakreg.study import example_path, import_path, init_database

Rows = list[dict[str, str]]


def example_copy(folder: Path, edit: Callable[[dict[str, Rows]], None] | None = None) -> Path:
    """A copy of the bundled example's CSV folder, optionally edited sheet by sheet."""
    shutil.copytree(example_path(), folder, ignore=shutil.ignore_patterns("*.md", "__*"))
    if edit is None:
        return folder
    sheets: dict[str, Rows] = {}
    headers: dict[str, list[str]] = {}
    for f in sorted(folder.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            headers[f.stem] = list(reader.fieldnames or [])
            sheets[f.stem] = list(reader)
    edit(sheets)
    for name, rows in sheets.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=headers[name])
            writer.writeheader()
            writer.writerows(rows)
    return folder


def database(tmp: Path, study: Path | None) -> str:
    """A fresh, migrated SQLite database in `tmp` with `study` imported (None: empty)."""
    tmp.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp / 'study.db'}"
    init_database(url)
    if study is not None:
        import_path(study, url, actor="tests")
    return url


def example_database(tmp: Path) -> str:
    return database(tmp, example_path())
