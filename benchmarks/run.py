"""`make bench`: measure import, report, start-up and server figures; write results.json and results.md.

Every figure carries the machine, the command and the median of its runs. Sizes and runs are configurable so
a quick run is possible:

    python benchmarks/run.py                          # N = 1,000 and 10,000 patients (about 40 min)
    python benchmarks/run.py --quick                  # N = 200, one run each, short server phases
    JAKREG_BENCH_SIZES=1000,10000,100000 make bench   # or --sizes; --skip server,postgres,...

Each child process has a time cap and a memory cap (--timeout, --rss-cap-mb): a size that exceeds one is
reported as stopped, with the cap, instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    JAKREG,
    PYTHON,
    ROOT,
    Child,
    Figure,
    fmt,
    machine_info,
    run_child,
)

SIDE_BEGIN = "<!-- side-by-side: begin (written by benchmarks/side_by_side.py) -->"
PARTS = ("import", "xlsx", "report", "cold", "server", "postgres")
TARGETS = {
    "csv_rows_per_s": 200_000,
    "csv_vs_raw": 0.5,
    "xlsx_rows_per_s": 50_000,
    "rss_mb_at_100k": 500,
    "report_s_at_100k": 30,
    "report_doubling": 2.2,
    "server_p95_ms": 50,
}
HERE = Path(__file__).resolve().parent


def _env_list(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).replace(" ", "").split(",") if x]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--sizes", help="patients per import size, e.g. 1000,10000 ($JAKREG_BENCH_SIZES)"
    )
    p.add_argument("--report-sizes", help="patients per report size ($JAKREG_BENCH_REPORT_SIZES)")
    p.add_argument(
        "--runs", type=int, help="runs per figure (default: 3 up to 2,000 patients, else 1)"
    )
    p.add_argument("--quick", action="store_true", help="N = 200, one run, 5 s server phases")
    p.add_argument("--skip", default=os.environ.get("JAKREG_BENCH_SKIP", ""), help=",".join(PARTS))
    p.add_argument("--centres", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--server-patients", type=int, default=1000)
    p.add_argument("--server-seconds", type=float, default=20)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument(
        "--timeout", type=float, default=float(os.environ.get("JAKREG_BENCH_TIMEOUT", 1800))
    )
    p.add_argument("--rss-cap-mb", type=float, default=16_000)
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("JAKREG_BENCH_POSTGRES_URL")
        or os.environ.get("JAKREG_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    p.add_argument("--out", type=Path, default=HERE, help="folder for results.json and results.md")
    p.add_argument("--keep", action="store_true", help="keep the work folder (studies, databases)")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or "200"
        args.report_sizes = args.report_sizes or "100,200"
        args.runs = args.runs or 1
        args.server_patients = min(args.server_patients, 200)
        args.server_seconds = min(args.server_seconds, 5)
    sizes = args.sizes or os.environ.get("JAKREG_BENCH_SIZES") or "1000,10000"
    args.sizes = [int(x) for x in str(sizes).split(",") if x]
    report = args.report_sizes or os.environ.get("JAKREG_BENCH_REPORT_SIZES") or "250,500,1000"
    args.report_sizes = sorted({*[int(x) for x in str(report).split(",") if x], *args.sizes})
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="jakreg-bench-"))
        self.machine = machine_info(None if "postgres" in args.skip else args.postgres_url)
        self.figures: list[Figure] = []
        self.gaps: list[str] = []
        self.databases: dict[int, Path] = {}  # N -> a database holding the validated import
        self.studies: dict[tuple[int, str], Path] = {}
        self.started = time.perf_counter()

    # --- helpers -------------------------------------------------------------------------------

    def log(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {text}", flush=True)

    def runs_for(self, n: int) -> int:
        return int(self.args.runs or (3 if n <= 2000 else 1))

    def figure(self, name: str, unit: str, command: str, **kw: Any) -> Figure:
        f = Figure(name, unit, command, machine=self.machine, **kw)
        self.figures.append(f)
        return f

    def child(self, command: list[str], **kw: Any) -> Child:
        return run_child(command, timeout=self.args.timeout, rss_cap_mb=self.args.rss_cap_mb, **kw)

    def study(self, n: int, fmt_: str) -> tuple[Path, int]:
        from jakreg.synth import write_synthetic

        key = (n, fmt_)
        path = self.work / (f"study-{n}" if fmt_ == "csv" else f"study-{n}.xlsx")
        if key not in self.studies:
            started = time.perf_counter()
            summary = write_synthetic(
                path, patients=n, centres=self.args.centres, seed=self.args.seed, fmt=fmt_
            )
            seconds = time.perf_counter() - started
            self.studies[key] = path
            (self.work / f"{path.name}.rows").write_text(str(summary.total_rows))
            self.figure(
                f"synth_{fmt_}",
                "rows/s",
                f"jakreg.synth.write_synthetic(patients={n}, centres={self.args.centres}, "
                f"seed={self.args.seed}, fmt={fmt_!r})",
                n_patients=n,
                rows=summary.total_rows,
                runs=[summary.total_rows / seconds],
                note="generator speed (in-process, one run)",
            )
            self.log(f"synthetic {fmt_} N={n}: {summary.total_rows:,} rows in {seconds:.1f} s")
        return path, int((self.work / f"{path.name}.rows").read_text())

    def fresh_db(self, name: str) -> Path:
        db = self.work / f"{name}.db"
        for stale in self.work.glob(f"{name}.db*"):
            stale.unlink()
        done = self.child([JAKREG, "init", "--db", str(db)])
        if not done.ok:
            raise RuntimeError(f"jakreg init failed: {done.failure()}")
        return db

    # --- import ------------------------------------------------------------------------------

    def imports(self, n: int, fmt_: str) -> None:
        from jakreg.synth import SynthError

        try:
            study, rows = self.study(n, fmt_)
        except SynthError as exc:  # e.g. more rows than an xlsx sheet holds
            shown = f"jakreg synth --patients {n} --out study-{n}.{fmt_}"
            self.figure(
                f"import_{fmt_}", "rows/s", shown, n_patients=n, note=f"not measured: {exc}"
            )
            self.log(f"import {fmt_} N={n}: not measured: {exc}")
            return
        runs = self.runs_for(n)
        shown = f"jakreg import {study.name} --db bench.db --actor bench"
        validated = self.figure(f"import_{fmt_}", "rows/s", shown, n_patients=n, rows=rows)
        wall: list[float] = []
        cpu: list[float] = []
        peaks: list[float] = []
        group_peaks: list[float] = []
        for r in range(runs):
            db = self.fresh_db(f"import-{fmt_}-{n}-{r}")
            done = self.child([JAKREG, "import", str(study), "--db", str(db), "--actor", "bench"])
            if not done.ok:
                validated.note = f"run {r + 1} failed: {done.failure()}"
                validated.peak_rss_mb = done.peak_rss_mb
                self.log(f"import {fmt_} N={n}: {validated.note}")
                db.unlink(missing_ok=True)
                return
            inner = re.search(r"rows in ([\d.]+) s", done.stdout)
            seconds = float(inner.group(1)) if inner else done.seconds
            validated.runs.append(rows / seconds)
            wall.append(done.seconds)
            cpu.append(done.cpu_seconds)
            peaks.append(done.peak_rss_mb)
            group_peaks.append(done.group_peak_rss_mb)
            self.log(
                f"import {fmt_} N={n} run {r + 1}: {rows / seconds:,.0f} rows/s "
                f"({seconds:.1f} s in-process, {done.seconds:.1f} s wall, {done.peak_rss_mb:,.0f} MB)"
            )
            if fmt_ == "csv" and n not in self.databases:
                self.databases[n] = db
            else:
                db.unlink(missing_ok=True)
        validated.peak_rss_mb = max(peaks)
        validated.extra = {
            "wall_seconds": wall,
            "wall_rows_per_s_median": rows / sorted(wall)[len(wall) // 2],
            "cpu_seconds": cpu,
            "cpu_rows_per_s_median": rows / sorted(cpu)[len(cpu) // 2],
            "peak_rss_mb_runs": peaks,
            "group_peak_rss_mb_runs": group_peaks,
            "group_peak_rss_mb_note": "the import and its helper processes together (HPO look-up), "
            "sampled every 0.25 s; the target row uses the larger of this and the import's own peak",
        }
        validated.note = (
            "validated, audited and derived; rows/s over the importer's own timer (the CLI's "
            "'rows in X s', which excludes interpreter start-up); wall time in extra"
            + ("" if runs > 1 else "; one run")
        )
        raw = self.figure(
            f"raw_{fmt_}",
            "rows/s",
            f"python benchmarks/baseline.py {study.name} raw.db",
            n_patients=n,
            rows=rows,
            note="plain sqlite3 executemany into the same schema, one transaction, no "
            "validation/audit/derivation; timer excludes start-up",
        )
        raw_peaks = []
        for r in range(runs):
            db = self.fresh_db(f"raw-{fmt_}-{n}-{r}")
            done = self.child([PYTHON, str(HERE / "baseline.py"), str(study), str(db)])
            db.unlink(missing_ok=True)
            if not done.ok:
                raw.note = f"failed: {done.failure()}"
                return
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            raw.runs.append(measured["rows"] / measured["seconds"])
            raw_peaks.append(done.peak_rss_mb)
        raw.peak_rss_mb = max(raw_peaks)
        ratio = (validated.median or 0) / (raw.median or 1)
        self.figure(
            f"import_{fmt_}_vs_raw",
            "ratio",
            f"median(import_{fmt_}) / median(raw_{fmt_}), same run",
            n_patients=n,
            rows=rows,
            runs=[ratio],
        )
        self.log(f"raw {fmt_} N={n}: {raw.median:,.0f} rows/s; validated/raw = {ratio:.3f}")

    # --- report ------------------------------------------------------------------------------

    def database_for(self, n: int) -> Path | None:
        if n in self.databases:
            return self.databases[n]
        study, _rows = self.study(n, "csv")
        db = self.fresh_db(f"report-{n}")
        done = self.child([JAKREG, "import", str(study), "--db", str(db), "--actor", "bench"])
        if not done.ok:
            self.gaps.append(
                f"report at N={n}: the import to build its database failed ({done.failure()})"
            )
            return None
        self.databases[n] = db
        return db

    def reports(self) -> None:
        try:
            import jakreg.report.build  # noqa: F401
        except ImportError as exc:
            self.gaps.append(f"report: jakreg.report is not importable ({exc}); not measured")
            return
        measured: list[tuple[int, float]] = []
        for n in self.args.report_sizes:
            db = self.database_for(n)
            if db is None:
                continue
            runs = int(self.args.runs or (3 if n <= 500 else 1))
            shown = f"jakreg report --out report-{n} --db bench.db"
            f = self.figure("report", "s", shown, n_patients=n)
            stages: list[dict[str, float]] = []
            cpu: list[float] = []
            for r in range(runs):
                out = self.work / f"report-{n}-{r}"
                done = self.child([JAKREG, "report", "--out", str(out), "--db", str(db)])
                shutil.rmtree(out, ignore_errors=True)
                if not done.ok:
                    f.note = f"run {r + 1}: {done.failure()}"
                    self.log(f"report N={n}: {f.note}")
                    break
                f.runs.append(done.seconds)
                cpu.append(done.cpu_seconds)
                f.peak_rss_mb = max(f.peak_rss_mb or 0, done.peak_rss_mb)
                took = re.search(r"Took ([\d.]+) s", done.stdout)
                if took:
                    stages.append({"in_process_s": float(took.group(1))})
                self.log(
                    f"report N={n} run {r + 1}: {done.seconds:.1f} s, {done.peak_rss_mb:,.0f} MB"
                )
            if f.runs:
                f.extra = {"in_process": stages, "cpu_seconds": cpu}
                f.note = (
                    f.note or ""
                ) + "wall time of the whole `jakreg report` process (analysis, figures, HTML, PDF)"
                measured.append((n, f.median or 0.0))
        if len(measured) >= 2:
            xs = [math.log(n) for n, _ in measured]
            ys = [math.log(t) for _, t in measured]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
                (x - mx) ** 2 for x in xs
            )
            self.figure(
                "report_growth_exponent",
                "exponent",
                "least-squares slope of log(report seconds) on log(patients) over "
                + ", ".join(str(n) for n, _ in measured),
                runs=[slope],
                extra={"doubling_factor": 2**slope, "points": measured},
                note="time ~ N^exponent; doubling N multiplies the time by 2^exponent",
            )

    # --- cold start --------------------------------------------------------------------------

    def _libraries(self, argv: list[str]) -> tuple[list[str], Child]:
        listing = self.work / "modules.json"
        script = textwrap.dedent(
            f"""
            import atexit, json, sys
            def _dump():
                names = sorted({{m.split(".")[0] for m in list(sys.modules)}}
                               - set(sys.stdlib_module_names) - {{"jakreg", "__main__", "benchmarks"}})
                names = [n for n in names if not n.startswith("_")]
                open({str(listing)!r}, "w").write(json.dumps(names))
            atexit.register(_dump)
            sys.argv = ["jakreg", *{argv!r}]
            from jakreg.cli import main
            main()
            """
        )
        done = self.child([PYTHON, "-c", script])
        return (json.loads(listing.read_text()) if listing.exists() else []), done

    def cold(self) -> None:
        from jakreg.study import example_path

        cases: list[tuple[str, list[str]]] = [("help", ["--help"])]
        try:
            import jakreg.report.build  # noqa: F401

            db = self.fresh_db("example")
            self.child([JAKREG, "import", str(example_path()), "--db", str(db)])
            cases.append(
                (
                    "report_example",
                    ["report", "--out", str(self.work / "cold-report"), "--db", str(db)],
                )
            )
        except ImportError:
            self.gaps.append("cold report: jakreg.report is not importable; not measured")
        for name, argv in cases:
            libraries, _ = self._libraries(argv)
            minimal = "\n".join(f"import {m}" for m in libraries) or "pass"
            script = self.work / f"minimal-{name}.py"
            script.write_text(
                "\n".join(f"try:\n    import {m}\nexcept Exception:\n    pass" for m in libraries)
                or "pass"
            )
            runs = 5 if name == "help" else 3
            cli = self.figure(f"cold_{name}", "s", "jakreg " + " ".join(argv))
            base = self.figure(
                f"cold_{name}_minimal",
                "s",
                f"python {script.name}  # imports only: {', '.join(libraries)}",
                extra={"script": minimal},
            )
            for _ in range(runs):
                shutil.rmtree(self.work / "cold-report", ignore_errors=True)
                done = self.child([JAKREG, *argv])
                if done.ok:
                    cli.runs.append(done.seconds)
                    cli.peak_rss_mb = max(cli.peak_rss_mb or 0, done.peak_rss_mb)
                else:
                    cli.note = done.failure()
                other = self.child([PYTHON, str(script)])
                base.runs.append(other.seconds)
                base.peak_rss_mb = max(base.peak_rss_mb or 0, other.peak_rss_mb)
            self.log(f"cold {name}: {fmt(cli.median, 2)} s vs minimal {fmt(base.median, 2)} s")

    # --- server ------------------------------------------------------------------------------

    def server(self, backend: str) -> None:
        try:
            import jakreg.web.app  # noqa: F401
        except Exception as exc:
            self.gaps.append(
                f"server ({backend}): jakreg.web is not importable ({exc}); not measured"
            )
            return
        from benchmarks.load import run_load, use_wal

        n = self.args.server_patients
        study, _rows = self.study(n, "csv")
        pg_db: str | None = None
        if backend == "sqlite":
            db = self.work / f"server-{n}.db"
            source = self.databases.get(n) or self.database_for(n)
            if source is None:
                return
            shutil.copy(source, db)
            mode = use_wal(db)
            url = f"sqlite:///{db}"
            setting = f"SQLite {self.machine['sqlite']}, journal_mode={mode}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin_url = self.args.postgres_url
            pg_db = f"jakreg_bench_{os.getpid()}"
            try:
                admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{pg_db}"'))
                admin.dispose()
            except Exception as exc:
                self.gaps.append(
                    f"server (postgresql): no server at {admin_url} ({type(exc).__name__}); not measured"
                )
                return
            url = make_url(admin_url).set(database=pg_db).render_as_string(hide_password=False)
            setting = f"PostgreSQL {self.machine['postgresql']}"
            self.child([JAKREG, "init", "--db", url])
            done = self.child([JAKREG, "import", str(study), "--db", url, "--actor", "bench"])
            if not done.ok:
                self.gaps.append(f"server (postgresql): loading the data failed ({done.failure()})")
                self._drop(pg_db)
                return
            self.log(f"postgresql: imported N={n} in {done.seconds:.1f} s")
        try:
            result = run_load(url, clients=self.args.clients, seconds=self.args.server_seconds)
        except Exception as exc:
            self.gaps.append(
                f"server ({backend}): the load test failed: {type(exc).__name__}: {exc}"
            )
            return
        finally:
            if pg_db:
                self._drop(pg_db)
        models = {
            "": "closed loop: every client sends its next request as soon as the answer arrives "
            "(capacity; p95 is about clients / throughput)",
            "_paced": "paced: each client waits 0.5-1.5 s after every answer (about 50 requests/s "
            "offered, what 50 people working in the registry send); the latency a user sees",
        }
        for phase in ("read_patient", "write_assessment"):
            for suffix, model in models.items():
                r = result.get(f"{phase}{suffix}")
                if r is None:
                    continue
                self.figure(
                    f"server_{backend}_{phase}{suffix}_p95",
                    "ms",
                    f"{self.args.clients} asyncio clients (raw HTTP/1.1 keep-alive) for "
                    f"{self.args.server_seconds:.0f} s against `{result['server']}`",
                    n_patients=n,
                    runs=[r["p95_ms"]] if r["p95_ms"] is not None else [],
                    extra=r
                    | {"database": setting, "load_model": model}
                    | ({"one_client": result[f"{phase}_1_client"]} if not suffix else {}),
                    note="one run; p50/p99, throughput and errors in extra",
                )
                self.log(
                    f"server {backend} {phase}{suffix}: p50 {fmt(r['p50_ms'])} ms, "
                    f"p95 {fmt(r['p95_ms'])} ms, p99 {fmt(r['p99_ms'])} ms, "
                    f"{r['throughput_rps']} req/s, {r['errors']} errors"
                )

    def _drop(self, name: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    # --- all ---------------------------------------------------------------------------------

    def run(self) -> None:
        a = self.args
        self.log(f"work folder {self.work}; sizes {a.sizes}; report sizes {a.report_sizes}")
        try:
            if "import" not in a.skip:
                for n in a.sizes:
                    self.imports(n, "csv")
                    if "xlsx" not in a.skip:
                        self.imports(n, "xlsx")
            if "cold" not in a.skip:
                self.cold()
            if "server" not in a.skip:
                self.server("sqlite")
                if "postgres" not in a.skip:
                    self.server("postgresql")
            if "report" not in a.skip:
                self.reports()
        finally:
            self.write()
            if not a.keep:
                shutil.rmtree(self.work, ignore_errors=True)

    def write(self) -> None:
        out = self.args.out
        out.mkdir(parents=True, exist_ok=True)
        data = {
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
            "seconds": round(time.perf_counter() - self.started, 1),
            "machine": self.machine,
            "config": {
                "sizes": self.args.sizes,
                "report_sizes": self.args.report_sizes,
                "runs": self.args.runs or "3 up to 2,000 patients, else 1",
                "centres": self.args.centres,
                "seed": self.args.seed,
                "skipped": sorted(self.args.skip),
                "timeout_s": self.args.timeout,
                "rss_cap_mb": self.args.rss_cap_mb,
            },
            "targets": evaluate(self.figures),
            "gaps": self.gaps,
            "figures": [f.to_dict() for f in self.figures],
        }
        (out / "results.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
        text = markdown(data)
        old = out / "results.md"
        if old.exists() and SIDE_BEGIN in (previous := old.read_text()):
            # the section benchmarks/side_by_side.py wrote (it replaces it itself) and the notes after
            # it (profiles, before/after measurements) stay
            kept = SIDE_BEGIN + previous.split(SIDE_BEGIN, 1)[1]
            text = text.rstrip("\n") + "\n\n" + kept.rstrip("\n") + "\n"
        (out / "results.md").write_text(text)
        self.log(f"wrote {out / 'results.json'} and {out / 'results.md'}")


def _largest(figures: list[Figure], name: str) -> Figure | None:
    found = [f for f in figures if f.name == name and f.median is not None]
    return max(found, key=lambda f: f.n_patients or 0) if found else None


def evaluate(figures: list[Figure]) -> list[dict[str, Any]]:
    """Each target of issue 7 against the figure closest to it (the largest N measured)."""
    out: list[dict[str, Any]] = []

    def add(
        target: str, goal: str, f: Figure | None, value: float | None, met: bool | None, how: str
    ) -> None:
        out.append(
            {
                "target": target,
                "goal": goal,
                "measured": value,
                "at_patients": f.n_patients if f else None,
                "met": met,
                "how": how,
            }
        )

    csv = _largest(figures, "import_csv")
    add("validated CSV import", ">= 200,000 rows/s", csv, csv.median if csv else None,
        csv is not None and (csv.median or 0) >= TARGETS["csv_rows_per_s"], "median rows/s")  # fmt: skip
    ratio = _largest(figures, "import_csv_vs_raw")
    add("CSV import vs raw executemany", ">= 0.5x", ratio, ratio.median if ratio else None,
        ratio is not None and (ratio.median or 0) >= TARGETS["csv_vs_raw"], "same run")  # fmt: skip
    xlsx = _largest(figures, "import_xlsx")
    add("validated xlsx import", ">= 50,000 rows/s", xlsx, xlsx.median if xlsx else None,
        xlsx is not None and (xlsx.median or 0) >= TARGETS["xlsx_rows_per_s"], "median rows/s")  # fmt: skip
    rss = max(csv.peak_rss_mb or 0, *csv.extra.get("group_peak_rss_mb_runs", [0])) if csv else None
    at_100k = csv is not None and (csv.n_patients or 0) >= 100_000
    over = (rss or 0) > TARGETS["rss_mb_at_100k"]
    add("peak RSS of a CSV import", "<= 500 MB at 100k patients", csv, rss,
        not over if at_100k else (False if over else None),
        "at 100k" if at_100k else "at the largest N measured" + (", already over" if over else ""))  # fmt: skip
    rep = _largest(figures, "report")
    rep_100k = rep is not None and (rep.n_patients or 0) >= 100_000
    add("report time", "<= 30 s at 100k patients", rep, rep.median if rep else None,
        ((rep.median or 0) <= TARGETS["report_s_at_100k"]) if rep_100k
        else (False if rep and (rep.median or 0) > TARGETS["report_s_at_100k"] else None),
        "wall time" + ("" if rep_100k else " at the largest N measured"))  # fmt: skip
    growth = _largest(figures, "report_growth_exponent")
    doubling = growth.extra.get("doubling_factor") if growth else None
    add("report growth", "doubling N costs <= 2.2x", growth, doubling,
        doubling is not None and doubling <= TARGETS["report_doubling"], "2^exponent")  # fmt: skip
    # Judged on the paced load (50 users with think time); the closed loop is shown as capacity.
    for backend in ("sqlite", "postgresql"):
        for phase in ("read_patient", "write_assessment"):
            for suffix in ("_paced", ""):
                name = f"server_{backend}_{phase}{suffix}_p95"
                f = _largest(figures, name)
                errors = f.extra.get("errors") if f else None
                judged = suffix == "_paced"
                add(name.removeprefix("server_").removesuffix("_p95").replace("_", " "),
                    "p95 <= 50 ms, 0 errors, 50 clients" if judged else "(capacity, not judged)",
                    f, f.median if f else None,
                    (None if f is None else (f.median or 0) <= TARGETS["server_p95_ms"]
                     and errors == 0) if judged else None,
                    f"errors: {errors}"
                    + ("" if judged or f is None else f"; {f.extra.get('throughput_rps')} req/s"))  # fmt: skip
    return out


def markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        "# jakreg benchmark results",
        "",
        f"Generated {data['generated_at']} by `{data['command']}` in {data['seconds']:.0f} s.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['os']}; Python "
        f"{m['python']}; SQLite {m['sqlite']}; PostgreSQL {m['postgresql'] or 'not used'}; jakreg "
        f"{m['jakreg']}.",
        "",
        "Each figure is the median of its runs (n); the command and every run are in results.json.",
        "",
        "## Targets (issue 7)",
        "",
        "| target | goal | measured | at N | met |",
        "|---|---|---|---|---|",
    ]
    for t in data["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        if t["goal"].startswith("(") and t["measured"] is not None:
            met = "–"  # shown, not judged
        value = t["measured"]
        shown = "–" if value is None else f"{value:,.3g}" if value < 10 else f"{value:,.0f}"
        lines.append(
            f"| {t['target']} | {t['goal']} | {shown} | {fmt(t['at_patients'])} | {met} ({t['how']}) |"
        )
    lines += [
        "",
        "## Figures",
        "",
        "| figure | N | rows | median | unit | n | peak RSS MB | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in data["figures"]:
        med = f["median"]
        shown = "–" if med is None else f"{med:,.3g}" if abs(med) < 10 else f"{med:,.0f}"
        lines.append(
            f"| {f['name']} | {fmt(f['n_patients'])} | {fmt(f['rows'])} | {shown} | {f['unit']} | "
            f"{f['n_runs']} | {fmt(f['peak_rss_mb'])} | {(f['note'] or '').replace('|', '/')} |"
        )
    server = [f for f in data["figures"] if f["name"].startswith("server_")]
    if server:
        lines += [
            "",
            "## Server",
            "",
            "Closed loop: each client sends its next request as soon as an answer arrives "
            "(capacity; p95 ≈ clients / throughput). Paced: each client waits 0.5-1.5 s after "
            "every answer (50 users at work). 1 client: service time.",
            "",
            "| backend / phase | load | clients | p50 ms | p95 ms | p99 ms | req/s | requests | errors "
            "| server CPU ms/request | load average |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for f in server:
            paced = f["name"].endswith("_paced_p95")
            shown = [(f["extra"], "paced" if paced else "closed loop")]
            if "one_client" in f["extra"]:
                shown.append((f["extra"]["one_client"], "1 client"))
            for e, load in shown:
                name = f["name"].removeprefix("server_").removesuffix("_p95").removesuffix("_paced")
                lines.append(
                    f"| {name} | {load} | {e['clients']} | "
                    f"{fmt(e['p50_ms'])} | {fmt(e['p95_ms'])} | {fmt(e['p99_ms'])} | "
                    f"{e['throughput_rps']} | {e['requests']} | {e['errors']} | "
                    f"{fmt(e.get('server_cpu_ms_per_request'), 1)} | {e.get('loadavg_1min', '–')} |"
                )
    extra = HERE / "results-100k.json"  # a 100,000-patient import takes most of an hour: run apart
    if extra.exists():
        x = json.loads(extra.read_text())
        lines += [
            "",
            "## 100,000 patients (a separate run: results-100k.json)",
            "",
            f"{x['figure']}: {x['rows']:,} rows in {x['seconds_in_process']:,.0f} s = "
            f"{x['rows_per_s']:,} rows/s; peak RSS {x['peak_rss_mb']:,.0f} MB (process tree "
            f"{x['group_peak_rss_mb']:,.0f} MB); {x['load']}.",
        ]
        if "report" in x:
            lines += ["", f"Report on that database: {x['report']}."]
    if data["gaps"]:
        lines += ["", "## Not measured", ""] + [f"- {g}" for g in data["gaps"]]
    lines += ["", f"Details: results.json. How to read these: {ROOT.name}/docs/scale.md.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    Bench(parse_args(argv)).run()


if __name__ == "__main__":
    main()
