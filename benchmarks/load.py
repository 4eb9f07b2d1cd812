"""Server load: 50 API clients on 127.0.0.1 reading a patient and writing an assessment.

The server runs as `uvicorn jakreg.web.asgi:app --workers N --http jakreg.web.serving:HttpProtocol` (what
`jakreg serve` runs; N: its default, one per core) in a child process on a loopback port; the clients are
asyncio tasks in this process, each with its own keep-alive connection, bounded in time and in request
count, so the test always stops by itself. Only 127.0.0.1 is ever addressed.

Three load models, each for both request kinds (the keys of ``run_load``'s result):

- ``read_patient`` / ``write_assessment``: **closed loop, no think time**. Each of the 50 clients sends its
  next request the moment the last one is answered, so the server is saturated and, by Little's law,
  mean latency = clients / throughput: 50 ms at 50 clients needs 1,000 requests/s. This is the capacity
  figure (max throughput, and the queueing delay at saturation), not what 50 users see.
- ``read_patient_paced`` / ``write_assessment_paced``: **50 users with think time**. Each client waits
  0.5-1.5 s (uniform, mean 1 s) after every answer before its next request: about 50 requests/s offered,
  what 50 people working in the registry at once send. This is the latency a user sees.
- ``read_patient_1_client`` / ``write_assessment_1_client``: one client, no think time: the service time of
  one request without queueing.

Each phase also reports the server's and the load generator's CPU time per request (they share the same
cores, so a saturated closed loop measures both) and the machine's load average (other work on the same
cores delays every request). The clients speak minimal HTTP/1.1 over asyncio streams: httpx costs a few ms
of CPU per request, which would be taken from the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # loopback only, never another address
THINK_SECONDS = (0.5, 1.5)  # a paced client's pause after each answer (uniform; mean 1 s)
REQUEST_TIMEOUT = 30.0
CLOSED = "closed loop, no think time"
PACED = "think time {lo:g}-{hi:g} s after each answer (uniform)"


@dataclass
class Phase:
    """One request type under one load model: latencies of the successful requests, and every failure."""

    name: str
    clients: int
    load: str = CLOSED
    think_s: tuple[float, float] | None = None
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None
    loadavg: tuple[float | None, float | None] = (None, None)  # the machine's, at start and end

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def to_dict(self) -> dict[str, Any]:
        n = len(self.latencies_ms) + self.errors

        def per_request(cpu: float | None) -> float | None:
            return round(cpu * 1000 / n, 2) if cpu is not None and n else None

        throughput = n / self.seconds if self.seconds else None
        return {
            "phase": self.name,
            "load": self.load,
            "think_s": list(self.think_s) if self.think_s else None,
            "clients": self.clients,
            "requests": n,
            "ok": len(self.latencies_ms),
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(throughput, 1) if throughput else None,
            "p50_ms": self.percentile(50),
            "p95_ms": self.percentile(95),
            "p99_ms": self.percentile(99),
            "mean_ms": statistics.fmean(self.latencies_ms) if self.latencies_ms else None,
            "max_ms": max(self.latencies_ms) if self.latencies_ms else None,
            # Little's law for a closed loop without think time: what the mean latency must be.
            "clients_over_throughput_ms": (
                round(self.clients / throughput * 1000, 1)
                if throughput and self.think_s is None
                else None
            ),
            "server_cpu_ms_per_request": per_request(self.server_cpu_s),
            "client_cpu_ms_per_request": per_request(self.client_cpu_s),
            # other work on the same cores delays every request: the 1-minute load average
            "loadavg_1min": list(self.loadavg),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def make_token(url: str, secret: str) -> str:
    """An admin account and an API token for the load clients, written straight to the database."""
    from jakreg.store import db
    from jakreg.web import accounts
    from jakreg.web.settings import load_settings

    settings = load_settings(url, secret=secret)
    name = f"bench{secrets.token_hex(3)}"
    with db.open_session(url) as session:
        user = accounts.create_user(
            session,
            username=name,
            role="admin",
            centres=[],
            password=secrets.token_urlsafe(24),
            actor="benchmark",
        )
        token = accounts.create_api_token(session, settings, user, "load test")
        session.commit()
    return token


def patients(url: str) -> list[tuple[str, dt.date]]:
    """(pseudonym, last follow-up) of every patient, for the clients to pick from."""
    from sqlalchemy import select

    from jakreg.store import db
    from jakreg.store.tables import Patient

    with db.open_session(url) as session:
        return [
            (pid, last or dt.date.today())
            for pid, last in session.execute(select(Patient.patient_id, Patient.last_follow_up))
        ]


def use_wal(sqlite_file: Path) -> str:
    conn = sqlite3.connect(sqlite_file)
    try:
        return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
    finally:
        conn.close()


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _process_tree_cpu(root: int) -> float | None:
    """User + system CPU seconds of ``root`` and every process below it (Linux /proc), else None."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        parent: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            parent[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError):
        return None
    if root not in cpu:
        return None
    total, todo = 0.0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


