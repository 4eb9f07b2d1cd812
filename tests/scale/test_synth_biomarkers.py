"""The synthetic generator's biomarker series: on-therapy values that pair with the baseline, and
the rest of a patient's rows unchanged by them (their own random stream)."""

from __future__ import annotations

from jakreg.synth.generate import patient_rows, plan_study


def test_series_give_pairs_and_do_not_disturb_other_sheets() -> None:
    plan = plan_study(centres=4, seed=3)
    rows = [patient_rows(plan, i) for i in range(200)]
    markers = [b for r in rows for b in r.get("biomarkers", [])]
    assert {b["marker"] for b in markers} >= {"pstat1", "isg_score", "cxcl10"}
    # Each (patient, date, marker, detail) once: the sheet's unique key.
    keys = [(b["patient_id"], b["date"], b["marker"], b.get("marker_detail")) for b in markers]
    assert len(keys) == len(set(keys))
    with_series = [
        r for r in rows if sum(b["marker"] == "cxcl10" for b in r.get("biomarkers", [])) >= 2
    ]
    assert with_series
    # Same seed, same rows; the other sheets do not depend on the biomarker stream.
    again = patient_rows(plan_study(centres=4, seed=3), 7)
    assert again == rows[7]
