"""Before/after of one change to the importer: `jakreg import` of one study from two source trees, runs
interleaved (A B A B ...) so both see the same load on a shared machine; CPU seconds next to wall.

    python benchmarks/ab_import.py STUDY BEFORE_SRC AFTER_SRC [--runs 3] [--postgres URL]

BEFORE_SRC/AFTER_SRC: folders holding the jakreg package (e.g. a `git archive` of the old commit's src).
--postgres: import into a fresh PostgreSQL database per run (created on that server, dropped afterwards)
instead of a SQLite file.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import JAKREG, run_child


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("study", type=Path)
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--postgres", metavar="URL", help="e.g. postgresql+psycopg://postgres@127.0.0.1/test"
    )
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jakreg-ab-"))
    measured: dict[str, dict[str, list[float]]] = {}
    for r in range(args.runs):
        for label, src in (("before", args.before), ("after", args.after)):
            env = {**os.environ, "PYTHONPATH": str(src.resolve())}
            db = _fresh_db(args.postgres, work, f"jakreg_ab_{label}_{r}")
            run_child([JAKREG, "init", "--db", str(db)], env=env)
            done = run_child(
                [JAKREG, "import", str(args.study), "--db", str(db), "--actor", "ab"], env=env
            )
            if not done.ok:
                raise SystemExit(f"{label} run {r + 1}: {done.failure()}")
            inner = re.search(r"([\d,]+) rows in ([\d.]+) s", done.stdout)
            assert inner is not None, done.stdout[-500:]
            m = measured.setdefault(label, {"seconds": [], "cpu": [], "rows": []})
            m["seconds"].append(float(inner.group(2)))
            m["cpu"].append(done.cpu_seconds)
            m["rows"].append(float(inner.group(1).replace(",", "")))
            print(
                f"{label} run {r + 1}: {inner.group(2)} s, CPU {done.cpu_seconds:.1f} s", flush=True
            )
            _drop_db(args.postgres, work, f"jakreg_ab_{label}_{r}")
    print(
        "\n| code | runs | median s (importer's timer) | rows/s | median CPU s |\n|---|---|---|---|---|"
    )
    for label, m in measured.items():
        s = statistics.median(m["seconds"])
        print(
            f"| {label} | {len(m['seconds'])} | {s:.2f} | {m['rows'][0] / s:,.0f} | "
            f"{statistics.median(m['cpu']):.2f} |"
        )
    b, a = (statistics.median(measured[k]["seconds"]) for k in ("before", "after"))
    print(f"\nafter / before: {a / b:.3f} of the time ({b / a:.2f}× the rows/s)")


def _admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _fresh_db(postgres: str | None, work: Path, name: str) -> str:
    """A new, empty database: a SQLite file in ``work``, or ``name`` on the PostgreSQL server."""
    if postgres is None:
        return str(work / f"{name}.db")
    from sqlalchemy.engine import make_url

    with _admin(postgres) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(postgres).set(database=name).render_as_string(hide_password=False)


def _drop_db(postgres: str | None, work: Path, name: str) -> None:
    if postgres is None:
        for stale in work.glob(f"{name}.db*"):
            stale.unlink()
        return
    with _admin(postgres) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
