"""Crash safety of `jakreg import` on SQLite: SIGKILL at random points, concurrent imports, a read-only
database and a full disk. Each leaves the database exactly as it was, or exactly as a complete import."""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jakreg.study import audited_changes, import_path, init_database, verify_audit
from jakreg.synth import write_synthetic
from tests.scale.helpers import JAKREG, Dump, dump, integrity, jakreg, without_clock

KILLS = int(os.environ.get("JAKREG_KILLS", "20"))
SEED = 20261124  # fixed: the kill points are the same on every run


@dataclass
class Setup:
    folder: Path
    pristine: Path  # a database holding the first 5 patients
    new_study: Path  # the same 5 and 25 more
    before: Dump
    after: Dump  # the state a complete import of new_study leaves (without clock columns)
    seconds: float  # how long a complete `jakreg import` of new_study takes
    journal_seconds: float  # how long its write transaction holds the rollback journal


def _watch_journal(proc: subprocess.Popen[str], journal: Path) -> tuple[float, float]:
    """Poll until the process ends: (first, last) time the rollback journal was seen, 0 if never."""
    first = last = 0.0
    while proc.poll() is None:
        if journal.exists():
            now = time.perf_counter()
            first = first or now
            last = now
        time.sleep(0.001)
    return first, last


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    folder = tmp_path_factory.mktemp("crash")
    write_synthetic(folder / "base", patients=5, centres=3, seed=1)
    write_synthetic(folder / "new", patients=30, centres=3, seed=1)
    pristine = folder / "pristine.db"
    init_database(f"sqlite:///{pristine}")
    import_path(folder / "base", f"sqlite:///{pristine}", actor="setup")
    reference = folder / "reference.db"
    shutil.copy(pristine, reference)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [JAKREG, "import", str(folder / "new"), "--db", str(reference)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first, last = _watch_journal(proc, folder / "reference.db-journal")
    seconds = time.perf_counter() - started
    assert proc.returncode == 0
    assert first > 0, "the import never opened a rollback journal"
    return Setup(
        folder,
        pristine,
        folder / "new",
        dump(pristine),
        without_clock(dump(reference)),
        seconds,
        last - first,
    )


def test_sigkill_at_random_points_leaves_the_database_as_before(setup: Setup) -> None:
    rng = random.Random(SEED)
    db = setup.folder / "killed.db"
    journal = setup.folder / "killed.db-journal"
    shutil.copy(setup.pristine, db)
    outcomes = {"before": 0, "after": 0, "mid_write": 0}
    for i in range(KILLS):
        proc = subprocess.Popen(
            [JAKREG, "import", str(setup.new_study), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if i % 2 == 0:  # anywhere in the run, start-up included
            time.sleep(rng.uniform(0.05, 1.0) * setup.seconds)
        else:  # inside the write transaction: after the journal appears
            deadline = time.perf_counter() + 2 * setup.seconds + 5
            while not journal.exists() and proc.poll() is None and time.perf_counter() < deadline:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, 0.9) * setup.journal_seconds)
        hot = journal.exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert integrity(db) == "ok", f"kill {i}: damaged"
        state = dump(db)
        if state == setup.before:
            outcomes["before"] += 1
            outcomes["mid_write"] += hot
        else:
            assert without_clock(state) == setup.after, f"kill {i}: partial data"
            outcomes["after"] += 1  # killed after the commit: the import is complete
            shutil.copy(setup.pristine, db)
            for stale in setup.folder.glob("killed.db-*"):
                stale.unlink()
    assert outcomes["before"] + outcomes["after"] == KILLS
    assert outcomes["mid_write"] >= KILLS // 4, outcomes  # the write phase was really hit
    done = jakreg("import", str(setup.new_study), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert without_clock(dump(db)) == setup.after
    n, broken = verify_audit(f"sqlite:///{db}")
    assert broken is None
    assert n > 0


def test_two_concurrent_imports_serialise_without_partial_data(tmp_path: Path) -> None:
    a = write_synthetic(tmp_path / "a", patients=20, centres=3, seed=2)
    b = write_synthetic(tmp_path / "b", patients=20, centres=3, seed=2, first=20)
    db = tmp_path / "shared.db"
    init_database(f"sqlite:///{db}")
    procs = [
        subprocess.Popen(
            [JAKREG, "import", str(study), "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for study in (tmp_path / "a", tmp_path / "b")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    state = dump(db)
    from jakreg.store.tables import TABLE_FOR_SHEET

    for sheet, table in TABLE_FOR_SHEET.items():
        expected = a.rows[sheet] + b.rows[sheet] if sheet != "centres" else a.rows[sheet]
        assert len(state[table.__tablename__]) == expected, sheet
    assert len(state["import_batch"]) == 2
    _n, broken = verify_audit(f"sqlite:///{db}")
    assert broken is None
    changes = audited_changes(f"sqlite:///{db}")
    assert changes == a.total_rows + b.total_rows - b.rows["centres"]  # the second finds them there


@pytest.fixture
def small_db() -> Iterator[tuple[Path, Path]]:
    # Not under pytest's tmp_path: that is private to its owner, and the read-only test runs the import
    # as another user when the tests run as root.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        write_synthetic(root / "base", patients=3, centres=2, seed=3)
        write_synthetic(root / "more", patients=15, centres=2, seed=3)
        folder = root / "dbdir"
        folder.mkdir()
        db = folder / "study.db"
        init_database(f"sqlite:///{db}")
        import_path(root / "base", f"sqlite:///{db}", actor="setup")
        for path in [root / "more", *(root / "more").iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield db, root / "more"
        folder.chmod(0o755)


def test_a_read_only_database_gives_a_clear_error(small_db: tuple[Path, Path]) -> None:
    db, study = small_db
    before = dump(db)
    db.chmod(0o444)
    db.parent.chmod(0o555)
    # Root writes to any file, so as root the database is opened read-only instead (SQLite's
    # mode=ro): the same SQLITE_READONLY error a read-only file gives an ordinary user.
    target = f"sqlite:///file:{db}?mode=ro&uri=true" if os.geteuid() == 0 else str(db)
    try:
        proc = subprocess.run(
            [JAKREG, "import", str(study), "--db", target],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=db.parent,
        )
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: the database is read-only (attempt to write a readonly database); "
        "check the file's permissions"
    )
    assert proc.returncode == 1
    assert dump(db) == before


# The child runs the real CLI with every SQLite connection capped at the database's current size:
# SQLite then fails with SQLITE_FULL, the very error a full disk (ENOSPC) gives it.
_FULL_DISK_CLI = """
import sys
from sqlalchemy import event
from sqlalchemy.pool import Pool

@event.listens_for(Pool, "connect")
def _cap(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA max_page_count = %d")
    cursor.close()

sys.argv[0] = "jakreg"
from jakreg.cli import main
main()
"""


def _pages(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()


def test_a_full_disk_gives_a_clear_error_and_changes_nothing(small_db: tuple[Path, Path]) -> None:
    db, study = small_db
    before = dump(db)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _FULL_DISK_CLI % (_pages(db) + 2),
            "import",
            str(study),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: the disk is full (database or disk is full); free space and try again"
    )
    assert proc.returncode == 1
    assert integrity(db) == "ok"
    assert dump(db) == before
    done = jakreg("import", str(study), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert dump(db) != before


def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_file_size_limit_fails_cleanly_and_changes_nothing(small_db: tuple[Path, Path]) -> None:
    """RLIMIT_FSIZE makes write() fail with EFBIG, which SQLite reports as a disk I/O error."""
    db, study = small_db
    before = dump(db)
    limit = db.stat().st_size + 16 * 1024  # room for the journal, not for the new rows
    proc = subprocess.run(
        [JAKREG, "import", str(study), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: _file_size_limit(limit),  # only sets a limit in the child
    )
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: ")
    assert "disk" in proc.stderr
    assert proc.returncode == 1
    assert integrity(db) == "ok"
    assert dump(db) == before
