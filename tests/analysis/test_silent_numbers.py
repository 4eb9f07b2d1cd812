"""Cases where the numbers were silently wrong (issue 18), on the bundled example edited.

Each is checked against an independent reference: lifelines for the survival curves, a count by
hand of the edited rows for the safety figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from jakreg.analysis import AnalysisOptions, analyse, results_json
from jakreg.analysis.schema import check
from tests.analysis.example import Rows, database, example_copy


def _results(url: str, **options: object) -> dict:  # type: ignore[type-arg]
    data = json.loads(results_json(analyse(url, AnalysisOptions(**options))))  # type: ignore[arg-type]
    assert check(data) == []
    return data


def _stop_on_start_day(sheets: dict[str, Rows]) -> None:
    row = next(r for r in sheets["courses"] if r["patient_id"] == "S02")
    row["stop_date"] = row["start_date"]


def test_course_stopped_on_its_start_day_is_in_the_km_at_time_zero(tmp_path: Path) -> None:
    url = database(tmp_path, example_copy(tmp_path / "study", _stop_on_start_day))
    r = _results(url)
    ds, stops = r["drug_survival"], r["discontinuation"]
    km = ds["kaplan_meier"]
    assert ds["left_out"] == []
    assert km["n"] == r["cohort"]["n_patients"]
    assert km["n_events"] == stops["n"]  # the stops table and the KM agree
    s02 = next(s for s in stops["stops"] if s["patient"] == "S02")
    assert s02["months_on_drug"] == 0.0
    # Reference: lifelines on the durations and flags of every first course.
    durations = np.array([p["months"] for p in _first(r)])
    events = np.array([p["stopped"] for p in _first(r)])
    ref = KaplanMeierFitter().fit(durations, events)
    for t, s in zip(km["curve"]["times"], km["curve"]["estimate"], strict=True):
        assert s == pytest.approx(float(ref.survival_function_at_times(t).iloc[0]), abs=1e-12)
    assert km["curve"]["estimate"][0] == pytest.approx(1 - 1 / km["n"], abs=1e-12)
    cif = ds["cumulative_incidence"]
    hsct = next(c for c in cif["causes"] if c["cause"] == s02["reason"])
    assert hsct["curve"]["times"][0] == 0.0
    assert hsct["curve"]["estimate"][0] == pytest.approx(1 / km["n"], abs=1e-12)


def _first(r: dict) -> list[dict]:  # type: ignore[type-arg]
    """Each analysed patient's first course: months on drug and whether it was stopped."""
    stopped = {s["patient"]: s["months_on_drug"] for s in r["discontinuation"]["stops"]}
    out = []
    for p in r["treatment"]["courses"]:
        if p["course_no"] != 1:
            continue
        out.append({"months": p["months_on_drug"], "stopped": p["patient"] in stopped})
    return out
