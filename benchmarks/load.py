"""Server load: 50 concurrent API clients on 127.0.0.1 reading a patient and writing an assessment.

The server runs as `uvicorn jakreg.web.asgi:app` in a child process on a loopback port; the clients are an
asyncio + httpx loop in this process, bounded in time and in request count, so the test always stops by
itself. Only 127.0.0.1 is ever addressed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # loopback only, never another address


@dataclass
class Phase:
    """One request type under load: latencies of the successful requests, and every failure."""

    name: str
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def to_dict(self) -> dict[str, Any]:
        n = len(self.latencies_ms) + self.errors
        return {
            "phase": self.name,
            "clients": self.clients,
            "requests": n,
            "ok": len(self.latencies_ms),
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(n / self.seconds, 1) if self.seconds else None,
            "p50_ms": self.percentile(50),
            "p95_ms": self.percentile(95),
            "p99_ms": self.percentile(99),
            "mean_ms": statistics.fmean(self.latencies_ms) if self.latencies_ms else None,
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


class Server:
    """`uvicorn jakreg.web.asgi:app` on a free loopback port, stopped on exit."""

    def __init__(self, url: str, secret: str, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "JAKREG_DATABASE_URL": url, "JAKREG_SECRET_KEY": secret}
        env.pop("JAKREG_DEV", None)
        self.command = [
            sys.executable, "-m", "uvicorn", "jakreg.web.asgi:app", "--host", HOST,
            "--port", str(self.port), "--workers", str(workers), "--log-level", "warning",
            "--no-access-log",
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

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.proc.stderr.read()[-800:]}")  # type: ignore[union-attr]
            try:
                r = httpx.get(
                    f"{self.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                )
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the server did not answer within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group only
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


async def _run_phase(
    base: str,
    token: str,
    phase: Phase,
    people: list[tuple[str, dt.date]],
    *,
    seconds: float,
    max_requests: int,
    seed: int,
    offsets: dict[str, int],
) -> None:
    import httpx

    rng = random.Random(seed)  # noqa: S311 (which patient to ask for, not a secret)
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    limits = httpx.Limits(max_connections=phase.clients, max_keepalive_connections=phase.clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as c:

        async def one() -> None:
            pid, last = rng.choice(people)
            if phase.name == "read_patient":
                request = c.get(f"/api/v1/patients/{pid}")
            else:
                # A new assessment on a day no other request uses for this patient.
                offsets[pid] = offsets.get(pid, 0) + 1
                day = last - dt.timedelta(days=offsets[pid])
                body = {"values": {"date": day.isoformat(), "score": "IDDA-load-test",
                                   "score_version": "unknown", "total": round(rng.uniform(0, 40), 1)}}  # fmt: skip
                request = c.post(f"/api/v1/patients/{pid}/assessments", json=body)
            started = time.perf_counter()
            try:
                r = await request
                ok = r.status_code < 400
                what = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                ok, what = False, f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - started) * 1000
            if ok:
                phase.latencies_ms.append(ms)
            else:
                phase.errors += 1
                phase.error_samples.append(what)

        async def client(deadline: float) -> None:
            nonlocal sent
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                await one()

        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client(deadline) for _ in range(phase.clients)))
        phase.seconds = time.perf_counter() - started


def run_load(
    url: str,
    *,
    clients: int = 50,
    seconds: float = 20,
    warmup: float = 3,
    max_requests: int = 20_000,
    workers: int = 2,
    seed: int = 1,
) -> dict[str, Any]:
    """Start a server on ``url`` and measure both phases; the server is stopped whatever happens."""
    secret = secrets.token_urlsafe(48)
    token = make_token(url, secret)
    people = patients(url)
    server = Server(url, secret, workers)
    try:
        server.wait_ready(token)
        result: dict[str, Any] = {"server": " ".join(server.command), "workers": workers}
        offsets: dict[str, int] = {}  # shared by warm-up and measurement: no day is used twice
        # 50 clients for the figures; then 1 client, which shows the service time without queueing.
        for name, n_clients, key in (
            ("read_patient", clients, "read_patient"),
            ("write_assessment", clients, "write_assessment"),
            ("read_patient", 1, "read_patient_1_client"),
            ("write_assessment", 1, "write_assessment_1_client"),
        ):
            warm = Phase(name, n_clients)
            asyncio.run(
                _run_phase(server.base, token, warm, people, seconds=warmup,
                           max_requests=max_requests, seed=seed + 100, offsets=offsets)
            )  # fmt: skip
            phase = Phase(name, n_clients)
            asyncio.run(
                _run_phase(server.base, token, phase, people,
                           seconds=seconds if n_clients > 1 else min(seconds, 5),
                           max_requests=max_requests, seed=seed, offsets=offsets)
            )  # fmt: skip
            result[key] = phase.to_dict()
            result[key]["warmup_errors"] = warm.errors
        return result
    finally:
        server.stop()