class Server:
    """`uvicorn jakreg.web.asgi:app` on a free loopback port, stopped on exit."""

    def __init__(self, url: str, secret: str, workers: int) -> None:
        from jakreg.web.serving import HTTP_PROTOCOL

        self.port = free_port()
        env = {**os.environ, "JAKREG_DATABASE_URL": url, "JAKREG_SECRET_KEY": secret}
        env.pop("JAKREG_DEV", None)
        self.command = [
            sys.executable, "-m", "uvicorn", "jakreg.web.asgi:app", "--host", HOST,
            "--port", str(self.port), "--workers", str(workers), "--http", HTTP_PROTOCOL,
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            self.command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        return _process_tree_cpu(self.proc.pid)

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.proc.stderr.read()[-800:]}")  # type: ignore[union-attr]
            try:
                status, _ = asyncio.run(_once(self.port, token, "GET", "/api/v1/me"))
                if status == 200:
                    return
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group only
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Connection:
    """One client's keep-alive HTTP/1.1 connection to the server: a request, then its whole answer."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\n{self.head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _once(port: int, token: str, method: str, path: str) -> tuple[int, bytes]:
    conn = Connection(port, token)
    try:
        return await asyncio.wait_for(conn.request(method, path), REQUEST_TIMEOUT)
    finally:
        conn.close()


async def _run_phase(
    port: int,
    token: str,
    phase: Phase,
    people: list[tuple[str, dt.date]],
    *,
    seconds: float,
    max_requests: int,
    seed: int,
    offsets: dict[str, int],
) -> None:
    rng = random.Random(seed)  # noqa: S311 (which patient to ask for, not a secret)
    sent = 0

    async def one(conn: Connection) -> None:
        pid, last = rng.choice(people)
        if phase.name == "read_patient":
            method, path, body = "GET", f"/api/v1/patients/{pid}", None
        else:
            # A new assessment on a day no other request uses for this patient.
            offsets[pid] = offsets.get(pid, 0) + 1
            day = last - dt.timedelta(days=offsets[pid])
            values = {"date": day.isoformat(), "score": "IDDA-load-test",
                      "score_version": "unknown", "total": round(rng.uniform(0, 40), 1)}  # fmt: skip
            method, path = "POST", f"/api/v1/patients/{pid}/assessments"
            body = json.dumps({"values": values}).encode()
        started = time.perf_counter()
        try:
            status, data = await asyncio.wait_for(conn.request(method, path, body), REQUEST_TIMEOUT)
            ok = status < 400
            what = f"HTTP {status}: {data[:200].decode(errors='replace')}"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError) as exc:  # fmt: skip
            conn.close()
            ok, what = False, f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - started) * 1000
        if ok:
            phase.latencies_ms.append(ms)
        else:
            phase.errors += 1
            phase.error_samples.append(what)

    async def client(deadline: float) -> None:
        nonlocal sent
        conn = Connection(port, token)
        try:
            if phase.think_s:  # users do not all start at the same instant
                await asyncio.sleep(rng.uniform(0, phase.think_s[1]))
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                await one(conn)
                if phase.think_s:
                    pause = rng.uniform(*phase.think_s)
                    await asyncio.sleep(max(0.0, min(pause, deadline - time.perf_counter())))
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(started + seconds) for _ in range(phase.clients)))
    phase.seconds = time.perf_counter() - started


def _measure(
    server: Server,
    token: str,
    phase: Phase,
    people: list[tuple[str, dt.date]],
    *,
    seconds: float,
    max_requests: int,
    seed: int,
    offsets: dict[str, int],
) -> Phase:
    load = _loadavg()
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    asyncio.run(
        _run_phase(server.port, token, phase, people, seconds=seconds,
                   max_requests=max_requests, seed=seed, offsets=offsets)
    )  # fmt: skip
    after = server.cpu_seconds()
    phase.server_cpu_s = (
        after - server_cpu if after is not None and server_cpu is not None else None
    )
    phase.client_cpu_s = time.process_time() - client_cpu
    phase.loadavg = (load, _loadavg())
    return phase


def run_load(
    url: str,
    *,
    clients: int = 50,
    seconds: float = 20,
    warmup: float = 3,
    max_requests: int = 50_000,
    workers: int | None = None,
    seed: int = 1,
    think_s: tuple[float, float] = THINK_SECONDS,
    only: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Start a server on ``url`` and measure every phase; the server is stopped whatever happens.

    ``workers``: uvicorn worker processes (default: what `jakreg serve` starts on this machine);
    ``only``: the phases to run (keys of the result), default all.
    """
    from jakreg.web.serving import default_workers

    workers = workers or default_workers()
    secret = secrets.token_urlsafe(48)
    token = make_token(url, secret)
    people = patients(url)
    server = Server(url, secret, workers)
    try:
        server.wait_ready(token)
        paced = PACED.format(lo=think_s[0], hi=think_s[1])
        result: dict[str, Any] = {
            "server": " ".join(server.command),
            "workers": workers,
            "cores": os.cpu_count(),
            "load_models": {
                "closed": f"{clients} clients, {CLOSED}: saturation; mean latency = "
                f"clients / throughput (Little's law)",
                "paced": f"{clients} clients, {paced}: about {clients} users working at once",
                "1_client": f"1 client, {CLOSED}: service time without queueing",
            },
        }
        offsets: dict[str, int] = {}  # shared by warm-up and measurement: no day is used twice
        for key, name, n_clients, think in (
            ("read_patient", "read_patient", clients, None),
            ("write_assessment", "write_assessment", clients, None),
            ("read_patient_paced", "read_patient", clients, think_s),
            ("write_assessment_paced", "write_assessment", clients, think_s),
            ("read_patient_1_client", "read_patient", 1, None),
            ("write_assessment_1_client", "write_assessment", 1, None),
        ):
            if only is not None and key not in only:
                continue
            load = CLOSED if think is None else paced
            warm = Phase(name, n_clients, load, think)
            _measure(server, token, warm, people, seconds=warmup, max_requests=max_requests,
                     seed=seed + 100, offsets=offsets)  # fmt: skip
            phase = Phase(name, n_clients, load, think)
            _measure(server, token, phase, people,
                     seconds=seconds if n_clients > 1 else min(seconds, 5),
                     max_requests=max_requests, seed=seed, offsets=offsets)  # fmt: skip
            result[key] = phase.to_dict()
            result[key]["warmup_errors"] = warm.errors
        return result
    finally:
        server.stop()
