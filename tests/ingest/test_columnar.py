"""The column checks (jakreg.ingest.columnar) accept a row only as the row model would, with its very values."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jakreg.ingest.columnar import BLANK, ColumnPlan, decide_batch, plan_for
from jakreg.ingest.problems import ProblemLog
from jakreg.ingest.read import RawSheet, read_workbook
from jakreg.ingest.validate import PreparedSheet, _RowValidator, prepare_sheets
from jakreg.model.rows import Row
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME, SheetSpec
from jakreg.synth.write import write_synthetic

TODAY = dt.date(2025, 6, 1)

# one valid row per sheet, as text cells
VALID: dict[str, dict[str, str]] = {
    "centres": {"centre": "BCN", "name": "Barcelona", "country": "ES", "data_cutoff": "2025-01-31"},
    "patients": {"patient_id": "BCN-01", "centre": "BCN", "sex": "female",
                 "birth_year_month": "2012-05", "last_follow_up": "2023-01-10"},
    "variants": {"patient_id": "BCN-01", "transcript": "NM_007315.4", "hgvs_c": "c.821G>A",
                 "hgvs_p": "p.Arg274Gln", "domain": "dna_binding"},
    "manifestations": {"patient_id": "BCN-01", "hpo_id": "HP:0002728", "onset_age_years": "1.5",
                       "status_at_start": "active"},
    "courses": {"patient_id": "BCN-01", "course_no": "1", "drug": "ruxolitinib",
                "start_date": "2021-03-01", "stop_date": "2022-01-01", "stop_reason": "other",
                "stop_detail": "moved abroad", "azole_comedication": "no"},
    "doses": {"patient_id": "BCN-01", "course_no": "1", "date": "2021-03-01", "mg_per_dose": "5",
              "doses_per_day": "2", "weight_kg": "30.5", "height_cm": "135"},
    "body_measurements": {"patient_id": "BCN-01", "date": "2021-03-01", "weight_kg": "30"},
    "assessments": {"patient_id": "BCN-01", "date": "2021-02-15", "total": "14.5"},
    "assessment_items": {"patient_id": "BCN-01", "date": "2021-02-15", "item": "cmc", "value": "2"},
    "labs": {"patient_id": "BCN-01", "date": "2021-02-20", "analyte": "alt", "value": "30",
             "unit": "µkat/L", "lln": "0", "uln": "40", "clinician_grade": "2"},
    "biomarkers": {"patient_id": "BCN-01", "date": "2021-02-20", "marker": "other",
                   "marker_detail": "IL-6", "value": "-1.25", "unit": "pg/mL"},
    "adverse_events": {"patient_id": "BCN-01", "course_no": "1", "term": "Lung infection",
                       "category": "infection", "onset_date": "2021-05-01", "grade": "3",
                       "attribution": "possible"},
    "responses": {"patient_id": "BCN-01", "course_no": "1", "date": "2021-09-01",
                  "manifestation": "HP:0002728", "response": "PR"},
    "hsct": {"patient_id": "BCN-01", "date": "2022-06-09", "indication": "refractory disease"},
}  # fmt: skip

EDGE = [
    "", " ", "\t", "\u00a0", "1", "01", "1.0", "+1", "-1", "1_0", "0", "-0", "-0.0", "1e2", ".5",
    "5.", "inf", "nan", "NaN", "9" * 12, "0.1", "1000", "1000.0001", "250", "250.0", "20", "6",
    "2021-02-30", "2021-02-28", "2020-02-29", "2019-02-29", "0000-01-01", "0001-01-01",
    "9999-12-31", "2021-1-5", "2021-03-01T00:00", "2021-03-01 00:00:00", "01/03/2021", "44000",
    "2025-06-01", "2025-06-02", "2011-01", "2011-1", "2011/01", "1899-12", "1900-01", "2011-13",
    "yes", "YES", " Yes ", "no", "unknown", "Unknown", "UN\u212aNOWN", "CR", "cr", "Pr", "female",
    "FEMALE", "other", "=1+1", "=", "'=x", "HP:0002728", "HP:\u0660\u0660\u0660\u0662\u0667\u0662\u0668",
    "HP:000272", "BCN-01", "bcn 01", "\u00a0BCN-01\u2003", "\x1cBCN-01", "BCN\x00", "BCN-\u00e9",
    "ES", "es", "E S", "NM_007315.4", "PMID:123", "DOI:10.1000/x", "call 1234567", "a@b.co",
    "on 01.02.2020", "\u00fcber", "x" * 201, "y" * 501, "\u200bBCN", "BCN\u200b", "\x85", "\u3000",
    "-", ".", "-.", "-.5", "1-2", "--1", "1.", "1..2", "0" * 31, "1" * 32, "9" * 10, "123456789",
]  # fmt: skip
PADDING = st.sampled_from(["", " ", "\t", "\u00a0", "\u2003", "\u3000", "\x1c", "\u200b", "\n"])
TEXT = st.text(
    st.sampled_from([*"09-.:_/+e ABZaz", "\u00b5", "\u212a", "\u0660", "\u00a0", "\x1f"]),
    max_size=12,
)


def _numbers(column: ColumnPlan) -> st.SearchStrategy[str]:
    """Numbers at and around the column's limits, written as people write them."""
    limits = [limit for _kind, limit in column.bounds] or [0.0]
    near = st.builds(
        lambda limit, step, sign: limit + sign * step,
        st.sampled_from(limits),
        st.sampled_from([0, 1e-9, 0.001, 0.5, 1, 2]),
        st.sampled_from([-1, 1]),
    )
    number = st.one_of(near, st.floats(-10, 1200, allow_nan=False), st.integers(-5, 1200))
    return st.builds(
        lambda x, form: form.format(x),
        number,
        st.sampled_from(["{}", "{:g}", "{:.0f}", "{:.1f}", "{:.3f}", "{:.12f}", "{:e}", "{:+}"]),
    )


