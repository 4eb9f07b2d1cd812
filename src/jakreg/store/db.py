"""Open the database (SQLite file by default, any SQLAlchemy URL) and create or upgrade it through Alembic."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jakreg.errors import DatabaseError

DEFAULT_URL = "sqlite:///jakreg.db"
ENV_VAR = "JAKREG_DATABASE_URL"


def database_url(given: str | None = None) -> str:
    """The URL to use: the one given, else $JAKREG_DATABASE_URL, else ./jakreg.db.

    A plain path (``study.db``) is taken as a SQLite file.
    """
    url = given or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN itself


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, write_lock: bool = False) -> Engine:
    """An engine for ``url``. ``write_lock``: every transaction takes the database's write lock at its
    start (SQLite: BEGIN IMMEDIATE), so a validate-then-write import cannot interleave with another."""
    return _engine(url, write_lock=write_lock)


def _engine(url: str, *, write_lock: bool = False, **options: Any) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{url!r} is not a database URL; give a file name (study.db), "
            "sqlite:///path.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, **options)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use the database {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if write_lock:
            # SQLAlchemy's documented recipe for controlling pysqlite's BEGIN.
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", _begin_immediate)
    return engine


# The server's engine (``make_server_engine``): one per worker process, for its whole life.
SERVER_POOL_TIMEOUT = 60  # seconds a request waits for a connection before it fails
SQLITE_SYNCHRONOUS_ENV = "JAKREG_SQLITE_SYNCHRONOUS"


def _sqlite_server_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never wait for the writer, and the writer waits for nobody but the last writer.
        # NORMAL under WAL syncs at checkpoints, not at every commit: a crash of the server loses nothing;
        # a power cut may lose the last commits, never the database's (or the audit chain's) integrity.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA mmap_size=268435456")  # pages straight from the OS cache (256 MiB)
        cursor.execute("PRAGMA cache_size=-16000")  # 16 MB of page cache per connection
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return on_connect


def make_server_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> Engine:
    """The engine of a long-running server worker: a pool of ``pool_size`` connections kept open (plus
    ``max_overflow`` during a burst; size it to the worker's thread pool) and, on a SQLite file, the
    write-ahead log (set once, kept in the file) with server pragmas on every connection.

    ``$JAKREG_SQLITE_SYNCHRONOUS=FULL`` makes every commit wait for the disk (default NORMAL, see above).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return make_engine(url)  # raises, with the same message as everywhere else
    if parsed.drivername.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        return make_engine(url)  # an in-memory database: one connection per thread, nothing to tune
    engine = _engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=SERVER_POOL_TIMEOUT,
    )
    if engine.dialect.name == "sqlite":
        synchronous = os.environ.get(SQLITE_SYNCHRONOUS_ENV, "NORMAL").strip().upper()
        if synchronous not in ("NORMAL", "FULL", "EXTRA"):
            engine.dispose()
            raise DatabaseError(f"{SQLITE_SYNCHRONOUS_ENV} must be NORMAL, FULL or EXTRA")
        event.listen(engine, "connect", _sqlite_server_pragmas(synchronous))
        try:
            with engine.connect() as conn:
                if str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() != "wal":
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        except OperationalError as exc:
            engine.dispose()
            raise DatabaseError(_explain(exc)) from None
    return engine


IMPORT_LOCK_KEY = 0x4A414B52  # "JAKR": the PostgreSQL advisory lock that serialises imports


def take_write_lock(session: Session) -> None:
    """Serialise writers for the rest of the transaction (PostgreSQL advisory lock; SQLite engines made
    with ``write_lock`` hold the lock from BEGIN IMMEDIATE already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})


# SQLite's page cache for an import's connection, in KiB (the default is 2 MiB). A large import inserts
# into many indexes at once (the audit trail alone has seven, one over random hashes); with 2 MiB most of
# those pages are evicted and read back through the OS between one row and the next.
IMPORT_CACHE_KIB = 65536


def use_import_cache(session: Session) -> None:
    """Give the session's connection the import's page cache (SQLite; the engine of an import is
    its own and is disposed with it, so the setting ends with the import)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}"))


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("jakreg.store") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(make_engine("sqlite://"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return str(head)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest migration; returns (revision before, revision after)."""
    from alembic import command

    try:
        before = current_revision(engine)
        if before is None and inspect(engine).get_table_names():
            raise DatabaseError(
                "the database holds tables but no jakreg schema version; "
                "give an empty database or one made by jakreg init"
            )
        command.upgrade(_alembic_config(engine), "head")
        return before, head_revision()
    except OperationalError as exc:
        raise DatabaseError(_explain(exc)) from None


def _explain(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    if "readonly" in text or "read-only" in text:
        return f"the database is read-only ({text}); check the file's permissions"
    if "disk" in text and "full" in text:
        return f"the disk is full ({text}); free space and try again"
    if "disk I/O error" in text:
        return (
            f"the database could not be written ({text}); the disk may be full or a file-size "
            "limit reached: free space and try again"
        )
    if "unable to open" in text:
        return f"cannot open the database file ({text}); check that its folder exists"
    return f"database error: {text}"


def explain(exc: SQLAlchemyError) -> str:
    """A one-line explanation of a database error for a user."""
    return _explain(exc)


@contextmanager
def open_session(
    url: str | None = None, *, require_schema: bool = True, write_lock: bool = False
) -> Iterator[Session]:
    """A session on the database; refuses one without the current schema (run `jakreg init`).

    ``write_lock``: the session's transactions take the write lock first (imports)."""
    resolved = database_url(url)
    parsed = make_url(resolved)
    file = parsed.database or ""
    if parsed.query.get("uri") == "true":  # sqlite:///file:study.db?mode=ro&uri=true
        file = file.removeprefix("file:")
    if (
        require_schema
        and parsed.drivername.startswith("sqlite")
        and file not in ("", ":memory:")
        and not Path(file).exists()
    ):
        raise DatabaseError(
            f"the database file {parsed.database} does not exist; "
            f"run: jakreg init --db {parsed.database}"
        )
    engine = make_engine(resolved, write_lock=write_lock)
    try:
        if require_schema:
            try:
                rev = current_revision(engine)
            except OperationalError as exc:
                raise DatabaseError(_explain(exc)) from None
            if rev is None:
                raise DatabaseError(
                    f"the database {_shown(resolved)} has no jakreg schema; run: jakreg init"
                )
            if rev != head_revision():
                raise DatabaseError(
                    f"the database {_shown(resolved)} is at schema {rev}, this jakreg needs "
                    f"{head_revision()}; run: jakreg init (it upgrades in place)"
                )
        factory = sessionmaker(engine, expire_on_commit=False)
        with factory() as session:
            yield session
    finally:
        engine.dispose()


def _shown(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return str(Path(parsed.database or ":memory:"))
    return parsed.render_as_string(hide_password=True)
