"""Many-row INSERTs: executemany over column tuples on SQLite, COPY on PostgreSQL (psycopg 3)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import psycopg

CopyFormat = Literal["text", "binary"]
WriteMethod = CopyFormat | Literal["off"]


def _chunks(items: list[Any], size: int = 5000) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class BulkInsert:
    """INSERT of many rows with SQLAlchemy's own value conversions (e.g. dates as ISO text on SQLite)
    but without its per-row statement machinery, in the session's transaction.

    SQLite: the driver's executemany over column tuples. PostgreSQL with psycopg 3: ``COPY ... FROM
    STDIN`` straight into the table, or, with ``skip_conflicts``, into a temporary staging table
    (dropped at commit) and from there one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
    """

    def __init__(
        self,
        session: Session,
        table: Table,
        *,
        exclude: tuple[str, ...] = (),
        skip_conflicts: bool = False,
        copy: WriteMethod | None = None,
    ) -> None:
        """``skip_conflicts``: a row that would break a unique index is left out (ON CONFLICT DO
        NOTHING, SQLite and PostgreSQL) instead of failing the statement; the caller finds which.
        ``copy``: the COPY format on PostgreSQL with psycopg 3 (default ``COPY_FORMAT``), or "off"
        for executemany there too; other databases and drivers always take executemany."""
        self.session = session
        dialect = session.get_bind().dialect
        self.columns = [c for c in table.columns if c.name not in exclude]
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in self.columns)
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in self.columns)
        target = quote(table.name)
        self.sql = f"INSERT INTO {target} ({names}) VALUES ({marks})"
        if skip_conflicts:
            self.sql += " ON CONFLICT DO NOTHING"
        self.copy: CopyFormat | None = None
        method = copy or COPY_FORMAT
        if dialect.name == "postgresql" and dialect.driver == "psycopg" and method != "off":
            self.copy = method
        self.copy_sql = CopySql.build(
            table.name, [c.name for c in self.columns], quote, skip_conflicts=skip_conflicts
        )
        self._types: list[int] | None = None
        self.fields = [
            (
                c.name,
                getattr(c.default, "arg", None) if getattr(c.default, "is_scalar", False) else None,
            )
            for c in self.columns
        ]
        processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in self.columns]
        self.processors = [(i, p) for i, p in enumerate(processors) if p is not None]

    def index(self, name: str) -> int:
        """The position of a column in the rows ``run_rows`` takes."""
        return next(i for i, (n, _default) in enumerate(self.fields) if n == name)

    def bind(self, name: str, value: Any) -> Any:
        """One value converted as the driver gets it (e.g. a datetime as text on SQLite): for a value
        every row shares, converted once and passed to ``run_rows`` as already bound."""
        i = self.index(name)
        for j, process in self.processors:
            if j == i and value is not None:
                return process(value)
        return value

    def run(self, records: list[dict[str, Any]]) -> None:
        """Insert the records (column name -> value; a missing column takes its default)."""
        fields = self.fields
        self.run_rows(
            [[record.get(name, default) for name, default in fields] for record in records]
        )

    def run_rows(self, rows: list[list[Any]], *, bound: tuple[int, ...] = ()) -> None:
        """Insert rows given as lists in column order (``fields``; changed in place). The columns at the
        positions in ``bound`` hold values already converted (``bind``) and are passed as they are."""
        for i, process in self.processors:
            if i in bound:
                continue
            for row in rows:
                value = row[i]
                if value is not None:
                    row[i] = process(value)
        if not rows:
            return
        if self.copy is not None:
            self._copy(rows, self.copy)
            return
        connection = self.session.connection()
        for part in _chunks(rows):
            connection.exec_driver_sql(self.sql, [tuple(row) for row in part])

    def _copy(self, rows: list[list[Any]], form: CopyFormat) -> None:
        """The rows through COPY on the session's own psycopg connection (so in its transaction);
        a database error comes out as SQLAlchemy's, as it does from executemany."""
        sql = self.copy_sql
        connection = self.session.connection()
        raw = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
        statement = sql.copy
        try:
            with raw.cursor() as cursor:
                for statement in sql.before:
                    cursor.execute(statement)
                if form == "binary" and self._types is None:
                    statement = sql.probe
                    cursor.execute(statement)
                    self._types = [d.type_code for d in cursor.description or ()]
                statement = sql.copy + (" (FORMAT BINARY)" if form == "binary" else "")
                with cursor.copy(statement) as out:
                    if self._types is not None and form == "binary":
                        out.set_types(self._types)
                    for row in rows:
                        out.write_row(row)
                for statement in sql.after:
                    cursor.execute(statement)
        except connection.dialect.loaded_dbapi.Error as exc:
            error = connection.dialect.loaded_dbapi.Error
            raise DBAPIError.instance(statement, None, exc, error) from exc


# Binary: 1.1x text's rows/s into audit_event (text columns, six indexes), 1.5x into lab_result
# (dates, floats) on 50k rows (docs/scale.md). It needs each value of its column's Python type
# (a str for a date column fails), which the validated rows and the audit writer hold.
COPY_FORMAT: WriteMethod = "binary"


class CopySql:
    """The statements of one COPY write (built without executing them, to be read as data)."""

    def __init__(
        self, copy: str, probe: str, before: tuple[str, ...] = (), after: tuple[str, ...] = ()
    ) -> None:
        self.copy = copy  # COPY ... FROM STDIN, in text format (binary: add its option)
        self.probe = probe  # a query whose result columns have the COPY's column types
        self.before = before
        self.after = after

    @classmethod
    def build(
        cls, table: str, columns: list[str], quote: Callable[[str], str], *, skip_conflicts: bool
    ) -> CopySql:
        """COPY into ``table`` itself; with ``skip_conflicts`` into a staging table of the same
        column types (no constraints, no defaults: ``CREATE TABLE AS ... WITH NO DATA``), per
        transaction, emptied after each ``INSERT ... SELECT``."""
        target = quote(table)
        names = ", ".join(quote(c) for c in columns)
        probe = f"SELECT {names} FROM {target} LIMIT 0"
        if not skip_conflicts:
            return cls(f"COPY {target} ({names}) FROM STDIN", probe)
        # one staging table per target and column list: two writers of a table may differ in columns
        digest = hashlib.sha256(" ".join(columns).encode()).hexdigest()[:8]
        stage = quote(f"jakreg_stage_{table}_{digest}")
        return cls(
            copy=f"COPY {stage} ({names}) FROM STDIN",
            probe=probe,
            before=(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
                f"SELECT {names} FROM {target} WITH NO DATA",
            ),
            after=(
                f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING",
                f"TRUNCATE {stage}",
            ),
        )
