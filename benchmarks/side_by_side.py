"""Side by side (issue 17): the validated `jakreg import` next to plain loaders of the same CSV study, and
`jakreg report` next to a DuckDB script of its headline counts, all in one run, into fresh databases.

    python benchmarks/side_by_side.py                       # N = 1,000 and 10,000 patients
    python benchmarks/side_by_side.py --with-100k           # and 100,000 (hours)
    python benchmarks/side_by_side.py --postgres URL        # PostgreSQL too ($JAKREG_TEST_POSTGRES_URL)

Per N, on one synthetic CSV study (`jakreg synth`, seed 1, 20 centres):
  SQLite: `jakreg import` (validated, audited, derived) vs benchmarks/baseline.py (raw executemany of the
  same rows into the same schema) vs pandas read_csv + to_sql (same schema) vs DuckDB read_csv (into its own
  file); PostgreSQL: `jakreg import` vs psycopg 3 COPY of the same rows (each run in its own database,
  dropped afterwards); `jakreg report` on the SQLite database vs benchmarks/loaders.py report-duckdb.
Every figure is the median of --runs (3) runs; the validated imports at N >= 10,000 take --large-runs (1).
rows/s and the ratios use each loader's own timer (no interpreter start-up); wall time is shown too.
The table goes to stdout, and to a marked section of benchmarks/results.md (and results-side-by-side.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import JAKREG, PYTHON, machine_info, run_child

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- side-by-side: begin (written by benchmarks/side_by_side.py) -->"
END = "<!-- side-by-side: end -->"
TARGETS = {"sqlite_ratio": 0.5, "sqlite_rows_per_s": 200_000, "pg_ratio": 0.3, "report_ratio": 3.0}


@dataclass
class Measured:
    """One loader at one N: every run's own-timer seconds and wall seconds."""

    what: str
    backend: str
    n: int
    rows: int
    seconds: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def wall_median(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.median if self.median else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "backend": self.backend,
            "n_patients": self.n,
            "rows": self.rows,
            "seconds": self.seconds,
            "wall_seconds": self.wall,
            "median_s": self.median,
            "rows_per_s": self.rows_per_s,
            "note": self.note,
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1000,10000", help="patients per size (default 1000,10000)")
    p.add_argument("--with-100k", action="store_true", help="add N = 100,000 (hours)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    p.add_argument(
        "--large-runs", type=int, default=1, help="runs of a validated import at N >= 10,000"
    )
    p.add_argument("--postgres", default=os.environ.get("JAKREG_TEST_POSTGRES_URL"), help="URL")
    p.add_argument("--skip", default="", help="any of: import,report,postgres")
    p.add_argument("--timeout", type=float, default=7200)
    p.add_argument("--out", type=Path, default=HERE / "results.md")
    args = p.parse_args(argv)
    args.sizes = [int(x) for x in args.sizes.split(",") if x] + (
        [100_000] if args.with_100k else []
    )
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if "postgres" in args.skip:
        args.postgres = None
    return args


class SideBySide:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="jakreg-sbs-"))
        self.results: list[Measured] = []
        self.numbers: dict[int, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def log(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {text}", flush=True)

    def child(self, command: list[str]) -> Any:
        done = run_child(command, timeout=self.args.timeout)
        if not done.ok:
            raise RuntimeError(f"{' '.join(command[:3])}: {done.failure()}")
        return done

    def fresh_sqlite(self, name: str) -> Path:
        db = self.work / f"{name}.db"
        for stale in self.work.glob(f"{name}.db*"):
            stale.unlink()
        self.child([JAKREG, "init", "--db", str(db)])
        return db

    def pg_database(self, name: str) -> str:
        import psycopg
        from sqlalchemy.engine import make_url

        url = self.args.postgres
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        target = make_url(url).set(database=name).render_as_string(hide_password=False)
        self.child([JAKREG, "init", "--db", target])
        return target

    def pg_drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(_plain(self.args.postgres), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def runs(self, n: int, validated: bool) -> int:
        return self.args.large_runs if validated and n >= 10_000 else self.args.runs

    # --- one N -------------------------------------------------------------------------------

    def size(self, n: int) -> None:
        from jakreg.synth import write_synthetic

        study = self.work / f"study-{n}"
        rows = write_synthetic(study, patients=n, centres=20, seed=1, fmt="csv").total_rows
        self.log(f"N={n}: synthetic study of {rows:,} rows")
        keep: Path | None = None
        duck_keep: Path | None = None
        if "import" not in self.args.skip or "report" not in self.args.skip:
            m = Measured("jakreg import (validated)", "sqlite", n, rows)
            for r in range(self.runs(n, True)):
                db = self.fresh_sqlite(f"jakreg-{n}-{r}")
                done = self.child([JAKREG, "import", str(study), "--db", str(db), "--actor", "b"])
                inner = re.search(r"rows in ([\d.]+) s", done.stdout)
                m.seconds.append(float(inner.group(1)) if inner else done.seconds)
                m.wall.append(done.seconds)
                self.log(f"N={n} jakreg import run {r + 1}: {m.seconds[-1]:.1f} s")
                if keep is None:
                    keep = db
                else:
                    db.unlink()
            self.results.append(m)
        if "import" not in self.args.skip:
            self.loader(n, rows, "raw executemany (baseline.py)", "sqlite",
                        lambda db: [PYTHON, str(HERE / "baseline.py"), str(study), str(db)])  # fmt: skip
            self.loader(n, rows, "pandas read_csv + to_sql", "sqlite",
                        lambda db: [PYTHON, str(HERE / "loaders.py"), "pandas", str(study), str(db)])  # fmt: skip
            duck = Measured("DuckDB read_csv (own file)", "duckdb", n, rows)
            for r in range(self.args.runs):
                target = self.work / f"duck-{n}-{r}.duckdb"
                target.unlink(missing_ok=True)
                done = self.child(
                    [PYTHON, str(HERE / "loaders.py"), "duckdb", str(study), str(target)]
                )
                duck.seconds.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
                duck.wall.append(done.seconds)
                if duck_keep is None:
                    duck_keep = target
                else:
                    target.unlink()
            self.results.append(duck)
            self.log(f"N={n} duckdb: {duck.median:.2f} s")
            if self.args.postgres:
                self.postgres(n, rows, study)
        if "report" not in self.args.skip and keep is not None:
            self.report(n, rows, keep, duck_keep, study)

    def loader(self, n: int, rows: int, what: str, backend: str, command: Any) -> None:
        m = Measured(what, backend, n, rows)
        for r in range(self.args.runs):
            db = self.fresh_sqlite(f"loader-{n}-{r}")
            done = self.child(command(db))
            m.seconds.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
            m.wall.append(done.seconds)
            db.unlink()
        self.results.append(m)
        self.log(f"N={n} {what}: {m.median:.2f} s")

    def postgres(self, n: int, rows: int, study: Path) -> None:
        validated = Measured("jakreg import (validated)", "postgresql", n, rows)
        copy = Measured("psycopg 3 COPY", "postgresql", n, rows)
        for r in range(self.runs(n, True)):
            name = f"jakreg_sbs_{os.getpid()}_{n}_{r}"
            try:
                url = self.pg_database(name)
                done = self.child([JAKREG, "import", str(study), "--db", url, "--actor", "b"])
                inner = re.search(r"rows in ([\d.]+) s", done.stdout)
                validated.seconds.append(float(inner.group(1)) if inner else done.seconds)
                validated.wall.append(done.seconds)
                self.log(
                    f"N={n} postgresql jakreg import run {r + 1}: {validated.seconds[-1]:.1f} s"
                )
            finally:
                self.pg_drop(name)
        for r in range(self.args.runs):
            name = f"jakreg_sbs_{os.getpid()}_{n}_copy_{r}"
            try:
                url = self.pg_database(name)
                done = self.child([PYTHON, str(HERE / "loaders.py"), "copy", str(study), url])
                copy.seconds.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
                copy.wall.append(done.seconds)
            finally:
                self.pg_drop(name)
        self.results += [validated, copy]
        self.log(f"N={n} postgresql COPY: {copy.median:.2f} s")

    def report(self, n: int, rows: int, db: Path, duck: Path | None, study: Path) -> None:
        m = Measured("jakreg report", "sqlite", n, rows)
        for r in range(self.args.runs):
            out = self.work / f"report-{n}-{r}"
            done = self.child([JAKREG, "report", "--db", str(db), "--out", str(out)])
            m.seconds.append(done.seconds)  # the whole process: that is what a user waits for
            m.wall.append(done.seconds)
            results = json.loads((out / "results.json").read_text()) if r == 0 else None
            if results is not None:
                self.numbers.setdefault(n, {})["jakreg"] = _jakreg_numbers(results)
            shutil.rmtree(out, ignore_errors=True)
            self.log(f"N={n} jakreg report run {r + 1}: {done.seconds:.1f} s")
        self.results.append(m)
        if duck is None:  # --skip import: load the DuckDB file once, untimed
            duck = self.work / f"duck-{n}-report.duckdb"
            self.child([PYTHON, str(HERE / "loaders.py"), "duckdb", str(study), str(duck)])
        d = Measured("DuckDB headline SQL", "duckdb", n, rows)
        for _ in range(self.args.runs):
            done = self.child([PYTHON, str(HERE / "loaders.py"), "report-duckdb", str(duck)])
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            d.seconds.append(done.seconds)  # whole process too (start-up + DuckDB import + SQL)
            d.wall.append(done.seconds)
            self.numbers.setdefault(n, {})["duckdb"] = answer["numbers"]
        self.results.append(d)
        self.log(f"N={n} duckdb headline: {d.median:.2f} s; numbers {self.numbers[n]}")

    # --- output ------------------------------------------------------------------------------

    def find(self, what: str, backend: str, n: int) -> Measured | None:
        for m in self.results:
            if m.what.startswith(what) and m.backend == backend and m.n == n and m.seconds:
                return m
        return None

    def table(self) -> str:
        lines = [
            "| N | backend | what | rows | runs | median s (own timer) | median wall s | rows/s "
            "| validated ÷ this (rows/s) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for m in self.results:
            ref = (
                self.find("jakreg " + m.what.split()[1], m.backend, m.n) if " " in m.what else None
            )
            if m.what.startswith("jakreg"):
                ratio = "–"
            elif m.what.startswith("DuckDB headline"):
                rep = self.find("jakreg report", "sqlite", m.n)
                ratio = f"{rep.median / m.median:.1f}× slower" if rep and m.median else "–"
            else:
                ref = self.find(
                    "jakreg import", "sqlite" if m.backend == "duckdb" else m.backend, m.n
                )
                ratio = f"{m.median / ref.median:.3f}×" if ref and ref.median and m.median else "–"
            rps = (
                f"{m.rows_per_s:,.0f}"
                if m.rows_per_s and "report" not in m.what and "headline" not in m.what
                else "–"
            )
            lines.append(
                f"| {m.n:,} | {m.backend} | {m.what} | {m.rows:,} | {len(m.seconds)} | "
                f"{m.median:.2f} | {m.wall_median:.2f} | {rps} | {ratio} |"
            )
        return "\n".join(lines)

    def targets(self) -> str:
        lines = ["| target | goal | N | measured | met |", "|---|---|---|---|---|"]

        def add(name: str, goal: str, n: int, value: float | None, ok: bool | None) -> None:
            shown = (
                "not measured"
                if value is None
                else f"{value:,.3g}"
                if value < 1000
                else f"{value:,.0f}"
            )
            met = "–" if ok is None else "met" if ok else "**missed**"
            lines.append(f"| {name} | {goal} | {n:,} | {shown} | {met} |")

        for n in self.args.sizes:
            v = self.find("jakreg import", "sqlite", n)
            raw = self.find("raw executemany", "sqlite", n)
            ratio = v.median and raw.median and raw.median / v.median if v and raw else None
            add("SQLite: validated / raw executemany (rows/s)", "≥ 0.5×", n, ratio,
                None if ratio is None else ratio >= TARGETS["sqlite_ratio"])  # fmt: skip
            rps = v.rows_per_s if v else None
            add("SQLite: validated rows/s", "≥ 200,000", n, rps,
                None if rps is None else rps >= TARGETS["sqlite_rows_per_s"])  # fmt: skip
            pv = self.find("jakreg import", "postgresql", n)
            copy = self.find("psycopg 3 COPY", "postgresql", n)
            pr = copy.median / pv.median if pv and copy and pv.median and copy.median else None
            add("PostgreSQL: validated / COPY (rows/s)", "≥ 0.3×", n, pr,
                None if pr is None else pr >= TARGETS["pg_ratio"])  # fmt: skip
            rep = self.find("jakreg report", "sqlite", n)
            duck = self.find("DuckDB headline", "duckdb", n)
            rr = rep.median / duck.median if rep and duck and rep.median and duck.median else None
            add("report / DuckDB headline script (wall)", "≤ 3×", n, rr,
                None if rr is None else rr <= TARGETS["report_ratio"])  # fmt: skip
        return "\n".join(lines)

    def markdown(self, seconds: float) -> str:
        m = machine_info(self.args.postgres)
        command = "python benchmarks/side_by_side.py " + " ".join(sys.argv[1:])
        checks = []
        for n, numbers in sorted(self.numbers.items()):
            same = numbers.get("jakreg") == {
                k: numbers.get("duckdb", {}).get(k) for k in numbers.get("jakreg", {})
            }
            checks.append(
                f"- N={n:,}: jakreg report {numbers.get('jakreg')}; DuckDB "
                f"{numbers.get('duckdb')}; {'the same' if same else '**they differ**'}"
            )
        load = os.getloadavg()
        return "\n".join(
            [
                BEGIN,
                "## Side by side (issue 17)",
                "",
                f"Generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} by `{command.strip()}` "
                f"in {seconds:,.0f} s. Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; "
                f"Python {m['python']}; SQLite {m['sqlite']}; PostgreSQL {m['postgresql'] or 'not used'}; "
                f"load average at the end {load[0]:.2f} (another process used the second core: "
                "figures are medians and a floor for a quiet machine).",
                "",
                f"One synthetic CSV study per N (`jakreg synth --seed 1 --centres 20`), each loader "
                f"into a fresh database; medians of {self.args.runs} runs, the validated imports at "
                f"N ≥ 10,000 of {self.args.large_runs}. Import seconds are each loader's own timer "
                "(the CLI's 'rows in X s'; the scripts' perf_counter), without interpreter start-up; "
                "report seconds are whole processes (wall). The ratio column: the validated import's "
                "time over this loader's (= validated rows/s ÷ this loader's rows/s); for the DuckDB "
                "headline script, how many times longer `jakreg report` takes. DuckDB writes its own "
                "database file (no jakreg schema, no constraints); pandas, raw executemany and COPY "
                "write the same rows into the schema of `jakreg init`.",
                "",
                self.table(),
                "",
                "Targets:",
                "",
                self.targets(),
                "",
                "The DuckDB script computes counts only (patients, centres, courses and patients per "
                "drug, benchmarks/loaders.py HEADLINE_SQL): the IDDA before/after medians go through "
                "the per-patient window rule and are not reproduced. The report makes the whole "
                "report (analysis, figures, HTML, PDF), so the ratio is an upper bound of what the "
                "counts cost it. Counts compared:",
                "",
                *checks,
                END,
            ]
        )

    def write(self, seconds: float) -> None:
        section = self.markdown(seconds)
        out: Path = self.args.out
        text = out.read_text() if out.exists() else "# jakreg benchmark results\n"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + section + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        out.write_text(text)
        data = {"results": [m.to_dict() for m in self.results], "numbers": self.numbers}
        out.with_name("results-side-by-side.json").write_text(json.dumps(data, indent=1) + "\n")
        print(self.table())
        print()
        print(self.targets())
        self.log(f"wrote {out}")

    def run(self) -> None:
        self.log(f"work folder {self.work}; sizes {self.args.sizes}")
        try:
            for n in self.args.sizes:
                self.size(n)
        finally:
            self.write(time.perf_counter() - self.started)
            shutil.rmtree(self.work, ignore_errors=True)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _jakreg_numbers(results: dict[str, Any]) -> dict[str, Any]:
    """The report's own figures for what the DuckDB script counts (from its results.json)."""
    cohort = results.get("cohort", {})
    courses = results.get("treatment", {}).get("courses_by_drug", {})
    return {
        "patients": cohort.get("n_patients"),
        "centres": cohort.get("n_centres"),
        "courses_per_drug": dict(sorted(courses.items())),
        "patients_by_first_drug": dict(sorted(cohort.get("drugs", {}).items())),
    }


def main(argv: list[str] | None = None) -> None:
    SideBySide(parse_args(argv)).run()


if __name__ == "__main__":
    main()
