"""Biomarkers: pairs chosen with the IDDA window rule, paired change against scipy.stats.wilcoxon
(exact), Spearman of the changes against an enumeration by scipy, reference range and exclusions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import permutation_test, spearmanr, wilcoxon

from jakreg.analysis.biomarkers import NO_THRESHOLD, biomarker_section
from jakreg.analysis.data import BiomarkerData
from jakreg.analysis.idda_pairs import idda_section
from jakreg.rules.windows import WindowRule
from tests.analysis.questions_build import CUTOFF, D, course, idda, patient, views

START = D(2022, 1, 1)


def _b(on, value, ref=(None, 2.0), marker="pstat1", unit="MFI ratio"):  # type: ignore[no-untyped-def]
    return BiomarkerData(on, marker, None, value, unit, *ref)


def _cohort():  # type: ignore[no-untyped-def]
    before = [6.8, 5.1, 7.4, 4.9, 6.0, 8.2]
    under = [3.1, 2.0, 4.4, 4.1, 2.2, 3.0]
    idda_b = [30.0, 22.0, 41.0, 18.0, 25.0, 35.0]
    idda_u = [12.0, 15.0, 20.0, 16.0, 9.0, 10.0]
    ps = []
    for i in range(6):
        ps.append(patient(
            f"P{i}", course(1, "ruxolitinib", START),
            biomarkers=[_b(D(2021, 12, 10), before[i]), _b(D(2022, 6, 1), under[i]),
                        _b(D(2022, 9, 1), under[i] + 0.1, ref=(0.5, 2.5) if i == 0 else (None, 2.0))],
            assessments=[idda(D(2021, 12, 20), idda_b[i]), idda(D(2022, 9, 1), idda_u[i])],
        ))  # fmt: skip
    # No 'before' value within 90 days: excluded, with the reason.
    ps.append(patient("P9", course(1, "ruxolitinib", START),
                      biomarkers=[_b(D(2021, 6, 1), 9.0), _b(D(2022, 6, 1), 3.0)]))  # fmt: skip
    return views(*ps), before, [u + 0.1 for u in under], idda_b, idda_u


def test_paired_change_and_correlation_against_scipy() -> None:
    vs, before, under, ib, iu = _cohort()
    rule = WindowRule()
    idda_sec = idda_section(vs, score="IDDA", rule=rule, cutoff=CUTOFF, zero_method="wilcox",
                            confidence_level=0.95)  # fmt: skip
    s = biomarker_section(vs, idda_sec, rule=rule, cutoff=CUTOFF, zero_method="wilcox",
                          confidence_level=0.95)  # fmt: skip
    (m,) = s.markers
    assert (m.marker, m.unit) == ("pstat1", "MFI ratio")
    assert m.reference_range == (None, 2.0)  # the range reported most often
    assert m.n_reference_ranges == 2
    # 'under' = the last value on therapy (2022-09-01), as for the IDDA pairs.
    assert [(b, pytest.approx(u)) for _, b, u in m.pairs] == list(zip(before, under, strict=True))
    assert m.excluded[0][0] == "P9"
    assert m.excluded[0][1].startswith("no 'before' value (")
    ref = wilcoxon(under, before, method="exact")
    assert m.paired.wilcoxon.method == "exact"
    assert m.paired.wilcoxon.p_value == pytest.approx(float(ref.pvalue))
    dx = [u - b for b, u in zip(before, under, strict=True)]
    dy = [u - b for b, u in zip(ib, iu, strict=True)]
    r = m.with_idda_change
    assert r.rho == pytest.approx(float(spearmanr(dx, dy).statistic))
    exact = permutation_test((np.asarray(dx),), lambda a: spearmanr(a, dy).statistic,
                             permutation_type="pairings", n_resamples=np.inf,
                             vectorized=False)  # fmt: skip
    assert r.p_value == pytest.approx(float(exact.pvalue))
    d = s.to_dict()
    assert d["no_threshold"] == NO_THRESHOLD
    assert "threshold" not in " ".join(str(k) for k in d["markers"][0])


def test_units_are_kept_apart_and_one_patient_is_not_computable() -> None:
    vs = views(patient("P1", course(1, "ruxolitinib", START),
                       biomarkers=[_b(D(2021, 12, 10), 5.0), _b(D(2022, 6, 1), 3.0),
                                   _b(D(2022, 6, 1), 300.0, marker="cxcl10", unit="pg/mL")]))  # fmt: skip
    sec = idda_section(vs, score="IDDA", rule=WindowRule(), cutoff=CUTOFF, zero_method="wilcox",
                       confidence_level=0.95)  # fmt: skip
    s = biomarker_section(vs, sec, rule=WindowRule(), cutoff=CUTOFF, zero_method="wilcox",
                          confidence_level=0.95)  # fmt: skip
    assert [(m.marker, m.unit) for m in s.markers] == [("cxcl10", "pg/mL"), ("pstat1", "MFI ratio")]
    pst = s.markers[1]
    assert len(pst.pairs) == 1
    assert not pst.paired.wilcoxon.computable
    assert pst.with_idda_change.reason == "fewer than 3 pairs (0)"
