"""Options change what is counted, and the results say which option was used."""

from __future__ import annotations

import datetime as dt

from jakreg.analysis import AnalysisOptions, analyse


def test_infection_threshold_is_an_option(example_url: str) -> None:
    wide = analyse(
        example_url,
        AnalysisOptions(infection_attributions=frozenset({"unlikely", "probable", "definite"})),
    )
    assert wide.adverse_events.patients_with_infection == 2
    assert wide.to_dict()["options"]["infection_attributions"] == [
        "unlikely",
        "probable",
        "definite",
    ]


def test_an_earlier_cutoff_hides_later_rows(example_url: str) -> None:
    r = analyse(example_url, AnalysisOptions(cutoff=dt.date(2021, 1, 31)))
    assert r.data.cutoff_source == "given"
    # S09 starts 2021-03-15: not yet on drug at the cut-off.
    assert [e.patient for e in r.data.excluded] == ["S09"]
    assert r.cohort.n_patients == 9
    # S02 stops 2021-02-15 and S10 2021-04-15: neither stop is seen yet.
    assert r.discontinuation.n == 0


def test_one_centre(example_url: str) -> None:
    r = analyse(example_url, AnalysisOptions(centre="SYN-E"))
    assert r.cohort.n_patients == 2
    assert r.cohort.centres == ("SYN-E",)


def test_zsplit_zero_method_is_reported(example_url: str) -> None:
    r = analyse(example_url, AnalysisOptions(zero_method="zsplit"))
    assert r.idda.test_dict()["zero_method"] == "zsplit"


def test_without_hpo_grouping(example_url: str) -> None:
    r = analyse(example_url, AnalysisOptions(hpo_groups=False))
    assert r.cohort.manifestation_groups == ()
    assert r.cohort.manifestations[0].label == "Chronic mucocutaneous candidiasis"
