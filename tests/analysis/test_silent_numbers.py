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
from jakreg.rules.treatment_emergent import default_window
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


def _ae(pid: str, course: str, onset: str) -> dict[str, str]:
    return {
        "patient_id": pid, "course_no": course, "term": "Lung infection", "category": "infection",
        "onset_date": onset, "resolution_date": "", "grade": "2", "serious": "no",
        "attribution": "probable", "action_taken": "none",
    }  # fmt: skip


def _infections_around_courses(sheets: dict[str, Rows]) -> None:
    sheets["adverse_events"] += [
        _ae("S05", "1", "2020-06-01"),  # 44 days before S05's start (2020-07-15)
        _ae("S02", "1", "2021-03-01"),  # 14 days after S02's stop (2021-02-15)
        _ae("S10", "1", "2021-06-01"),  # 47 days after S10's stop (2021-04-15)
        _ae("S07", "", "2020-09-01"),  # no course given, 44 days before S07's start (2020-10-15)
    ]


@pytest.fixture(scope="module")
def ae_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("ae")
    return database(tmp, example_copy(tmp / "study", _infections_around_courses))


@pytest.mark.parametrize(
    ("before", "after", "patients"),
    [
        # By hand from the dates above; S03's herpes zoster (2020-03-02, on drug) is the example's.
        (0, 30, {"S03", "S02"}),  # the shipped window
        (0, 60, {"S03", "S02", "S10"}),
        (50, 30, {"S03", "S02", "S05", "S07"}),
        (0, 0, {"S03"}),
    ],
)
def test_infections_count_only_in_the_treatment_emergent_window(
    ae_url: str, before: int, after: int, patients: set[str]
) -> None:
    window = default_window().with_days(before=before, after=after)
    r = _results(ae_url, treatment_emergent=window, hpo_groups=False)
    ae = r["adverse_events"]
    likely = {i["patient"] for i in ae["infections"] if i["likely_adverse_event"]}
    assert likely == patients
    assert ae["patients_with_infection"] == len(patients)
    assert r["options"]["treatment_emergent"] == {
        "days_before_start": before, "days_after_stop": after,
    }  # fmt: skip
    rule = next(x for x in r["methods"]["rules"] if x["name"].startswith("Treatment-emergent"))
    assert f"{before} days before start, {after} days after stop" in rule["source"]


def test_the_comparison_side_uses_the_same_window(ae_url: str) -> None:
    r = _results(ae_url, hpo_groups=False)
    row = next(c for c in r["comparison"] if "infection" in c["variable"])
    assert row["cohort"]["n_yes"] == r["adverse_events"]["patients_with_infection"]


def _follow_up_gaps(sheets: dict[str, Rows]) -> None:
    for row in sheets["patients"]:
        if row["patient_id"] == "S04":
            row["last_follow_up"] = ""
        if row["patient_id"] == "S05":
            row["last_follow_up"] = "2020-01-01"  # S05 starts 2020-07-15


def test_follow_up_blank_or_before_start_is_a_visible_warning(tmp_path: Path) -> None:
    from jakreg.report.context import build_context

    url = database(tmp_path, example_copy(tmp_path / "study", _follow_up_gaps))
    results = analyse(url, AnalysisOptions(hpo_groups=False))
    data = json.loads(results_json(results))
    assert check(data) == []
    assert data["drug_survival"]["follow_up_warnings"] == [
        {
            "patient": "S04",
            "warning": "course 1: last follow-up is blank, so time on drug runs to the cut-off "
            "(2021-12-15)",
        },
        {
            "patient": "S05",
            "warning": "course 1: last follow-up (2020-01-01) is before the course start "
            "(2020-07-15), so time on drug runs to the cut-off (2021-12-15)",
        },
    ]
    context = build_context(results)
    section = next(s for s in context.sections if s.id == "discontinuation")
    text = " ".join(section.paragraphs)
    assert "Warning: 2 patients' first course is counted as still on drug" in text
    assert "Warning: S05: course 1: last follow-up (2020-01-01) is before the course start" in text


def test_a_stopped_course_needs_no_follow_up_warning(tmp_path: Path) -> None:
    def edit(sheets: dict[str, Rows]) -> None:
        next(r for r in sheets["patients"] if r["patient_id"] == "S02")["last_follow_up"] = ""

    url = database(tmp_path, example_copy(tmp_path / "study", edit))
    assert _results(url, hpo_groups=False)["drug_survival"]["follow_up_warnings"] == []


def test_response_denominators_are_stated(example_url: str) -> None:
    """Summary: of all analysed patients; comparison: of CR/PR/NR. Both said, with their n."""
    from jakreg.report.context import RESPONSE_HEADLINE, build_context, headline

    results = analyse(example_url, AnalysisOptions(hpo_groups=False))
    rows = dict(headline(results, None))
    s = results.response
    assert rows[RESPONSE_HEADLINE].startswith(f"{s.complete_or_partial}/{s.n_patients}")
    section = next(x for x in build_context(results).sections if x.id == "responses")
    text = " ".join(section.paragraphs)
    assert (
        f"of all {s.n_patients} analysed patients (NE and not recorded in the denominator)" in text
    )
    assert f"only patients with CR, PR or NR on both sides ({s.evaluable} here)" in text
    assert results.literature is not None
    row = next(c for c in results.literature.variables if c.variable == "complete_or_partial")
    assert row.cohort.n_known == s.evaluable


def test_response_proportions_carry_clopper_pearson_intervals(example_url: str) -> None:
    """Reference: scipy.stats.binomtest(k, n).proportion_ci(method="exact")."""
    import scipy.stats

    from jakreg.report.tables import build_tables, suppress

    results = analyse(example_url, AnalysisOptions(hpo_groups=False))
    r = json.loads(results_json(results))
    assert check(r) == []
    s = r["response"]
    for key, k in (
        ("complete_or_partial_ci", s["complete_or_partial"]),
        ("complete_ci", s["complete"]),
    ):
        ref = scipy.stats.binomtest(k, s["n_patients"]).proportion_ci(method="exact")
        ci = s[key]
        assert (ci["k"], ci["n"]) == (k, s["n_patients"])
        assert ci["ci_lower"] == pytest.approx(ref.low, abs=1e-10)
        assert ci["ci_upper"] == pytest.approx(ref.high, abs=1e-10)
    for row in r["comparison"]:
        for side in ("cohort", "literature"):
            got = row[side].get("proportion_ci")
            if got is None or not got["computable"]:
                continue
            ref = scipy.stats.binomtest(got["k"], got["n"]).proportion_ci(method="exact")
            assert got["k"] == row[side]["n_yes"]
            assert got["n"] == row[side]["n_known"]
            assert (got["ci_lower"], got["ci_upper"]) == pytest.approx(
                (ref.low, ref.high), abs=1e-10
            )
    table = next(t for t in build_tables(results) if t.name == "responses")
    cp = next(row for row in table.rows if row[0] == "complete or partial")
    ref = scipy.stats.binomtest(s["complete_or_partial"], s["n_patients"]).proportion_ci()
    assert cp[3:] == pytest.approx((100 * ref.low, 100 * ref.high), abs=1e-8)
    # Shared with suppression: a hidden count hides its percent and interval too.
    hidden = suppress(table, 11)
    assert all(
        row[1] == "<11" and row[2:] == (None, None, None) for row in hidden.rows if row[1] != 0
    )
