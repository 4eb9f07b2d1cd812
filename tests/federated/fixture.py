"""The three-node fixture the federated suite reads: extracts of a synthetic study, one per centre,
and the pooled numbers jakreg computes on the whole study (federated/tests/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.run import analyse
from jakreg.federated import write_federated
from jakreg.stats.survival import kaplan_meier
from jakreg.study import import_path, init_database
from jakreg.synth import write_synthetic

FIXTURE = Path(__file__).resolve().parents[2] / "federated" / "tests" / "data"
CENTRES = ("SYN-001", "SYN-002", "SYN-003")


BIN_DAYS = 30
KM_TIMES_DAYS = (0.0, 180.0, 360.0, 540.0, 720.0, 1080.0)


def binned(days: int) -> float:
    """A time on drug rounded up to the next multiple of BIN_DAYS (the federated KM's bins)."""
    return float(-(-days // BIN_DAYS) * BIN_DAYS)


def pooled_numbers(url: str) -> dict[str, Any]:
    """jakreg's own pooled results on the whole study: what the federated results must equal.

    Drug survival: jakreg's Kaplan-Meier (jakreg.stats.survival) of the first course's days on
    drug binned as the federated KM bins them, so the two must agree to rounding.
    """
    r = analyse(url, AnalysisOptions(literature=False, hpo_groups=False))
    firsts = [
        (binned(c.time_on_drug.days), c.time_on_drug.event)
        for c in (v.first for v in _views(url, r))
        if c.time_on_drug.months > 0
    ]
    km = kaplan_meier([d for d, _ in firsts], [e for _, e in firsts], times=KM_TIMES_DAYS)
    return {
        "n_patients": r.cohort.n_patients,
        "response": {
            "CR": r.response.complete,
            "PR": r.response.partial,
            "NR": r.response.none,
            "NE": r.response.not_evaluable,
        },
        "idda_differences": sorted(
            p.under.value - p.before.value  # type: ignore[union-attr]
            for p in r.idda.patients
            if p.paired
        ),
        "idda_paired_test": r.idda.comparison.to_dict(),
        "adverse_events": r.adverse_events.n_events,
        "kaplan_meier_bin_days": BIN_DAYS,
        "kaplan_meier_n": km.n,
        "kaplan_meier_events": km.n_events,
        "kaplan_meier_at_days": [a.to_dict() for a in km.at_times],
    }


def _views(url: str, r: Any) -> Any:
    from jakreg.analysis.load import load_snapshot
    from jakreg.analysis.prepare import view_patients
    from jakreg.store.db import open_session

    with open_session(url) as session:
        snap = load_snapshot(session, with_literature=False)
    return view_patients(snap.patients, r.data.cutoff)[0]


def build(out: Path, work: Path) -> dict[str, Any]:
    """Write the fixture into `out` (one folder per node + pooled.json); `work` holds the database."""
    work.mkdir(parents=True, exist_ok=True)
    write_synthetic(work / "study", patients=60, centres=3, seed=11)
    url = f"sqlite:///{work / 'study.db'}"
    init_database(url)
    import_path(work / "study", url, actor="federated fixture")
    for i, centre in enumerate(CENTRES):
        write_federated(out / f"node{i + 1}", url, centre=centre, salt=f"fixture-{i}".encode())
    pooled = pooled_numbers(url)
    (out / "pooled.json").write_text(json.dumps(pooled, indent=2) + "\n", encoding="utf-8")
    return pooled


if __name__ == "__main__":  # python -m tests.federated.fixture: rewrite the committed fixture
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build(FIXTURE, Path(tmp))
    print(f"wrote {FIXTURE}")
