"""Property tests: monotone grades, dose invariants, and no untyped exception on any typed input."""

from __future__ import annotations

import contextlib
import math
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from jakreg.errors import JakregError
from jakreg.rules import ctcae, idda
from jakreg.rules.dosing import (
    BodyMeasurement,
    DoseRecord,
    bsa_mosteller,
    cumulative_exposure,
    dose_intensity,
)
from jakreg.rules.follow_up import months_between, time_on_drug
from jakreg.rules.response import ManifestationResponse, Outcome, Response, derive_response
from jakreg.rules.stat1_domains import domain_of_variant, protein_position
from jakreg.rules.windows import Assessment, UnderMode, WindowRule, choose_assessments

TERMS = sorted(ctcae.TERMS)
CANONICAL = {
    "U/L": {"alt", "ast", "alp", "ggt", "ck"},
    "µmol/L": {"bilirubin", "creatinine"},
    "10^9/L": {"neutrophils", "platelets", "lymphocytes", "wbc"},
    "g/L": {"haemoglobin"},
    "mmol/L": {"cholesterol", "triglycerides"},
}


def unit_of(term: str) -> str:
    analyte = ctcae.TERMS[term].analyte
    return next(u for u, codes in CANONICAL.items() if analyte in codes)


positive = st.floats(min_value=0.001, max_value=1e6, allow_nan=False)
maybe_positive = st.none() | positive


@settings(max_examples=300)
@given(
    term=st.sampled_from(TERMS),
    a=st.floats(min_value=0, max_value=1e6),
    b=st.floats(min_value=0, max_value=1e6),
    lln=maybe_positive,
    uln=maybe_positive,
    baseline=maybe_positive,
)
def test_grade_is_monotone_in_the_value(
    term: str, a: float, b: float, lln: float | None, uln: float | None, baseline: float | None
) -> None:
    lo, hi = sorted((a, b))
    unit = unit_of(term)
    g_lo = ctcae.grade(term, lo, unit, lln=lln, uln=uln, baseline=baseline).grade
    g_hi = ctcae.grade(term, hi, unit, lln=lln, uln=uln, baseline=baseline).grade
    if g_lo is None or g_hi is None:
        return
    if ctcae.TERMS[term].direction is ctcae.Direction.INCREASED:
        assert g_lo <= g_hi
    else:
        assert g_lo >= g_hi


any_float = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=300)
@given(
    term=st.sampled_from([*TERMS, "nonsense"]),
    value=st.none() | any_float,
    unit=st.sampled_from(["U/L", "µmol/L", "mg/dL", "10^9/L", "g/dL", "mmol/L", "/µL", "??"]),
    lln=st.none() | any_float,
    uln=st.none() | any_float,
    baseline=st.none() | any_float,
)
def test_grade_raises_only_typed_errors(
    term: str,
    value: float | None,
    unit: str,
    lln: float | None,
    uln: float | None,
    baseline: float | None,
) -> None:
    try:
        r = ctcae.grade(term, value, unit, lln=lln, uln=uln, baseline=baseline)
    except JakregError:
        return
    assert r.grade is None or 0 <= r.grade <= 4


@given(h=positive, w=positive, k=st.floats(min_value=0.01, max_value=100))
def test_bsa_scales(h: float, w: float, k: float) -> None:
    assert bsa_mosteller(h * k, w * k) == pytest.approx(k * bsa_mosteller(h, w))
    assert bsa_mosteller(h, w) > 0


@given(
    mg=st.floats(min_value=0, max_value=1000),
    n=st.floats(min_value=0, max_value=6),
    weight=st.floats(min_value=1, max_value=200),
    height=st.floats(min_value=30, max_value=220),
)
def test_doubling_dose_doubles_mg_per_kg_and_per_m2(
    mg: float, n: float, weight: float, height: float
) -> None:
    day = date(2020, 1, 1)
    meas = [BodyMeasurement(day, weight, height)]
    one = dose_intensity(DoseRecord(day, mg, n), meas)
    two = dose_intensity(DoseRecord(day, 2 * mg, n), meas)
    assert one.mg_per_kg_per_day is not None
    assert two.mg_per_kg_per_day == pytest.approx(2 * one.mg_per_kg_per_day)
    assert one.mg_per_m2_per_day is not None
    assert two.mg_per_m2_per_day == pytest.approx(2 * one.mg_per_m2_per_day)
    heavier = dose_intensity(DoseRecord(day, mg, n, weight_kg=2 * weight), meas)
    assert heavier.mg_per_kg_per_day == pytest.approx(one.mg_per_kg_per_day / 2)


