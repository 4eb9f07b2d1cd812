"""Exposure and exposure-adjusted rates: days counted by hand, rates checked against statsmodels."""

from __future__ import annotations

import pytest
from statsmodels.stats.rates import confint_poisson

from jakreg.analysis.exposure import (
    exposure_section,
    incidence_section,
    safety_events,
)
from tests.analysis.questions_build import CUTOFF, D, ae, course, lab, patient, views

YEAR = 365.25


def _row(section, drug: str, outcome: str):  # type: ignore[no-untyped-def]
    return next(r for r in section.rows if r.drug == drug and r.outcome == outcome)


def test_exposure_by_drug_centre_and_overall_is_cutoff_aware() -> None:
    vs = views(
        patient("P1", course(1, "ruxolitinib", D(2022, 1, 1), D(2022, 7, 1), "adverse_event"),
                course(2, "baricitinib", D(2022, 8, 1)), centre="C1"),
        # Stop after the cut-off is not seen: censored at the cut-off.
        patient("P2", course(1, "ruxolitinib", D(2023, 1, 1), D(2025, 1, 1), "other"),
                centre="C2"),
        # Still on drug, last seen before the cut-off: exposure ends at the last follow-up.
        patient("P3", course(1, "ruxolitinib", D(2023, 6, 1)), centre="C2",
                last_follow_up=D(2023, 9, 1)),
    )  # fmt: skip
    e = exposure_section(vs, CUTOFF)
    days = {
        "P1-1": (D(2022, 7, 1) - D(2022, 1, 1)).days,
        "P1-2": (CUTOFF - D(2022, 8, 1)).days,
        "P2": (CUTOFF - D(2023, 1, 1)).days,
        "P3": (D(2023, 9, 1) - D(2023, 6, 1)).days,
    }
    assert e.overall.days == sum(days.values())
    assert e.overall.patient_years == pytest.approx(sum(days.values()) / YEAR)
    assert (e.overall.n_patients, e.overall.n_courses, e.overall.n_ongoing) == (3, 4, 3)
    drug = {r.group: r for r in e.by_drug}
    assert drug["baricitinib"].days == days["P1-2"]
    assert drug["ruxolitinib"].days == days["P1-1"] + days["P2"] + days["P3"]
    centre = {r.group: r for r in e.by_centre}
    assert centre["C2"].days == days["P2"] + days["P3"]
    assert centre["C2"].n_patients == 2
    assert exposure_section(vs, CUTOFF).to_dict()["overall"]["patient_years"] == pytest.approx(
        sum(days.values()) / YEAR
    )


def test_safety_events_is_the_on_drug_selection() -> None:
    (v,) = views(
        patient(
            "P1",
            course(1, "ruxolitinib", D(2022, 1, 1), D(2022, 3, 1), "other"),
            course(2, "baricitinib", D(2022, 6, 1)),
            adverse_events=[
                ae(D(2021, 12, 31)),  # before any course
                ae(D(2022, 1, 1)),  # start day: counts
                ae(D(2022, 3, 1)),  # stop day: counts
                ae(D(2022, 3, 20)),  # 19 days after the stop: in the 30-day window
                ae(D(2022, 4, 1)),  # 31 days after the stop: not treatment-emergent
                ae(D(2022, 7, 1), course_no=2),
                ae(D(2024, 2, 1)),  # after the cut-off
            ],
        )
    )
    picked = [(c.course_no, e.onset) for c, e in safety_events(v, CUTOFF)]
    assert picked == [
        (1, D(2022, 1, 1)), (1, D(2022, 3, 1)), (1, D(2022, 3, 20)), (2, D(2022, 7, 1))
    ]  # fmt: skip
    # The same selection as the report's safety counts (analysis.safety.treatment_emergent).
    from jakreg.analysis.safety import treatment_emergent

    same = [e.onset for e in v.data.adverse_events if treatment_emergent(e, v.data.courses, CUTOFF)]
    assert same == [d for _, d in picked]