def _dates() -> st.SearchStrategy[str]:
    near_today = st.integers(-3, 3).map(lambda d: (TODAY + dt.timedelta(days=d)).isoformat())
    any_day = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat)
    parts = st.tuples(st.integers(0, 2030), st.integers(0, 13), st.integers(0, 32))
    made_up = parts.map(lambda p: f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}")
    return st.one_of(near_today, any_day, made_up)


def _kind_cells(column: ColumnPlan) -> st.SearchStrategy[str]:
    if column.kind in {"int", "float"}:
        return _numbers(column)
    if column.kind == "date":
        return _dates()
    if column.kind == "year_month":
        return st.tuples(st.integers(1890, 2030), st.integers(0, 13)).map(
            lambda p: f"{p[0]}-{p[1]:02d}" if p[1] % 2 else f"{p[0]}-{p[1]}"
        )
    if column.kind == "enum":
        return st.sampled_from([m.value for m in column.members.values()])
    n = column.max_length or 40
    return st.one_of(
        st.sampled_from(["a" * n, "a" * (n + 1), "\u00e9" * n, "\u00e9" * (n + 1)]),
        st.sampled_from([v for row in VALID.values() for v in row.values()]),
    )


@st.composite
def cell(draw: st.DrawFn, column: ColumnPlan) -> str:
    base = draw(st.one_of(_kind_cells(column), _kind_cells(column), st.sampled_from(EDGE), TEXT))
    if draw(st.integers(0, 3)) == 0:
        base = base.upper() if draw(st.booleans()) else base.capitalize()
    if draw(st.integers(0, 3)) == 0:
        base = draw(PADDING) + base + draw(PADDING)
    return base


TYPED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 1200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 1200).map(lambda f: round(f, 2)),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, 12.0, 99.0, 250.0, 250.5, 1e-7, 1e16]),
    st.dates(dt.date(1890, 1, 1), dt.date(2026, 12, 31)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2026, 12, 31)),
    st.dates(dt.date(2000, 1, 1), dt.date(2026, 1, 1)).map(
        lambda d: dt.datetime(d.year, d.month, d.day)
    ),
    st.just(dt.time(10, 30)),
)


@st.composite
def batch(draw: st.DrawFn) -> tuple[SheetSpec, list[tuple[int, list[Any]]]]:
    spec = draw(st.sampled_from(SHEETS))
    plan = plan_for(spec.row)
    assert plan is not None
    rows = []
    for number in range(2, 2 + draw(st.integers(1, 4))):
        values: dict[str, Any] = dict(VALID[spec.name])
        for column in draw(
            st.lists(st.sampled_from(plan.columns), max_size=3, unique_by=lambda c: c.name)
        ):
            typed = draw(st.integers(0, 4)) == 0  # a spreadsheet's typed cell
            values[column.name] = draw(TYPED) if typed else draw(cell(column))
        rows.append((number, [values.get(name, "") for name in spec.columns]))
    return spec, rows


def _prepared(spec: SheetSpec, header: list[str] | None = None) -> PreparedSheet:
    header = header or spec.columns
    raw = RawSheet("t.csv", spec.name, header, iter(()))
    return PreparedSheet(raw, spec, dict(enumerate(header)))


