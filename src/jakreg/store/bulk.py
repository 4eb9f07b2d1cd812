"""Many-row INSERTs through the database driver's executemany."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def _chunks(items: list[Any], size: int = 5000) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class BulkInsert:
    """INSERT of many rows through the driver's executemany, with SQLAlchemy's own value conversions
    (e.g. dates as ISO text on SQLite) but without its per-row statement machinery."""

    def __init__(
        self,
        session: Session,
        table: Table,
        *,
        exclude: tuple[str, ...] = (),
        skip_conflicts: bool = False,
    ) -> None:
        """``skip_conflicts``: a row that would break a unique index is left out (ON CONFLICT DO
        NOTHING, SQLite and PostgreSQL) instead of failing the statement; the caller finds which."""
        self.session = session
        dialect = session.get_bind().dialect
        self.columns = [c for c in table.columns if c.name not in exclude]
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in self.columns)
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in self.columns)
        self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
        if skip_conflicts:
            self.sql += " ON CONFLICT DO NOTHING"
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
        connection = self.session.connection()
        for part in _chunks(rows):
            connection.exec_driver_sql(self.sql, [tuple(row) for row in part])