def test_first_event_and_recurrent_rates_against_statsmodels() -> None:
    start = D(2022, 1, 1)
    vs = views(
        patient("P1", course(1, "ruxolitinib", start),
                adverse_events=[ae(D(2022, 3, 1), "Herpes zoster", "infection", 2),
                                ae(D(2022, 9, 1), "Herpes zoster", "infection", 3)]),
        patient("P2", course(1, "ruxolitinib", start)),
        patient("P3", course(1, "ruxolitinib", start),
                labs=[lab(start, "Neutrophil count decreased", 3),  # baseline: not counted
                      lab(D(2022, 5, 1), "Neutrophil count decreased", 2)]),
    )  # fmt: skip
    s = incidence_section(vs, CUTOFF)
    full = (CUTOFF - start).days
    zoster = _row(s, "all drugs", "herpes zoster")
    assert zoster.patients_with_event == 1
    assert zoster.recurrent is not None
    assert zoster.recurrent.events == 2
    assert zoster.recurrent.exposure == pytest.approx(3 * full / YEAR)
    lo, hi = confint_poisson(2, 3 * full / YEAR, method="exact-c")
    assert zoster.recurrent.lower == pytest.approx(100 * float(lo))
    assert zoster.recurrent.upper == pytest.approx(100 * float(hi))
    # First event: P1 at risk until 2022-03-01 only.
    first_days = (D(2022, 3, 1) - start).days + 2 * full
    assert zoster.first_event.exposure == pytest.approx(first_days / YEAR)
    lo, hi = confint_poisson(1, first_days / YEAR, method="exact-c")
    assert zoster.first_event.upper == pytest.approx(100 * float(hi))
    g3 = _row(s, "all drugs", "grade ≥ 3")
    assert (g3.patients_with_event, g3.recurrent.events if g3.recurrent else None) == (1, 1)
    cyt2 = _row(s, "all drugs", "cytopenia grade ≥ 2 (lab)")
    cyt3 = _row(s, "all drugs", "cytopenia grade ≥ 3 (lab)")
    assert (cyt2.patients_with_event, cyt3.patients_with_event) == (1, 0)
    assert cyt2.recurrent is None
    assert _row(s, "all drugs", "infection: Herpes zoster").patients_with_event == 1
    assert not [r for r in s.rows if r.outcome == "infection: Oral candidiasis"]


def test_zero_events_zero_exposure_and_one_patient() -> None:
    # One patient who started on the cut-off day: no time at risk at all.
    (v,) = views(patient("P1", course(1, "ruxolitinib", CUTOFF)))
    s = incidence_section((v,), CUTOFF)
    row = _row(s, "all drugs", "all adverse events")
    assert row.n_patients_exposed == 1
    assert row.patients_with_event == 0
    assert not row.first_event.computable
    assert row.first_event.reason == "no time at risk"
    assert exposure_section((v,), CUTOFF).overall.days == 0
    # Zero events with exposure: rate 0, exact upper limit.
    (w,) = views(patient("P1", course(1, "ruxolitinib", D(2023, 1, 1))))
    r = _row(incidence_section((w,), CUTOFF), "all drugs", "thrombosis or embolism")
    _, hi = confint_poisson(0, 365 / YEAR, method="exact-c")
    assert r.first_event.rate == 0.0
    assert r.first_event.upper == pytest.approx(100 * float(hi))
    assert incidence_section((), CUTOFF).rows[0].first_event.reason == "no time at risk"


def test_rates_by_drug_use_each_drugs_courses_only() -> None:
    vs = views(
        patient("P1", course(1, "ruxolitinib", D(2022, 1, 1), D(2022, 6, 1), "other"),
                course(2, "baricitinib", D(2022, 7, 1)),
                adverse_events=[ae(D(2022, 8, 1), "Deep vein thrombosis", grade=3)]),
    )  # fmt: skip
    s = incidence_section(vs, CUTOFF)
    assert _row(s, "baricitinib", "thrombosis or embolism").patients_with_event == 1
    assert _row(s, "ruxolitinib", "thrombosis or embolism").patients_with_event == 0
    bari = _row(s, "baricitinib", "thrombosis or embolism").first_event.exposure
    assert bari == pytest.approx((D(2022, 8, 1) - D(2022, 7, 1)).days / YEAR)
