"""Where a validated `jakreg import` spends its time: cProfile of the command, grouped.

    python benchmarks/profile_import.py [--patients 1000] [--top 25] [--study FOLDER]

Writes a synthetic CSV study (`jakreg synth --seed 1 --centres 20`, unless --study), a fresh database, runs
`jakreg import` in this process under cProfile and prints Markdown: the groups (parse/validate rows,
cross-row checks, audit events, inserts, derived values, the rest) by cumulative time, then the top
functions. The groups are disjoint by construction (see GROUPS); cProfile slows pure-Python code more
than C code, so the shares matter, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# (file suffix, function name) -> its cumulative time; a group is a sum of some minus others.
FUNCS = {
    "validate_rows": ("ingest/validate.py", "validate_rows"),
    "read_rows": ("ingest/read.py", "rows"),
    "pydantic": ("pydantic/main.py", "model_validate"),
    "check": ("ingest/checks.py", "check"),
    "sheet_done": ("ingest/checks.py", "sheet_done"),
    "ontology": ("ingest/vocabularies.py", "_ontology"),
    "write": ("store/repository.py", "write"),
    "write_many": ("store/audit.py", "write_many"),
    "audit_hash": ("store/audit.py", "_hash"),
    "audit_json": ("store/audit.py", "_json"),
    "chained": ("store/audit.py", "_chained_hashes"),  # the batched path (calls _json itself)
    "change": ("store/repository.py", "_change"),
    "insert": ("store/repository.py", "_insert"),
    "bulk_run": ("store/bulk.py", "run"),
    "executemany": ("~", "<method 'executemany' of 'sqlite3.Cursor' objects>"),
    "derive": ("store/derive.py", "derive_patients"),
    "import_path": ("jakreg/study.py", "import_path"),
}


def cumulative(stats: pstats.Stats) -> dict[str, float]:
    found = dict.fromkeys(FUNCS, 0.0)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in raw.items():
        for key, (suffix, func) in FUNCS.items():
            if name == func and file.endswith(suffix):
                found[key] += ct
    return found


def groups(c: dict[str, float], total: float) -> list[tuple[str, float, str]]:
    audit = c["write_many"] + c["change"]
    hashing = c["audit_hash"] + c["chained"] - (c["audit_json"] if c["chained"] else 0.0)
    inserts = c["write"] - audit
    rows = [
        ("parse/validate rows", c["validate_rows"],
         f"CSV reading and the formula guard {c['read_rows']:.1f} s, pydantic row models "
         f"{c['pydantic']:.1f} s, the rest the per-cell preparation and date/future checks"),
        ("cross-row checks", c["check"] + c["sheet_done"],
         f"keys, references, chronology (jakreg.ingest.checks); the HPO ontology load "
         f"{c['ontology']:.1f} s is in here"),
        ("audit events", audit,
         f"one event per row: building the change (key text, JSON-safe values) {c['change']:.1f} s, "
         f"canonical JSON of before/after {c['audit_json']:.1f} s, the chained SHA-256 over each "
         f"event's JSON {hashing:.1f} s, "
         "and their INSERT"),
        ("inserts", inserts,
         f"the rows' own INSERTs (StudyWriter.write without its audit part; _insert "
         f"{c['insert']:.1f} s); sqlite3 executemany over rows and events together "
         f"{c['executemany']:.1f} s"),
        ("derived values", c["derive"], "jakreg.store.derive after the last sheet"),
    ]  # fmt: skip
    rest = total - sum(r[1] for r in rows)
    rows.append(
        (
            "the rest",
            rest,
            "opening the database, the import batch record, commit (start-up is outside import_path)",
        )
    )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--patients", type=int, default=1000)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--study", type=Path)
    args = p.parse_args()
    from jakreg.cli import main as cli_main
    from jakreg.study import init_database
    from jakreg.synth import write_synthetic

    work = Path(tempfile.mkdtemp(prefix="jakreg-profile-"))
    study = args.study or work / "study"
    if args.study is None:
        write_synthetic(study, patients=args.patients, centres=20, seed=1, fmt="csv")
    db = work / "profile.db"
    init_database(f"sqlite:///{db}")
    profile = cProfile.Profile()
    sys.argv = ["jakreg", "import", str(study), "--db", str(db), "--actor", "profile"]
    started = time.perf_counter()
    profile.enable()
    try:
        cli_main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        profile.disable()
    wall = time.perf_counter() - started
    stats = pstats.Stats(profile)
    c = cumulative(stats)
    total = c["import_path"] or wall
    print(f"\ncProfile of `jakreg import` ({study}): {total:.1f} s in jakreg.study.import_path "
          f"under the profiler ({wall:.1f} s for the command)\n")  # fmt: skip
    print("| group | cumulative s | share | what |\n|---|---|---|---|")
    for name, seconds, what in groups(c, total):
        print(f"| {name} | {seconds:.1f} | {seconds / total:.0%} | {what} |")
    print(f"\nTop {args.top} functions by cumulative time:\n")
    print("| function | calls | own s | cumulative s |\n|---|---|---|---|")
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(raw.items(), key=lambda kv: -kv[1][3])
    shown = 0
    for (file, line, name), (_cc, nc, tt, ct, _callers) in ranked:
        where = file.split("site-packages/")[-1].split("src/")[-1]
        if "typer" in where or "click" in where or where.startswith("<") or name == "<module>":
            continue
        if where == "~":
            where = ""
        print(f"| `{where}:{line}({name})` | {nc:,} | {tt:.2f} | {ct:.2f} |")
        shown += 1
        if shown >= args.top:
            break


if __name__ == "__main__":
    main()