def _same(fast: Row, slow: Row) -> None:
    assert type(fast) is type(slow)
    assert list(fast.__dict__) == list(slow.__dict__)
    for name, value in slow.__dict__.items():
        got = fast.__dict__[name]
        assert type(got) is type(value), (name, got, value)
        assert got == value or (value != value and got != got), (name, got, value)
        if isinstance(value, float):
            assert math.copysign(1, got) == math.copysign(1, value), (name, got, value)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()


def _compare(sheet: PreparedSheet, rows: list[tuple[int, list[Any]]]) -> int:
    """Both paths over ``rows``; the number of rows the column checks accepted."""
    plan = plan_for(sheet.spec.row)
    assert plan is not None
    index_of = {name: index for index, name in sheet.columns.items()}
    decided = decide_batch(plan, index_of, rows, TODAY)
    log = ProblemLog()
    slow = _RowValidator(sheet, log, TODAY, set())
    accepted = 0
    for (number, cells), fast in zip(rows, decided, strict=True):
        before = len(log.kept)
        valid = slow.validate(number, cells)
        if fast is BLANK:
            assert valid is None
            assert len(log.kept) == before
        elif fast is not None:
            assert valid is not None, (cells, log.kept[before:])
            _same(fast, valid.row)
            accepted += 1
    return accepted


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch())
def test_the_column_checks_accept_only_what_the_row_model_accepts(
    case: tuple[SheetSpec, list[tuple[int, list[Any]]]],
) -> None:
    spec, rows = case
    accepted = _compare(_prepared(spec), rows)
    event(f"accepted {accepted} of {len(rows)}")


def test_every_sheet_has_a_column_plan() -> None:
    assert all(plan_for(spec.row) is not None for spec in SHEETS)


def test_valid_rows_take_the_column_path() -> None:
    for spec in SHEETS:
        row = VALID[spec.name]
        assert _compare(_prepared(spec), [(2, [row.get(c, "") for c in spec.columns])]) == 1


def test_columns_missing_reordered_short_rows_and_typed_cells() -> None:
    spec = SHEETS_BY_NAME["doses"]
    header = ["date", "patient_id", "course_no", "mg_per_dose", "doses_per_day"]
    rows: list[tuple[int, list[Any]]] = [
        (2, ["2021-03-01", "BCN-01", "1", "5", "2"]),
        (3, ["2021-03-01", "BCN-01", "1", "5"]),  # short: doses_per_day missing
        (4, [dt.date(2021, 3, 1), "BCN-01", 1, 5.0, 2.0]),  # typed cells, as from a spreadsheet
        (5, ["", " ", "", "", ""]),  # blank
        (6, ["2021-03-01", "BCN-01", "1", "5", "2", "extra"]),
    ]
    assert _compare(_prepared(spec, header), rows) == 3


def test_the_synthetic_study_takes_the_column_path(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "s", patients=40, centres=3, seed=3, cutoff=dt.date(2025, 5, 31))
    log = ProblemLog()
    for sheet in prepare_sheets(read_workbook(tmp_path / "s", log), log):
        rows = list(sheet.raw.rows)
        if rows:
            assert _compare(sheet, rows) == len(rows), sheet.spec.name
    assert log.ok


def test_typed_spreadsheet_cells_read_as_the_row_model_reads_them() -> None:
    spec = SHEETS_BY_NAME["labs"]
    base = VALID["labs"]
    typed: list[tuple[str, Any]] = [
        ("value", -0.0), ("value", 12.0), ("value", 0.1), ("value", 7), ("value", True),
        ("value", float("inf")), ("lln", 1e-7), ("clinician_grade", 2.0), ("clinician_grade", 2.5),
        ("clinician_grade", 3), ("clinician_grade", False), ("analyte", 12.0), ("unit", 2.5),
        ("date", dt.datetime(2021, 2, 20)), ("date", dt.datetime(2021, 2, 20, 10, 30)),
        ("date", dt.date(2021, 2, 20)), ("date", dt.date(2030, 1, 1)), ("date", 44000.0),
        ("patient_id", dt.date(2021, 1, 1)), ("unit", dt.time(1, 2)),
    ]  # fmt: skip
    rows = []
    for number, (column, cell) in enumerate(typed, start=2):
        row: dict[str, Any] = {**base, column: cell}
        rows.append((number, [row.get(c, "") for c in spec.columns]))
    assert _compare(_prepared(spec), rows) >= 8