@given(
    mg=st.floats(min_value=0, max_value=100),
    n=st.integers(min_value=0, max_value=4),
    days=st.integers(min_value=0, max_value=3000),
)
def test_constant_dose_exposure_is_daily_dose_times_days(mg: float, n: int, days: int) -> None:
    start = date(2020, 1, 1)
    c = cumulative_exposure(
        [DoseRecord(start, mg, n)],
        start=start,
        stop=start + timedelta(days=days),
        cutoff=date(2040, 1, 1),
    )
    assert c.total_mg == pytest.approx(mg * n * days)
    assert c.days == days


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(start=dates, months=st.integers(min_value=0, max_value=240))
def test_whole_calendar_months_are_whole(start: date, months: int) -> None:
    start = start.replace(day=min(start.day, 28))
    assert months_between(start, start + relativedelta(months=months)) == months


@given(start=dates, a=st.integers(0, 5000), b=st.integers(0, 5000))
def test_months_monotone(start: date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert months_between(start, start + timedelta(days=lo)) <= months_between(
        start, start + timedelta(days=hi)
    )


@given(start=dates, stop=st.none() | dates, fu=st.none() | dates, cutoff=dates)
def test_time_on_drug_raises_only_typed_errors(
    start: date, stop: date | None, fu: date | None, cutoff: date
) -> None:
    try:
        t = time_on_drug(start, stop=stop, last_follow_up=fu, cutoff=cutoff)
    except JakregError:
        return
    assert t.days >= 0
    assert t.end <= cutoff


assessment_lists = st.lists(
    st.builds(
        Assessment,
        id=st.text(min_size=1, max_size=3),
        on=dates,
        total=st.none() | st.floats(min_value=0, max_value=100),
    ),
    max_size=12,
    unique_by=lambda a: a.id,
)


@given(
    start=dates,
    stop=st.none() | dates,
    items=assessment_lists,
    mode=st.sampled_from(list(UnderMode)),
)
def test_every_assessment_is_chosen_or_explained(
    start: date, stop: date | None, items: list[Assessment], mode: UnderMode
) -> None:
    try:
        c = choose_assessments(start, stop, items, WindowRule(under_mode=mode))
    except JakregError:
        return
    chosen = {x.id for x in (c.before, c.under) if x is not None}
    assert chosen.isdisjoint(c.not_chosen)
    assert chosen | set(c.not_chosen) == {x.id for x in items}


@given(st.lists(st.tuples(st.sampled_from(list(Outcome)), st.booleans()), max_size=8))
def test_derived_response_ne_iff_nothing_evaluable(pairs: list[tuple[Outcome, bool]]) -> None:
    ms = [ManifestationResponse(f"m{i}", o, act) for i, (o, act) in enumerate(pairs)]
    d = derive_response(ms)
    evaluable = [o for o, act in pairs if act and o is not Outcome.NOT_EVALUABLE]
    assert (d.response is Response.NE) == (not evaluable)


AA3 = ["Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly", "His", "Ile", "Leu", "Lys", "Met"]


@given(a=st.sampled_from(AA3), b=st.sampled_from(AA3), pos=st.integers(1, 750), paren=st.booleans())
def test_protein_position_roundtrip(a: str, b: str, pos: int, paren: bool) -> None:
    change = f"{a}{pos}{b}"
    hgvs = f"p.({change})" if paren else f"p.{change}"
    assert protein_position(hgvs) == pos
    assert domain_of_variant(hgvs).position == pos


@given(st.text(max_size=30))
def test_protein_position_raises_only_typed_errors(text: str) -> None:
    with contextlib.suppress(JakregError):
        protein_position(text)


PROVISIONAL = idda.load_definition("idda_provisional")


@given(
    organs=st.lists(st.floats(0, 5), min_size=12, max_size=12),
    p=st.floats(1, 100),
    d=st.floats(0, 400),
    q=st.floats(0, 100),
    bump=st.integers(0, 11),
)
def test_idda_total_is_monotone_in_organ_items(
    organs: list[float], p: float, d: float, q: float, bump: int
) -> None:
    values: dict[str, float | None] = {f"organ_{i + 1}": v for i, v in enumerate(organs)}
    values |= {"performance_index": p, "hospital_days": d, "q_percentage": q}
    values |= {f"further_{i}": 0.0 for i in range(1, 5)}
    base = idda.evaluate(PROVISIONAL, values).total
    values[f"organ_{bump + 1}"] = organs[bump] + 1
    more = idda.evaluate(PROVISIONAL, values).total
    assert base is not None
    assert more is not None
    assert more > base
    assert math.isfinite(more)
    values[f"organ_{bump + 1}"] = None
    assert idda.evaluate(PROVISIONAL, values).total is None
