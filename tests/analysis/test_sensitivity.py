"""Sensitivity table: each variant's pairs chosen by hand, its p-value from scipy.stats.wilcoxon."""

from __future__ import annotations

import dataclasses

import pytest
from scipy.stats import wilcoxon

from jakreg.analysis.data import AssessmentData
from jakreg.analysis.sensitivity import sensitivity_section
from jakreg.rules.windows import WindowRule
from tests.analysis.questions_build import CUTOFF, D, course, patient, views

START = D(2022, 1, 1)


def _a(on, total, role="physician"):  # type: ignore[no-untyped-def]
    return AssessmentData(on, "IDDA", "1", total, role)


def _cohort():  # type: ignore[no-untyped-def]
    ps = []
    for i in range(8):
        # Before: 45 days before start (inside 60/90/180, outside 30) for even i, else 10 days.
        before_day = D(2021, 11, 17) if i % 2 == 0 else D(2021, 12, 22)
        role = "nurse" if i in (1, 2) else "physician"
        ps.append(patient(
            f"P{i}", course(1, "ruxolitinib", START),
            assessments=[_a(before_day, 20.0 + i, role), _a(D(2022, 4, 1), 14.0 + 0.5 * i),
                         _a(D(2022, 12, 15), 10.0 + i % 3)],
        ))  # fmt: skip
    return views(*ps)


def _row(s, label: str):  # type: ignore[no-untyped-def]
    return next(r for r in s.rows if r.label == label).to_dict()


def test_rows_against_scipy_on_pairs_chosen_by_hand() -> None:
    s = sensitivity_section(_cohort(), score="IDDA", primary=WindowRule(), cutoff=CUTOFF,
                            zero_method="wilcox", confidence_level=0.95)  # fmt: skip
    labels = [r.label for r in s.rows]
    assert labels[0].startswith("primary: ")
    assert "before window 90 days" not in labels  # the primary's own window
    before = [20.0 + i for i in range(8)]
    last = [10.0 + i % 3 for i in range(8)]
    at3 = [14.0 + 0.5 * i for i in range(8)]
    primary = _row(s, labels[0])
    assert primary["n_pairs"] == 8
    assert primary["wilcoxon_p"] == pytest.approx(wilcoxon(last, before).pvalue)
    # 30-day window: only the odd patients have a 'before' score.
    w30 = _row(s, "before window 30 days")
    odd = range(1, 8, 2)
    assert w30["n_pairs"] == 4
    assert w30["wilcoxon_p"] == pytest.approx(
        wilcoxon([last[i] for i in odd], [before[i] for i in odd]).pvalue
    )
    # Landmark 3 months: the 2022-04-01 score (within ±60 days of 2022-04-01).
    lm3 = _row(s, "under: nearest to 3 months (±60 days)")
    assert lm3["n_pairs"] == 8
    assert lm3["wilcoxon_p"] == pytest.approx(wilcoxon(at3, before).pvalue)
    # 6 months (2022-07-01 ± 60 days): no score in the window, no pair.
    assert _row(s, "under: nearest to 6 months (±60 days)")["n_pairs"] == 0
    assert _row(s, "under: nearest to 6 months (±60 days)")["computable"] is False
    # Physician only: P1 and P2 had their 'before' score by a nurse.
    phys = _row(s, "physician-scored assessments only")
    keep = [i for i in range(8) if i not in (1, 2)]
    assert phys["n_pairs"] == 6
    assert phys["wilcoxon_p"] == pytest.approx(
        wilcoxon([last[i] for i in keep], [before[i] for i in keep]).pvalue
    )


def test_one_patient_is_not_computable() -> None:
    one = _cohort()[:1]
    s = sensitivity_section(one, score="IDDA", primary=dataclasses.replace(WindowRule()),
                            cutoff=CUTOFF, zero_method="wilcox", confidence_level=0.95)  # fmt: skip
    assert all(r.to_dict()["wilcoxon_p"] is None for r in s.rows)
