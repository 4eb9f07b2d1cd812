"""Server memory over reports and exports: RSS of the serving process before, during and after.

    .venv/bin/python -m benchmarks.server_memory [--patients 500] [--rounds 5]

Builds a synthetic study in a temporary SQLite database, serves it in this process (the FastAPI app
through Starlette's TestClient, as a worker would run it), logs in as an admin and downloads the
pooled report and the pooled workbook export `rounds` times each, printing the resident set size
(VmRSS, /proc/self/status) after each request and once more after a final garbage collection.
"""

from __future__ import annotations

import argparse
import gc
import re
import tempfile
from pathlib import Path

BASE_URL = "https://testserver"
PASSWORD = "a long enough password"  # noqa: S105 (a throw-away account in a temporary database)


def say(text: str) -> None:
    print(text, flush=True)


def rss_mb() -> float:
    text = Path("/proc/self/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=0, help="0: the bundled example")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from jakreg.study import example_path, import_path, init_database
    from jakreg.synth.write import write_synthetic
    from jakreg.web import cli_support
    from jakreg.web.app import create_app
    from jakreg.web.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        init_database(url)
        if args.patients:
            write_synthetic(folder / "study", patients=args.patients, centres=4, seed=3)
            import_path(folder / "study", url, actor="bench")
        else:
            import_path(example_path(), url, actor="bench")
        cli_support.user_add(url, "admin1", "admin", [], PASSWORD)
        app = create_app(Settings(db_url=url, secret_key="x" * 40))
        client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = client.post(
            "/login",
            data={"username": "admin1", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert r.status_code == 303, r.text
        gc.collect()
        say(f"patients {args.patients}; RSS after start-up and login: {rss_mb():.0f} MB")
        for i in range(args.rounds):
            r = client.get("/report")
            assert r.status_code == 200, r.text[:300]
            say(f"report {i + 1}: {len(r.content) / 1e6:.1f} MB zip; RSS {rss_mb():.0f} MB")
            r = client.get("/export")
            assert r.status_code == 200, r.text[:300]
            say(f"export {i + 1}: {len(r.content) / 1e6:.1f} MB xlsx; RSS {rss_mb():.0f} MB")
        gc.collect()
        say(f"RSS at the end (after gc.collect): {rss_mb():.0f} MB")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
