"""Comparison records and the summary: duplicates honoured, unknown kept unknown, n known per variable."""

from __future__ import annotations

import pytest

from jakreg.literature import (
    COMPARED_VARIABLES,
    Confidence,
    LiteratureSet,
    comparison_records,
    load_cases,
    summarise,
)


@pytest.fixture(scope="module")
def lit() -> LiteratureSet:
    return load_cases()


def test_the_possible_duplicate_is_left_out_and_said_why(lit: LiteratureSet) -> None:
    records = comparison_records(lit)
    assert len(records) == 7
    assert "Zimmerman-2019-P1" not in [r.case_id for r in records]
    (excluded,) = records.excluded
    assert excluded.record.case_id == "Zimmerman-2019-P1"
    assert excluded.reason.startswith(
        "possible duplicate of Zimmerman-2017-P1 or Zimmerman-2017-P4 (curators' judgement: "
    )
    everyone = comparison_records(lit, honour_duplicates=False)
    assert len(everyone) == 8
    assert everyone.excluded == ()


def test_records_keep_unknown_as_none(lit: LiteratureSet) -> None:
    r = {x.case_id: x for x in comparison_records(lit, honour_duplicates=False)}
    assert all(x.age_years is None for x in r.values())
    assert r["Weinacht-2017-P1"].adult is False
    assert r["Zimmerman-2017-P1"].adult is True
    assert r["Rosenberg-2022-P1"].adult is True
    assert r["Chaimowitz-2020-P1"].adult is None
    assert r["Zimmerman-2017-P4"].stopped is None
    assert r["Zimmerman-2017-P1"].stopped is True
    assert r["Zimmerman-2017-P1"].stop_reason == "clinical worsening after 4 weeks"
    assert r["Zimmerman-2019-P1"].stop_reason is None
    # 'Beside headache, the patient did not report any other side effects.'
    assert r["Zimmerman-2017-P1"].infection_ae is False
    assert [k for k, x in r.items() if x.infection_ae is not None] == ["Zimmerman-2017-P1"]
    assert [k for k, x in r.items() if x.died is not None] == ["Staels-2023-P1"]
    assert r["Staels-2023-P1"].died is True
    assert r["JClinImmunol-2024-01687-P1"].response_category is None
    assert r["Staels-2023-P1"].response_category == "PR"
    assert r["Staels-2023-P1"].response_status == "provisional"


def test_records_carry_their_sources(lit: LiteratureSet) -> None:
    for record in comparison_records(lit, honour_duplicates=False):
        assert set(record.sources) == set(COMPARED_VARIABLES)
        for name in COMPARED_VARIABLES:
            if getattr(record, name) is None:
                assert record.sources[name].confidence is Confidence.not_reported
    r = {x.case_id: x for x in comparison_records(lit)}
    assert r["Chaimowitz-2020-P1"].sources["sex"].confidence is Confidence.lay
    assert r["Chaimowitz-2020-P1"].sources["sex"].source.startswith("secondary lay summary")
    assert r["Weinacht-2017-P1"].sources["response_category"].derived
    assert r["Zimmerman-2017-P1"].citation == "PMID:29226168"


def test_low_confidence(lit: LiteratureSet) -> None:
    r = {x.case_id: x for x in comparison_records(lit)}
    assert [k for k, x in r.items() if x.low_confidence] == ["Chaimowitz-2020-P1"]
    assert r["Chaimowitz-2020-P1"].low_confidence_fields == ("sex", "drug", "response_category")


def test_summary_counts_people_once_and_shows_n_known(lit: LiteratureSet) -> None:
    s = summarise(lit)
    assert (s.n_cases, s.n_publications, s.n_distinct_people, s.n_records) == (8, 7, 7, 7)
    assert s.excluded[0][0] == "Zimmerman-2019-P1"
    for v in s.variables:
        assert v.n_known + v.n_unknown == 7
        assert sum(n for _, n in v.counts) == v.n_known
    assert s.variable("age_years").n_known == 0
    assert s.variable("drug").counts_dict() == {"ruxolitinib": 5, "baricitinib": 1, "itacitinib": 1}
    assert s.variable("sex").counts_dict() == {"male": 3, "female": 1}
    assert s.variable("response_category").counts_dict() == {"CR": 3, "NR": 2, "PR": 1}
    assert s.variable("stopped").counts_dict() == {"yes": 1}
    assert s.variable("stopped").n_unknown == 6
    assert "provisional" in s.response_rule


def test_summary_without_honouring_duplicates(lit: LiteratureSet) -> None:
    s = summarise(lit, honour_duplicates=False)
    assert s.n_records == 8
    assert s.n_distinct_people == 7  # still a count of people
    assert s.variable("drug").counts_dict() == {"ruxolitinib": 6, "baricitinib": 1, "itacitinib": 1}
    d = s.to_dict()
    assert d["variables"]["drug"] == {
        "n_known": 8,
        "n_unknown": 0,
        "n_low_confidence": 1,
        "counts": {"ruxolitinib": 6, "baricitinib": 1, "itacitinib": 1},
    }
    assert s.table()[0] == {
        "variable": "age_years",
        "n_known": 0,
        "n_unknown": 8,
        "n_low_confidence": 0,
        "counts": "",
    }
