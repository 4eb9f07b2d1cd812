"""Cohorts too small to analyse give 'not computable' with a reason, never an exception."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from jakreg.analysis import AnalysisOptions, analyse, results_json
from jakreg.analysis.schema import check
from jakreg.errors import SelectionError
from tests.analysis.example import Rows, database, example_copy
from tests.studydata import BASE, write_study

CUTOFF = dt.date(2023, 1, 10)


def _results(url: str, **options: object) -> dict:  # type: ignore[type-arg]
    data = json.loads(results_json(analyse(url, AnalysisOptions(**options))))  # type: ignore[arg-type]
    assert check(data) == []
    return data


def test_no_patients_at_all(tmp_path: Path) -> None:
    r = _results(database(tmp_path, None), today=CUTOFF)
    assert r["cohort"]["n_patients"] == 0
    assert r["cohort"]["age_at_start_years"]["computable"] is False
    assert r["idda"]["n_pairs"] == 0
    assert r["idda"]["test"]["p_value"] is None
    assert r["idda"]["test"]["reason"] == "no complete pairs"
    assert r["drug_survival"]["kaplan_meier"]["computable"] is False
    assert r["response"]["complete_or_partial"] == 0
    assert r["data"]["cutoff_source"] == "today (no selected centre has a data cut-off)"
    assert r["data"]["cutoff"] == CUTOFF.isoformat()


def test_an_unknown_centre_is_an_error_not_an_empty_report(example_url: str) -> None:
    with pytest.raises(SelectionError) as caught:
        analyse(example_url, AnalysisOptions(centre="NOPE"))
    assert str(caught.value) == (
        "there is no centre 'NOPE' in the database (centres: SYN-A, SYN-B, SYN-C, SYN-D, SYN-E, "
        "SYN-F); give a centre code exactly as in the centres sheet"
    )


def test_a_centre_with_no_patients(tmp_path: Path) -> None:
    def empty_centre(sheets: dict[str, Rows]) -> None:
        sheets["centres"].append({**sheets["centres"][0], "centre": "SYN-Z", "name": "Empty"})

    url = database(tmp_path, example_copy(tmp_path / "study", empty_centre))
    r = _results(url, centre="SYN-Z")
    assert r["cohort"]["n_patients"] == 0
    assert all(not c["computable"] for c in r["comparison"])


def test_one_patient_one_pair(tmp_path: Path) -> None:
    url = database(tmp_path, write_study(tmp_path / "study"))
    r = _results(url, cutoff=CUTOFF)
    assert r["cohort"]["n_patients"] == 1
    assert r["idda"]["n_pairs"] == 1
    assert r["idda"]["test"]["p_value"] is None
    assert "non-zero differences" in r["idda"]["test"]["reason"]
    assert r["idda"]["hodges_lehmann"]["ci_computable"] is False
    assert r["cohort"]["age_at_start_years"]["n"] == 1
    assert r["drug_survival"]["kaplan_meier"]["n"] == 1


def test_no_pairs(tmp_path: Path) -> None:
    sheets = {k: v for k, v in BASE.items() if k != "assessments"}
    url = database(tmp_path, write_study(tmp_path / "study", sheets))
    r = _results(url, cutoff=CUTOFF)
    assert r["idda"]["n_pairs"] == 0
    assert r["idda"]["before"]["computable"] is False
    assert r["idda"]["excluded"][0]["patient"] == "BCN-01"
    assert "no 'before' score" in r["idda"]["excluded"][0]["reason"]


def test_patient_without_course_by_cutoff_is_listed_not_analysed(tmp_path: Path) -> None:
    url = database(tmp_path, write_study(tmp_path / "study"))
    r = _results(url, cutoff=dt.date(2021, 1, 1))
    assert r["cohort"]["n_patients"] == 0
    assert r["data"]["excluded"] == [
        {
            "patient": "BCN-01",
            "reason": "no JAK-inhibitor course started by the cut-off (2021-01-01)",
        }
    ]
