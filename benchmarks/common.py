"""Shared by the benchmarks: the machine's description, a child process measured for time and peak RSS."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYTHON = sys.executable
JAKREG = str(Path(sys.executable).with_name("jakreg"))
ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return 0.0


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception as exc:  # a missing server is a fact to report, not a crash
        return f"unavailable ({type(exc).__name__})"


def machine_info(postgres_url: str | None = None) -> dict[str, Any]:
    import jakreg

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(postgres_url),
        "jakreg": jakreg.__version__,
    }


@dataclass
class Child:
    """One finished child process: its wall time, peak resident memory, exit code and output."""

    command: list[str]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    stopped: str | None = None  # why the benchmark stopped it (time or memory cap), if it did
    cpu_seconds: float = 0.0  # user + system time of the command (less sensitive to other load)
    # the largest sum of resident memory over the command and all its descendants at one moment,
    # sampled every 0.25 s (the import's HPO look-up runs in a helper process)
    group_peak_rss_mb: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.stopped is None

    def shown(self) -> str:
        return shlex.join(self.command)

    def failure(self) -> str:
        if self.stopped:
            return self.stopped
        tail = (self.stderr or self.stdout).strip().splitlines()[-3:]
        return f"exit {self.returncode}: " + " | ".join(tail)


# A tiny launcher between the benchmark and the measured command. Linux keeps the peak RSS of a process
# across exec, and a child forked from this benchmark (which has jakreg, SQLAlchemy... loaded) would start
# with the benchmark's own ~200 MB; forked from a bare interpreter it starts at ~10 MB. The launcher also
# times the command itself, without its own start-up.
_LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}, fh)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_child(
    command: list[str],
    *,
    timeout: float = 1800,
    rss_cap_mb: float = 16_000,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Child:
    """Run a command to its end; measure its wall time and peak RSS (getrusage of that child, via wait4).

    A command over ``timeout`` seconds or ``rss_cap_mb`` MB resident is killed (with its process group),
    so that a benchmark run always ends and never takes the machine down.
    """
    base = Path(tempfile.gettempdir()) / f"bench-{os.getpid()}-{time.monotonic_ns()}"
    stopped: list[str] = []
    with open(f"{base}.out", "w+") as out, open(f"{base}.err", "w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, "-I", "-S", "-c", _LAUNCHER, f"{base}.json", *command],
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own process group: the caps stop the command too
        )
        done = threading.Event()

        def stop(why: str) -> None:
            stopped.append(why)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        group_peak = [0.0]

        def guard() -> None:
            while not done.wait(0.25):
                if time.perf_counter() - started > timeout:
                    stop(f"stopped after the {timeout:.0f} s time cap")
                    return
                group = _group_rss_mb(proc.pid)
                group_peak[0] = max(group_peak[0], group)
                if group > rss_cap_mb:
                    stop(f"stopped at the {rss_cap_mb:.0f} MB memory cap")
                    return

        watcher = threading.Thread(target=guard, daemon=True)
        watcher.start()
        proc.wait()
        wall = time.perf_counter() - started
        done.set()
        watcher.join()
        out.seek(0)
        err.seek(0)
        measured: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            measured = json.loads(Path(f"{base}.json").read_text())
        if measured.get("signal") and not stopped:
            number = int(measured["signal"])
            stopped.append(
                f"killed by signal {number} ({signal.Signals(number).name}) from outside"
            )
        result = Child(
            command,
            float(measured.get("seconds", wall)),
            float(measured.get("maxrss_kb", 0)) / 1024,  # kilobytes on Linux
            proc.returncode,
            out.read(),
            err.read(),
            stopped[0] if stopped else None,
            float(measured.get("cpu_seconds", 0.0)),
            group_peak[0],
        )
    for suffix in (".out", ".err", ".json"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)
    return result


def _group_rss_mb(root: int) -> float:
    """Resident memory of a process and its descendants (the launcher and the command)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24 of stat: rss in pages
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            todo.extend(int(c) for c in children)
    return total / 1024**2


@dataclass
class Figure:
    """One measured quantity: every run's value, their median, how it was measured and on what."""

    name: str
    unit: str
    command: str
    n_patients: int | None = None
    rows: int | None = None
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    # Other work on the machine slows a figure down: the 1-minute load average when it was started.
    loadavg: float = field(default_factory=lambda: round(os.getloadavg()[0], 2))

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_patients": self.n_patients,
            "rows": self.rows,
            "median": self.median,
            "unit": self.unit,
            "runs": self.runs,
            "n_runs": len(self.runs),
            "peak_rss_mb": self.peak_rss_mb,
            "command": self.command,
            "note": self.note,
            "loadavg_1min_at_start": self.loadavg,
            **({"extra": self.extra} if self.extra else {}),
            "machine": self.machine,
        }


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def synthetic_registry(work: Path, db_name: str, patients: int, centres: int) -> str:
    """``work/db_name``, a SQLite registry of a synthetic study (jakreg.synth, seed 1; its CSVs in
    ``work/study``) imported with ``jakreg.study``; its URL. An existing database is reused as is."""
    from jakreg.study import import_path, init_database
    from jakreg.synth.write import write_synthetic

    path = work / db_name
    url = f"sqlite:///{path}"
    if not path.exists():
        t = time.perf_counter()
        write_synthetic(work / "study", patients=patients, centres=centres, seed=1)
        init_database(url)
        import_path(work / "study", url, actor="bench")
        print(f"built and imported {patients} patients in {time.perf_counter() - t:.0f} s")
    return url
