"""Alembic environment: migrations run on the engine jakreg hands over (or alembic.ini's URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import jakreg.protocol.store
import jakreg.store.signal_tables
import jakreg.store.users
import jakreg.store.workflow  # noqa: F401  (queries and notifications share Base.metadata)
from jakreg.store.db import database_url, make_engine
from jakreg.store.tables import Base

config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(
    config.get_main_option("sqlalchemy.url") or database_url()
)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
