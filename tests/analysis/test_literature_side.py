"""Comparison with published cases: unknown stays unknown, duplicates count once, the DB path works."""

from __future__ import annotations

from pathlib import Path

from jakreg.analysis import AnalysisOptions, CaseRecord, analyse, compare_cases
from tests.analysis.example import database, example_copy


def _by_name(comparison):  # type: ignore[no-untyped-def]
    return {v.variable: v for v in comparison.variables}


def test_unknown_is_not_no() -> None:
    cohort = [CaseRecord("c1", stopped=False), CaseRecord("c2", stopped=True)]
    lit = [CaseRecord("l1", stopped=None), CaseRecord("l2", stopped=True)]
    v = _by_name(compare_cases(cohort, lit))["stopped"]
    assert (v.literature.n_known, v.literature.n_unknown, v.literature.n_yes) == (1, 1, 1)
    assert v.test.table == ((1, 1), (1, 0))


def test_possible_duplicate_counted_once() -> None:
    lit = [CaseRecord("Z2017"), CaseRecord("Z2019", duplicate_of="Z2017"), CaseRecord("W2017")]
    c = compare_cases([CaseRecord("c1")], lit)
    assert (c.n_records, c.n_patients) == (3, 2)
    assert c.duplicate_notes == ("Z2019 may be the same patient as Z2017: counted once (as Z2017)",)


def test_small_numbers_are_flagged() -> None:
    cohort = [CaseRecord(f"c{i}", response="CR") for i in range(3)]
    lit = [CaseRecord("l1", response="NR"), CaseRecord("l2", response="NE")]
    v = _by_name(compare_cases(cohort, lit))["complete_or_partial"]
    assert v.literature.n_known == 1  # NE is not evaluable for CR/PR vs NR
    assert v.test.small_numbers
    assert v.to_dict()["cautions"]


def _with_literature(sheets: dict[str, list[dict[str, str]]]) -> None:
    template = dict(sheets["patients"][0])
    for pid, sex, response in (("L01", "male", "PR"), ("L02", "unknown", "")):
        sheets["patients"].append(
            template
            | {"patient_id": pid, "sex": sex, "source": "literature",
               "citation": "PMID:35486339", "birth_year_month": "", "last_follow_up": ""}
        )  # fmt: skip
        sheets["courses"].append(
            dict(sheets["courses"][0]) | {"patient_id": pid, "start_date": "2019-01-15"}
        )
        if response:
            sheets["responses"].append(
                {"patient_id": pid, "course_no": "1", "date": "2019-06-15",
                 "manifestation": "", "response": response}
            )  # fmt: skip


def test_literature_patients_in_the_database(tmp_path: Path) -> None:
    url = database(tmp_path, example_copy(tmp_path / "study", _with_literature))
    r = analyse(url)
    assert r.cohort.n_patients == 10  # the cohort stays the cohort
    assert r.literature is not None
    assert r.literature.n_patients == 2
    v = _by_name(r.literature)
    assert (v["female"].literature.n_known, v["female"].literature.n_unknown) == (1, 1)
    assert v["complete_or_partial"].literature.n_known == 1
    assert v["infection_ae"].literature.n_known == 0  # nothing reported is unknown
    assert v["age_at_start_years"].literature.n_known == 0
    d = r.to_dict()
    assert d["literature"]["n_patients"] == 2
    assert {c["variable"] for c in d["comparison"]} >= {"complete_or_partial", "stopped"}


def test_literature_off(example_url: str) -> None:
    d = analyse(example_url, AnalysisOptions(literature=False)).to_dict()
    assert d["literature"] == {"included": False, "n_patients": 0, "source": None}
    assert d["comparison"] == []


def test_given_records_replace_the_database(example_url: str) -> None:
    recs = [CaseRecord("W-2017", response="CR", drug="ruxolitinib")]
    from jakreg.analysis.run import analyse as run

    r = run(example_url, literature_cases=recs, literature_source="jakreg.literature")
    assert r.literature is not None
    assert (r.literature.n_patients, r.literature.source) == (1, "jakreg.literature")
