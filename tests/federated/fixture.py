"""The three-node fixture the federated suite reads: extracts of a synthetic study, one per centre,
and the pooled numbers jakreg computes on the whole study (jakreg.federated.pooled), in
federated/tests/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jakreg.federated import write_federated
from jakreg.federated.pooled import write_pooled
from jakreg.study import import_path, init_database
from jakreg.synth import write_synthetic

FIXTURE = Path(__file__).resolve().parents[2] / "federated" / "tests" / "data"
CENTRES = ("SYN-001", "SYN-002", "SYN-003")


def build(out: Path, work: Path) -> dict[str, Any]:
    """Write the fixture into `out` (one folder per node + pooled.json); `work` holds the database."""
    work.mkdir(parents=True, exist_ok=True)
    write_synthetic(work / "study", patients=60, centres=3, seed=11)
    url = f"sqlite:///{work / 'study.db'}"
    init_database(url)
    import_path(work / "study", url, actor="federated fixture")
    for i, centre in enumerate(CENTRES):
        write_federated(out / f"node{i + 1}", url, centres=[centre], salt=f"fixture-{i}".encode())
    write_pooled(out / "pooled.json", url)
    return dict(json.loads((out / "pooled.json").read_text(encoding="utf-8")))


if __name__ == "__main__":  # python -m tests.federated.fixture: rewrite the committed fixture
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build(FIXTURE, Path(tmp))
    print(f"wrote {FIXTURE}")
