"""jakreg's pooled results on the patients of a set of centres: what a federated analysis over
those centres' extracts must reproduce (`jakreg export --format federated-pooled`).

The pooled numbers are computed by jakreg itself (its analysis and jakreg.stats.survival), never
by the federated algorithm, so the comparison is between two implementations. Drug survival is
the Kaplan-Meier of the first course's days on drug *binned* as the federated KM bins them
(rounded up to the next multiple of `bin_days`), so the two must agree exactly.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.analysis.results import StudyResults
from jakreg.errors import InputFileError
from jakreg.stats.survival import kaplan_meier

POOLED_SCHEMA = "jakreg-federated-pooled"
DEFAULT_BIN_DAYS = 30
KM_TIMES_DAYS = (0.0, 180.0, 360.0, 540.0, 720.0, 1080.0)


def binned(days: int, bin_days: int = DEFAULT_BIN_DAYS) -> float:
    """A time on drug rounded up to the next multiple of `bin_days` (the federated KM's bins)."""
    return float(-(-days // bin_days) * bin_days)


def pooled_from(
    results: StudyResults, views: Sequence[PatientView], *, bin_days: int = DEFAULT_BIN_DAYS
) -> dict[str, Any]:
    """The pooled numbers from a study's results (pure: no database, no files)."""
    if bin_days < 1:
        raise InputFileError(f"--bin-days must be a whole number of days ≥ 1, not {bin_days}")
    firsts = [
        (binned(c.time_on_drug.days, bin_days), c.time_on_drug.event)
        for c in (v.first for v in views)
        if c.time_on_drug.months > 0
    ]
    km = kaplan_meier([d for d, _ in firsts], [e for _, e in firsts], times=KM_TIMES_DAYS)
    r = results
    return {
        "schema": POOLED_SCHEMA,
        "centres": sorted({v.data.centre for v in views}),
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
        "kaplan_meier_bin_days": bin_days,
        "kaplan_meier_n": km.n,
        "kaplan_meier_events": km.n_events,
        "kaplan_meier_at_days": [a.to_dict() for a in km.at_times],
    }


def pooled_numbers(
    url: str | None = None,
    *,
    centres: Collection[str] | None = None,
    bin_days: int = DEFAULT_BIN_DAYS,
) -> dict[str, Any]:
    """jakreg's pooled results on the cohort patients of `centres` (None: every centre)."""
    from jakreg.federated.write import analyse_centres

    results, views = analyse_centres(url, centres)
    return pooled_from(results, views, bin_days=bin_days)


def write_pooled(
    out: Path,
    url: str | None = None,
    *,
    centres: Collection[str] | None = None,
    bin_days: int = DEFAULT_BIN_DAYS,
) -> list[Path]:
    """Write the pooled numbers as JSON to the file `out` (read by `jakreg-federated --pooled`)."""
    if out.is_dir():
        raise InputFileError(
            f"{out} is a folder: the pooled numbers are one JSON file, e.g. {out}/pooled.json"
        )
    pooled = pooled_numbers(url, centres=centres, bin_days=bin_days)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(pooled, indent=2) + "\n", encoding="utf-8")
    return [out]
