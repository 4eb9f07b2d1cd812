"""`jakreg init` upgrades a round-1 database (schema 0002, with data) to the queries and outbox tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from jakreg.store.db import _alembic_config, current_revision, head_revision, make_engine
from jakreg.study import init_database


def test_init_upgrades_a_round_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        command.upgrade(_alembic_config(engine), "0002")
        assert current_revision(engine) == "0002"
    finally:
        engine.dispose()
        with engine.begin() as conn:  # data written by round 1 survives the upgrade
            conn.execute(
                text(
                    "INSERT INTO centre (centre, name, country, version) VALUES ('BCN', 'b', 'ES', 1)"
                )
            )
    _, before, after = init_database(url)
    assert (before, after) == ("0002", head_revision())
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT centre FROM centre")).scalar_one() == "BCN"
    finally:
        engine.dispose()
    assert {"data_query", "query_message", "outbox_event", "notification_digest"} <= tables
