"""Back up and restore a SQLite study database with SQLite's online backup API; PostgreSQL uses pg_dump.

A backup is taken while the database is in use (readers and writers may go on) and is a consistent snapshot
of one moment. It is written under a temporary name, checked (``PRAGMA integrity_check``) and only then
renamed to the file asked for, so a failed backup never leaves a truncated file that looks like a good one.

PostgreSQL databases are backed up with PostgreSQL's own tools, which jakreg does not wrap::

    pg_dump --format=custom --no-owner --file study.dump "postgresql://user@host/jakreg"
    pg_restore --clean --if-exists --no-owner --dbname "postgresql://user@host/jakreg_restored" study.dump
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from jakreg.errors import DatabaseError
from jakreg.store.db import database_url

PG_DUMP_HINT = (
    "back up PostgreSQL with pg_dump: "
    'pg_dump --format=custom --no-owner --file FILE "{url}"; '
    'restore with: pg_restore --clean --if-exists --no-owner --dbname "{url}" FILE'
)


class BackupError(DatabaseError):
    """A backup or restore cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class BackupSummary:
    """The file written (or read), its size, and the rows per table it holds."""

    database: str
    file: Path
    bytes: int
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def sqlite_file(url: str | None) -> Path:
    """The file of a SQLite URL (or plain path); a clear error for any other database."""
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise BackupError(f"{resolved!r} is not a database URL") from None
    if parsed.get_backend_name() == "postgresql":
        shown = parsed.render_as_string(hide_password=True)
        raise BackupError(
            "jakreg backup and restore work on SQLite files; " + PG_DUMP_HINT.format(url=shown)
        )
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(f"jakreg cannot back up a {parsed.get_backend_name()} database")
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("an in-memory database cannot be backed up; give a database file")
    return Path(parsed.database or "")


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        else:
            conn = sqlite3.connect(path)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path} ({exc})") from None


def _check_jakreg(conn: sqlite3.Connection, what: Path) -> None:
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        has_schema = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a SQLite database ({exc})") from None
    if ok != "ok":
        raise BackupError(f"{what} is damaged (integrity check: {ok})")
    if has_schema is None:
        raise BackupError(f"{what} is not a jakreg database (it has no schema version)")


def _explain(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    if "full" in text:
        return f"the disk is full while writing {path} ({text}); free space and try again"
    if "readonly" in text or "read-only" in text:
        return f"{path} is read-only ({text}); check its permissions"
    return f"cannot write {path} ({text})"


def backup(url: str | None, out: Path, *, overwrite: bool = False) -> BackupSummary:
    """Copy the SQLite database at ``url`` to the file ``out``, consistently, while it stays in use."""
    source = sqlite_file(url)
    if not source.exists():
        raise BackupError(f"the database file {source} does not exist")
    if out.exists() and not overwrite:
        raise BackupError(f"{out} already exists; give a new file name (nothing was overwritten)")
    if out.resolve() == source.resolve():
        raise BackupError("the backup file must not be the database itself")
    if not out.parent.exists():
        raise BackupError(f"the folder {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    src = _connect(source, readonly=True)
    try:
        _check_jakreg(src, source)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # one step: a consistent snapshot even while others write
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            _check_jakreg(dst, tmp)
            counts = table_counts(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(_explain(exc, out)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(tmp, out)
    return BackupSummary(str(source), out, out.stat().st_size, counts)


def is_empty(conn: sqlite3.Connection) -> bool:
    """True when no table but the schema version holds a row (a new or freshly initialised database)."""
    return all(n == 0 for t, n in table_counts(conn).items() if t != "alembic_version")


def restore(file: Path, url: str | None, *, force: bool = False) -> BackupSummary:
    """Replace the SQLite database at ``url`` by the backup ``file``.

    Refuses to replace a database that holds data unless ``force`` is given. The copy goes through
    SQLite's backup API into the target, as one transaction: a crash mid-restore leaves the target as it
    was. Run ``jakreg init`` afterwards when the backup was made by an older jakreg.
    """
    target = sqlite_file(url)
    if not file.is_file():
        raise BackupError(f"the backup file {file} does not exist")
    if target.exists() and target.resolve() == file.resolve():
        raise BackupError("the backup file and the database are the same file")
    src = _connect(file, readonly=True)
    try:
        _check_jakreg(src, file)
        if target.exists():
            probe = _connect(target, readonly=True)
            try:
                empty = is_empty(probe)
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{target} is not a SQLite database ({exc})") from None
            finally:
                probe.close()
            if not empty and not force:
                raise BackupError(
                    f"the database {target} already holds data; restoring would replace it. "
                    "Back it up first, then restore with --force"
                )
        elif not target.parent.exists():
            raise BackupError(f"the folder {target.parent} does not exist")
        dst = _connect(target, readonly=False)
        try:
            src.backup(dst)
            counts = table_counts(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(_explain(exc, target)) from None
    finally:
        src.close()
    return BackupSummary(str(target), file, file.stat().st_size, counts)
