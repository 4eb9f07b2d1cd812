"""`jakreg monitor` on a synthetic registry: wall time of the whole command (target <= 5 s at 10k patients).

    .venv/bin/python benchmarks/monitor.py --patients 10000 [--keep DIR]

Builds the synthetic study (jakreg.synth, seed 1), imports it into a fresh SQLite database, then runs
`jakreg monitor --format json --as-of <synth cut-off>` three times in a child process and reports the median
wall time (interpreter start-up included), the visit count and the status counts. Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import synthetic_registry
from jakreg.synth.generate import DEFAULT_CUTOFF

JAKREG = Path(sys.executable).with_name("jakreg")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--centres", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="jakreg-bench-monitor-"))
    work.mkdir(parents=True, exist_ok=True)
    url = synthetic_registry(work, "monitor.db", args.patients, args.centres)
    db = url.removeprefix("sqlite:///")
    times = []
    data: dict = {}
    for _ in range(3):
        t = time.perf_counter()
        run = subprocess.run(
            [str(JAKREG), "monitor", "--db", str(db), "--format", "json", "--all",
             "--as-of", DEFAULT_CUTOFF.isoformat()],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
        if run.returncode not in (0, 3):
            sys.exit(f"jakreg monitor failed ({run.returncode}): {run.stderr}")
        data = json.loads(run.stdout)
    counts = Counter(v["status"] for v in data["visits"])
    print(json.dumps({"patients": args.patients, "visits": len(data["visits"]),
                      "statuses": dict(counts), "monitor_wall_s_median": round(statistics.median(times), 2),
                      "monitor_wall_s_runs": [round(x, 2) for x in times], "target_s": 5.0}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
