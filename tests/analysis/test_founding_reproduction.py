"""The bundled synthetic example, analysed from the database, gives every figure of the founding study.

Published figures (Deyà-Martínez et al., J Clin Immunol 2022; founding_study.md): 10 patients at 6 centres,
age 8.5 (3–18) years, ruxolitinib 9 / baricitinib 1, follow-up 18 (2–42) months, 9/10 CR or PR,
IDDA 15.99 (5.2–40) before and 7.55 (3–14.1) under therapy, p = 0.0078 (= 2/2**8, exact two-sided
Wilcoxon on 8 pairs: scipy.stats.wilcoxon([-25.9, -17.9, -13.7, -10.85, -9.19, -9.2, -7.8, -2.2],
method="exact").pvalue == 0.0078125), infection as likely adverse event 1/10, 3 stops (hepatotoxicity,
before HSCT, no response). Nothing below is written into the data: each value is computed from the
example's rows through jakreg.rules and jakreg.stats.
"""

from __future__ import annotations

import json

import pytest

from jakreg.analysis import analyse, results_json


@pytest.fixture(scope="module")
def results(example_url: str) -> dict:  # type: ignore[type-arg]
    return json.loads(results_json(analyse(example_url)))


def test_patients_and_centres(results: dict) -> None:  # type: ignore[type-arg]
    assert results["cohort"]["n_patients"] == 10
    assert results["cohort"]["n_centres"] == 6


def test_age_at_start(results: dict) -> None:  # type: ignore[type-arg]
    age = results["cohort"]["age_at_start_years"]
    assert (age["median"], age["min"], age["max"], age["n"]) == (8.5, 3.0, 18.0, 10)
    assert age["n_missing"] == 0


def test_drugs(results: dict) -> None:  # type: ignore[type-arg]
    assert results["cohort"]["drugs"] == {"ruxolitinib": 9, "baricitinib": 1}


def test_follow_up_is_to_last_follow_up_not_time_on_drug(results: dict) -> None:  # type: ignore[type-arg]
    fu = results["cohort"]["follow_up_months"]
    assert (fu["median"], fu["min"], fu["max"], fu["n"]) == (18.0, 2.0, 42.0, 10)
    tod = results["treatment"]["time_on_drug_months"]
    assert (tod["median"], tod["min"], tod["max"]) == (18.0, 1.0, 42.0)


def test_responses(results: dict) -> None:  # type: ignore[type-arg]
    r = results["response"]
    assert r["complete_or_partial"] == 9
    assert r["evaluable"] == 10
    assert (r["complete"], r["partial"], r["none"]) == (5, 4, 1)
    assert r["disagreements"] == []


def test_idda_before_and_under(results: dict) -> None:  # type: ignore[type-arg]
    idda = results["idda"]
    b, u = idda["before"], idda["under"]
    assert (b["median"], b["min"], b["max"], b["n"]) == (15.99, 5.2, 40.0, 9)
    assert (u["median"], u["min"], u["max"], u["n"]) == (7.55, 3.0, 14.1, 9)


def test_idda_pairs_and_exclusions(results: dict) -> None:  # type: ignore[type-arg]
    idda = results["idda"]
    assert idda["n_pairs"] == 8
    excluded = {e["patient"]: e["reason"] for e in idda["excluded"]}
    assert set(excluded) == {"S09", "S10"}
    assert "no 'under' score" in excluded["S09"]
    assert "no 'before' score" in excluded["S10"]
    s09 = next(p for p in idda["patients"] if p["patient"] == "S09")
    assert any("after the course stopped" in n["why"] for n in s09["not_chosen"])


def test_idda_exact_wilcoxon(results: dict) -> None:  # type: ignore[type-arg]
    test = results["idda"]["test"]
    assert test["p_value"] == pytest.approx(0.0078125, abs=1e-12)
    assert test["method"] == "exact"
    assert test["alternative"] == "two-sided"
    assert test["zero_method"] == "wilcox"
    assert test["statistic"] == 0.0
    assert results["idda"]["sign_test"]["p_value"] == pytest.approx(0.0078125)
    assert results["idda"]["rank_biserial"]["r"] == -1.0
    hl = results["idda"]["hodges_lehmann"]
    assert hl["estimate"] < 0
    assert hl["ci_upper"] < 0


def test_infection_as_likely_adverse_event(results: dict) -> None:  # type: ignore[type-arg]
    ae = results["adverse_events"]
    assert ae["patients_with_infection"] == 1
    assert ae["patients_with_any_infection"] == 2
    assert ae["infection_attributions"] == ["probable", "definite"]


def test_stops(results: dict) -> None:  # type: ignore[type-arg]
    d = results["discontinuation"]
    assert d["n"] == 3
    assert d["reasons"] == {"adverse_event": 1, "hsct": 1, "no_response": 1}


def test_hepatotoxicity_from_graded_labs(results: dict) -> None:  # type: ignore[type-arg]
    h = results["adverse_events"]["hepatotoxicity"]
    assert h["n_patients"] == 1
    assert h["patients"] == [
        {"patient": "S09", "max_grade": 3, "term": "Alanine aminotransferase increased"}
    ]


def test_cutoff_is_the_centres_data_cutoff(results: dict) -> None:  # type: ignore[type-arg]
    assert results["data"]["cutoff"] == "2021-12-15"
    assert results["data"]["cutoff_source"].startswith("latest centre data cut-off")
    assert results["data"]["synthetic_example"] is True


def test_drug_survival(results: dict) -> None:  # type: ignore[type-arg]
    km = results["drug_survival"]["kaplan_meier"]
    assert (km["n"], km["n_events"], km["median_reached"]) == (10, 3, False)
    causes = [c["cause"] for c in results["drug_survival"]["cumulative_incidence"]["causes"]]
    assert causes == ["adverse_event", "hsct", "no_response"]


def test_methods_name_rules_with_status(results: dict) -> None:  # type: ignore[type-arg]
    rules = {r["name"]: r for r in results["methods"]["rules"]}
    assert rules["IDDA total as reported"]["status"] == "provisional"
    assert rules["STAT1 domain table"]["status"] == "provisional"
    assert rules["CTCAE laboratory grading"]["version"] == "5.0"
    assert any(n.startswith("Assessment windows") for n in rules)
    assert "scipy" in results["methods"]["software"]
    assert results["methods"]["data_sha256"] == results["data"]["sha256"]


def test_snapshot_hash_is_reproducible(example_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.analysis.example import example_database

    other = example_database(tmp_path / "again")
    assert analyse(other).data.sha256 == analyse(example_url).data.sha256
