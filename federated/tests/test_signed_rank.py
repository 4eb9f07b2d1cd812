"""The site-stratified signed-rank statistic against its exact null distribution, by brute force.

Under H0 (no shift in any site) every nonzero difference's sign is + or - with probability 1/2,
independently, and the within-site ranks of |difference| are fixed. Enumerating all 2^N sign
assignments of a tiny 3-site example gives the exact null distribution of the van Elteren-weighted
T = sum_i W+_i / (n_i + 1): its mean and variance must be the ones the central function uses, and
the observed T must be the one it reports. No ranking code of the algorithm is reused.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pandas as pd
import pytest

from conftest import NODES, mock, run_central

# (before, under) pairs per site; site B has tied |differences| and a zero difference (dropped)
SITES = {
    "A": [(10.0, 9.0), (8.0, 10.0), (12.0, 9.0)],  # differences -1, +2, -3
    "B": [(5.0, 7.0), (9.0, 7.0), (4.0, 3.0), (6.0, 10.0), (3.0, 3.0)],  # +2, -2, -1, +4, 0
    "C": [(7.0, 6.5), (2.0, 3.5)],  # -0.5, +1.5
}


def _frame(pairs: list[tuple[float, float]], site: str) -> pd.DataFrame:
    rows = [
        {"schema_version": 1, "record": "idda", "patient_key": f"{site}{i}", "course_no": 1,
         "before": b, "under": u}
        for i, (b, u) in enumerate(pairs)
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=pd.read_csv(NODES[0], nrows=0).columns)


def _midranks(values: list[Fraction]) -> list[Fraction]:
    """Mid-ranks of |values| by counting (1-based): below + (ties + 1) / 2."""
    return [
        sum(1 for w in values if abs(w) < abs(v))
        + Fraction(sum(1 for w in values if abs(w) == abs(v)) + 1, 2)
        for v in values
    ]


def _exact_null() -> tuple[Fraction, Fraction, Fraction]:
    """(observed T, exact null mean, exact null variance) by enumerating every sign assignment."""
    per_site = []
    observed = Fraction(0)
    for pairs in SITES.values():
        d = [Fraction(u) - Fraction(b) for b, u in pairs]
        d = [x for x in d if x != 0]
        r = _midranks(d)
        w = Fraction(1, len(d) + 1)
        per_site.append((w, r))
        observed += w * sum(ri for x, ri in zip(d, r, strict=True) if x > 0)
    ranks = [(w, ri) for w, r in per_site for ri in r]
    values = [
        sum((w * ri for (w, ri), s in zip(ranks, signs, strict=True) if s), Fraction(0))
        for signs in itertools.product((False, True), repeat=len(ranks))
    ]
    mean = sum(values, Fraction(0)) / len(values)
    var = sum(((v - mean) ** 2 for v in values), Fraction(0)) / len(values)
    return observed, mean, var


def test_enumeration_covers_every_sign_assignment() -> None:
    n = sum(sum(1 for b, u in p if u != b) for p in SITES.values())
    assert n == 9  # 2^9 = 512 assignments


@pytest.mark.parametrize("min_cell", ["1", "2"])
def test_stratified_statistic_mean_and_variance_are_the_exact_null_ones(monkeypatch, min_cell):
    monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", min_cell)
    r = run_central(mock([_frame(p, s) for s, p in SITES.items()]))["stratified_signed_rank"]
    observed, mean, var = _exact_null()
    assert r["refused"] == []
    assert r["n"] == 9
    assert r["statistic"] == pytest.approx(float(observed), abs=1e-12)
    assert r["mean"] == pytest.approx(float(mean), abs=1e-12)
    assert r["variance"] == pytest.approx(float(var), abs=1e-12)
    assert r["z"] == pytest.approx(float((observed - mean) / Fraction(math.sqrt(var))), abs=1e-12)
    assert r["weights"] == "1 / (n_i + 1) (van Elteren)"


def test_a_site_below_the_minimum_is_left_out_and_named(monkeypatch) -> None:
    """At min cell 3, site C (2 nonzero differences) is refused; the others combine alone."""
    monkeypatch.setenv("JAKREG_FEDERATED_MIN_CELL", "3")
    r = run_central(mock([_frame(p, s) for s, p in SITES.items()]))["stratified_signed_rank"]
    assert [x["node"] for x in r["refused"]] == ["mock-2 (organization 2)"]
    assert r["n"] == 7
    # A: W+ = 2 of n 3; B: ranks |2|,|2|,|1|,|4| -> 2.5, 2.5, 1, 4, W+ = 2.5 + 4 of n 4
    assert r["statistic"] == pytest.approx(2 / 4 + 6.5 / 5)
    assert r["mean"] == pytest.approx(3 * 4 / 4 / 4 + 4 * 5 / 4 / 5)
