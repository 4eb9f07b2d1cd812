"""Scores over time: periods and months since start, and the model's refusal on a small cohort."""

from __future__ import annotations

import pytest

from jakreg.analysis.longitudinal import BEFORE, OFF, UNDER, longitudinal_section
from tests.analysis.questions_build import CUTOFF, D, course, idda, patient, views

START = D(2022, 1, 1)


def test_periods_and_signed_months() -> None:
    vs = views(
        patient("P1", course(1, "ruxolitinib", START, D(2022, 7, 1), "other"),
                assessments=[idda(D(2021, 11, 1), 10), idda(START, 9), idda(D(2022, 4, 1), 6),
                             idda(D(2022, 9, 1), 8), idda(D(2024, 3, 1), 1),
                             idda(D(2022, 5, 1), None)]),
    )  # fmt: skip
    s = longitudinal_section(vs, score="IDDA", cutoff=CUTOFF, confidence_level=0.95)
    got = [(p.on, round(p.months, 6), p.period) for p in s.points]
    assert got == [
        (D(2021, 11, 1), -2.0, BEFORE),
        (START, 0.0, BEFORE),  # the start day counts as before, as in the window rule
        (D(2022, 4, 1), 3.0, UNDER),
        (D(2022, 9, 1), 8.0, OFF),  # after the stop
    ]
    d = s.to_dict()
    assert (d["n_scores"], d["n_off_drug"], d["n_patients"]) == (4, 1, 1)
    assert d["model"]["reason"] == "too few patients with scores (1; at least 5 needed)"


def test_model_is_fitted_on_before_and_under_scores_only() -> None:
    ps = []
    for i in range(6):
        ps.append(patient(f"P{i}", course(1, "ruxolitinib", START, D(2023, 1, 1), "other"),
                          assessments=[idda(D(2021, 12, 1), 10 + i), idda(D(2022, 6, 1), 6 + i % 3),
                                       idda(D(2022, 11, 1), 5 + i % 2),
                                       idda(D(2023, 6, 1), 30)]))  # fmt: skip
    s = longitudinal_section(views(*ps), score="IDDA", cutoff=CUTOFF, confidence_level=0.95)
    assert s.model.computable
    assert s.model.n_scores == 18  # the six off-drug scores of 30 are left out
    assert s.model.effect("under (vs before)").estimate < 0
    assert s.model.effect("intercept").estimate == pytest.approx(s.model.fixed[0].estimate)
