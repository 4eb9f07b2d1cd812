"""The dashboard page (`GET /`) on a synthetic registry: p50/p95 over N requests (target p95 <= 200 ms at 10k
patients). Not a timed test.

    .venv/bin/python benchmarks/dashboard.py --patients 10000 [--keep DIR] [--requests 30]

Builds the synthetic study (jakreg.synth, seed 1) into a fresh SQLite database, or reuses DIR/dashboard.db
(`--keep`), derives its safety signals, then sends `GET /?as_of=<synth cut-off>` through FastAPI's
TestClient (the whole app: session cookie, scoping, the engine, the template) as an admin (every centre),
a centre editor (one centre) and an analyst (pooled). For each it reports the first request on an empty
cache (the engine runs) and p50/p95 of the next N; the patient page (visits and signals) of one patient;
then the admin's first request after a change to one centre's data (an acknowledged signal: that centre is
recomputed, the others reused).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import synthetic_registry
from jakreg.monitoring.signals import acknowledge_signal, derive_signals
from jakreg.store import db
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import Centre
from jakreg.synth.generate import DEFAULT_CUTOFF
from jakreg.web import accounts
from jakreg.web.app import create_app
from jakreg.web.dashboard import DashboardCache
from jakreg.web.settings import Settings

PASSWORD = "bench bench bench bench"  # noqa: S105 (a throw-away local account)
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105


def _build(work: Path, patients: int, centres: int) -> str:
    """The registry (built once; reused with --keep), with its safety signals and three accounts."""
    fresh = not (work / "dashboard.db").exists()
    url = synthetic_registry(work, "dashboard.db", patients, centres)
    if fresh:
        with db.open_session(url) as session:
            derive_signals(session, user="bench")
            first = session.scalar(select(Centre.centre).order_by(Centre.centre))
            for name, role, where in (("bench-admin", "admin", []), ("bench-analyst", "analyst", []),
                                      ("bench-editor", "centre_editor", [first])):  # fmt: skip
                accounts.create_user(session, username=name, role=role, centres=where,
                                     password=PASSWORD, actor="bench")  # fmt: skip
            session.commit()
    return url


def _first_centre(url: str) -> str:
    with db.open_session(url) as session:
        return str(session.scalar(select(Centre.centre).order_by(Centre.centre)))


def _login(app: Any, username: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1)})  # fmt: skip
    assert r.status_code == 303, r.text
    return client


def _ms(client: TestClient, path: str) -> float:
    t = time.perf_counter()
    r = client.get(path)
    elapsed = (time.perf_counter() - t) * 1000
    assert r.status_code == 200, r.text[:300]
    return elapsed


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--centres", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="jakreg-bench-dashboard-"))
    work.mkdir(parents=True, exist_ok=True)
    url = _build(work, args.patients, args.centres)
    app = create_app(Settings(db_url=url, secret_key=SECRET, dev=True))
    path = f"/?as_of={DEFAULT_CUTOFF.isoformat()}"
    out: dict[str, Any] = {"patients": args.patients, "centres": args.centres,
                           "requests": args.requests, "as_of": DEFAULT_CUTOFF.isoformat(),
                           "target_p95_ms": 200}  # fmt: skip
    clients = {who: _login(app, f"bench-{who}") for who in ("admin", "editor", "analyst")}
    for who, client in clients.items():
        app.state.dashboard_cache = DashboardCache()  # each role's first request on an empty cache
        first = _ms(client, path)
        runs = [_ms(client, path) for _ in range(args.requests)]
        out[who] = {"first_ms": round(first, 1), "p50_ms": round(statistics.median(runs), 1),
                    "p95_ms": round(_quantile(runs, 0.95), 1), "max_ms": round(max(runs), 1)}  # fmt: skip
    # the patient page (visits and signals of one patient) of a patient at the editor's centre
    listed = clients["editor"].get(path + "&centre=" + _first_centre(url) + "&show=on_drug").text
    found = re.search(r'<li><a href="(/patients/[^"#]+)', listed)
    if found is not None:
        runs = [_ms(clients["editor"], found.group(1)) for _ in range(args.requests)]
        out["patient_page"] = {"p50_ms": round(statistics.median(runs), 1),
                               "p95_ms": round(_quantile(runs, 0.95), 1)}  # fmt: skip
    # a change to the data (one centre's signal): the next request recomputes that centre only
    with db.open_session(url) as session:
        signal = session.scalar(select(SafetySignal.id).where(SafetySignal.state == "open"))
        if signal is not None:
            acknowledge_signal(session, signal, user="bench", comment="benchmark")
            session.commit()
    out["admin_after_change_first_ms"] = round(_ms(clients["admin"], path), 1)
    cache = app.state.dashboard_cache
    out["cache"] = {"hits": cache.hits, "misses": cache.misses}
    app.state.engine.dispose()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
