"""jakreg.store.backup: an online SQLite backup that restores to the same tables, row for row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jakreg.store.backup import BackupError, backup, restore
from jakreg.study import import_path, init_database, verify_audit
from jakreg.synth import write_synthetic
from tests.scale.helpers import dump


@pytest.fixture
def study_db(tmp_path: Path) -> Path:
    write_synthetic(tmp_path / "study", patients=12, centres=3, seed=8)
    db = tmp_path / "study.db"
    init_database(f"sqlite:///{db}")
    import_path(tmp_path / "study", f"sqlite:///{db}", actor="backup test")
    return db


def test_backup_then_restore_into_a_new_file_gives_every_table_back(
    study_db: Path, tmp_path: Path
) -> None:
    saved = backup(str(study_db), tmp_path / "study.backup")
    assert saved.tables["patient"] == 12
    assert saved.rows > 1000
    restored = tmp_path / "restored.db"
    summary = restore(tmp_path / "study.backup", str(restored))
    assert summary.tables == saved.tables
    assert dump(restored) == dump(study_db)
    n, broken = verify_audit(f"sqlite:///{restored}")
    assert broken is None
    assert n == saved.tables["audit_event"]


def test_restore_into_a_freshly_initialised_database_is_allowed(
    study_db: Path, tmp_path: Path
) -> None:
    backup(f"sqlite:///{study_db}", tmp_path / "b.db")
    target = tmp_path / "empty.db"
    init_database(f"sqlite:///{target}")
    restore(tmp_path / "b.db", f"sqlite:///{target}")
    assert dump(target) == dump(study_db)


def test_backup_is_a_consistent_snapshot_while_a_writer_is_busy(
    study_db: Path, tmp_path: Path
) -> None:
    before = dump(study_db)
    writer = sqlite3.connect(study_db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE centre SET name = 'half-written' WHERE id = 1")
    try:
        backup(str(study_db), tmp_path / "during.db")
    finally:
        writer.execute("COMMIT")
        writer.close()
    assert dump(tmp_path / "during.db") == before  # the uncommitted change is not in it


def test_restore_refuses_to_overwrite_data_unless_forced(study_db: Path, tmp_path: Path) -> None:
    backup(str(study_db), tmp_path / "b.db")
    other = tmp_path / "other"
    write_synthetic(other, patients=2, centres=1, seed=99)
    target = tmp_path / "target.db"
    init_database(f"sqlite:///{target}")
    import_path(other, f"sqlite:///{target}", actor="other")
    kept = dump(target)
    with pytest.raises(BackupError) as caught:
        restore(tmp_path / "b.db", str(target))
    assert str(caught.value) == (
        f"the database {target} already holds data; restoring would replace it. "
        "Back it up first, then restore with --force"
    )
    assert dump(target) == kept
    restore(tmp_path / "b.db", str(target), force=True)
    assert dump(target) == dump(study_db)


def test_postgresql_is_pointed_to_pg_dump() -> None:
    with pytest.raises(BackupError) as caught:
        backup("postgresql+psycopg://user:secret@localhost/jakreg", Path("x.dump"))
    message = str(caught.value)
    assert message.startswith("jakreg backup and restore work on SQLite files; back up PostgreSQL")
    assert "pg_dump --format=custom" in message
    assert "pg_restore --clean --if-exists" in message
    assert "secret" not in message
    with pytest.raises(BackupError, match="pg_dump"):
        restore(Path("x.dump"), "postgresql://localhost/jakreg")


def test_backup_never_overwrites_and_refuses_what_is_not_a_jakreg_database(
    study_db: Path, tmp_path: Path
) -> None:
    (tmp_path / "taken.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists; give a new file name"):
        backup(str(study_db), tmp_path / "taken.db")
    assert (tmp_path / "taken.db").read_bytes() == b"keep me"
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError, match="is not a jakreg database"):
        backup(str(plain), tmp_path / "p.backup")
    assert not (tmp_path / "p.backup").exists()
    assert not list(tmp_path.glob(".*partial"))
    with pytest.raises(BackupError, match="is not a jakreg database"):
        restore(plain, str(tmp_path / "new.db"))
    (tmp_path / "junk.backup").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(BackupError, match="is not a SQLite database"):
        restore(tmp_path / "junk.backup", str(tmp_path / "new.db"))
    with pytest.raises(BackupError, match="does not exist"):
        backup(str(tmp_path / "missing.db"), tmp_path / "m.backup")
