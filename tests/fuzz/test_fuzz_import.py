"""Fuzz the importer with generated study workbooks and CSV folders (the dedicated run: `make fuzz`).

Each example is a small study: random sheets (real names, near misses, junk), headers (the real columns
shuffled, dropped, repeated, or junk) and cells (plausible values taken from the bundled example, junk types,
huge strings, unicode, control characters, blanks), written as a CSV folder, an xlsx workbook or raw bytes.
For every one: `check_path` never raises, and `import_path` on a fresh database either succeeds or raises
jakreg's own error and leaves the database byte for byte as it was. Fixed seed (derandomize); the number of
examples is JAKREG_FUZZ_EXAMPLES (default 10,000 in all: 7,000 CSV folders, 3,000 workbooks).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jakreg.errors import JakregError
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME
from jakreg.study import check_path, example_path, import_path, init_database
from tests.scale.helpers import dump

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("JAKREG_FUZZ_EXAMPLES", "10000"))
TODAY = dt.date(2026, 1, 1)  # fixed: the same inputs are judged the same way on any day


def _example_values() -> dict[str, dict[str, list[str]]]:
    """Every non-blank value of the bundled example, by sheet and column: cells that can pass."""
    pools: dict[str, dict[str, list[str]]] = {}
    for spec in SHEETS:
        path = example_path() / f"{spec.name}.csv"
        columns: dict[str, list[str]] = {c: [] for c in spec.columns}
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    for c, v in row.items():
                        if c in columns and v:
                            columns[c].append(v)
        pools[spec.name] = {c: sorted(set(v))[:30] or ["x"] for c, v in columns.items()}
    return pools


POOLS = _example_values()


def _example_rows() -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    for spec in SHEETS:
        path = example_path() / f"{spec.name}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            rows[spec.name] = list(csv.DictReader(fh))
    return rows


EXAMPLE = _example_rows()
EXAMPLE_PATIENTS = sorted(r["patient_id"] for r in EXAMPLE["patients"])
SHEET_NAMES = [s.name for s in SHEETS]

junk_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "NULL",
            "n/a",
            "-",
            "=SUM(A1:A2)",
            "=1+1",
            "2021-02-30",
            "2021-13-01",
            "01/02/2021",
            "1e309",
            "nan",
            "inf",
            "-0",
            "0x1F",
            "TRUE",
            "ÄÖÜ ñ 患者 😀",
            "\u202e\u200b",
            "a\r\nb",
            "\t",
            "HP:0000000",
            "HP:0002728",
            "c.821G>A",
            "p.Arg274Gln",
            "p.(Arg274Gln)",
            "c.",
            "S01",
            "SYN-A",
            "john.doe@example.org",
            "123456789",
            "9" * 400,
            "x" * 5000,
        ]
    ),
)
junk_value = st.one_of(
    junk_text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


@st.composite
def sheet_name(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.sampled_from(SHEET_NAMES),
            st.sampled_from(SHEET_NAMES).map(str.upper),
            st.sampled_from(["readme", "data_dictionary", "derived_labs", "patient", "Sheet1"]),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
        )
    )


@st.composite
def header(draw: st.DrawFn, sheet: str) -> list[Any]:
    spec = SHEETS_BY_NAME.get(sheet.lower())
    if spec is None or draw(st.integers(0, 9)) == 0:
        return draw(st.lists(junk_value, min_size=0, max_size=6))
    columns: list[Any] = list(spec.columns)
    how = draw(st.integers(0, 5))
    if how == 1:
        columns = draw(st.permutations(columns))
    elif how == 2 and columns:
        columns.pop(draw(st.integers(0, len(columns) - 1)))
    elif how == 3:
        columns.append(draw(st.sampled_from([*columns, "comment", "Patient ID", ""])))
    elif how == 4:
        columns = [c.upper().replace("_", " ") for c in columns]
    return columns


@st.composite
def cell(draw: st.DrawFn, sheet: str, column: Any) -> Any:
    pool = POOLS.get(sheet.lower(), {}).get(str(column).strip().lower().replace(" ", "_"))
    if pool and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(pool))
    return draw(junk_value)


@st.composite
def study(draw: st.DrawFn) -> dict[str, tuple[list[Any], list[list[Any]]]]:
    """Sheets, each with a header and a few rows (kept small: 10,000 of them must run in minutes)."""
    names = draw(st.lists(sheet_name(), min_size=0, max_size=5, unique_by=str.lower))
    if draw(st.booleans()):  # often start from the sheets a real study has, for deeper coverage
        names = ["centres", "patients", *[n for n in names if n not in {"centres", "patients"}]]
    sheets: dict[str, tuple[list[Any], list[list[Any]]]] = {}
    for name in names:
        head = draw(header(name))
        n_rows = draw(st.integers(0, 4))
        rows = [
            [draw(cell(name, c)) for c in head] + draw(st.lists(junk_value, max_size=1))
            for _ in range(n_rows)
        ]
        sheets[name] = (head, rows)
    return sheets


@st.composite
def mutated_example(draw: st.DrawFn) -> dict[str, tuple[list[Any], list[list[Any]]]]:
    """One or two patients of the bundled (valid) example with a few cells, rows or headers broken:
    inputs that get past the header checks into the cross-row checks and the database writes."""
    keep = set(draw(st.lists(st.sampled_from(EXAMPLE_PATIENTS), min_size=1, max_size=2)))
    sheets: dict[str, tuple[list[Any], list[list[Any]]]] = {}
    for spec in SHEETS:
        rows = [
            [r.get(c, "") for c in spec.columns]
            for r in EXAMPLE[spec.name]
            if spec.name == "centres" or r.get("patient_id") in keep
        ]
        sheets[spec.name] = (list(spec.columns), rows)
    for _ in range(draw(st.integers(0, 3))):
        if not sheets:
            break
        name = draw(st.sampled_from(sorted(sheets)))
        head, rows = sheets[name]
        what = draw(st.integers(0, 4))
        if what <= 1 and rows and head:  # a cell: junk, or a value from elsewhere in the example
            row = draw(st.sampled_from(rows))
            col = draw(st.integers(0, min(len(head), len(row)) - 1))
            row[col] = draw(junk_value) if what == 0 else draw(cell(name, head[col]))
        elif what == 2 and rows:  # a row twice, or a row gone
            i = draw(st.integers(0, len(rows) - 1))
            if draw(st.booleans()):
                rows.append(list(rows[i]))
            else:
                rows.pop(i)
        elif what == 3:
            sheets[name] = (draw(header(name)), rows)
        else:
            del sheets[name]
    return sheets


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def write_csv_folder(
    folder: Path, sheets: dict[str, tuple[list[Any], list[list[Any]]]], style: int
) -> None:
    folder.mkdir()
    delimiter = ";" if style == 1 else ","
    for name, (head, rows) in sheets.items():
        safe = "".join(ch for ch in name if ch.isalnum() or ch in "_-") or "sheet"
        path = folder / f"{safe}.csv"
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow([_text(h) for h in head])
            writer.writerows([_text(v) for v in row] for row in rows)
        if style == 2:  # a damaged file: latin-1 bytes, a NUL, or a cut-off quote
            path.write_bytes(path.read_bytes() + b'\xe9\xff "unterminated')
        elif style == 3 and rows:
            path.write_bytes(b"\x00" + path.read_bytes())


def write_xlsx(path: Path, sheets: dict[str, tuple[list[Any], list[list[Any]]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(v: Any) -> Any:
        # Characters xlsx cannot hold at all (a spreadsheet program could not have written them).
        return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

    wb = Workbook()
    wb.remove(wb.active)
    for i, (name, (head, rows)) in enumerate(sheets.items()):
        title = "".join(ch for ch in clean(name) if ch not in "[]:*?/\\").strip("'")[:31] or f"S{i}"
        if title.lower() in {t.lower() for t in wb.sheetnames}:
            continue
        ws = wb.create_sheet(title)
        for row in [head, *rows]:
            values = []
            for v in row:
                if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
                    v = str(v)
                values.append(clean(v))
            try:
                ws.append(values)
            except (ValueError, TypeError):  # a value openpyxl cannot type: write its text
                ws.append([clean(_text(v)) for v in values])
    if not wb.sheetnames:
        wb.create_sheet("empty")
    wb.save(path)


@pytest.fixture(scope="module")
def empty_db() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "empty.db"
        init_database(f"sqlite:///{db}")
        yield db


def _assert_safe(path: Path, empty_db: Path, work: Path) -> None:
    checked = check_path(path, today=TODAY)  # must never raise
    assert checked.log.n_errors >= 0
    db = work / "fresh.db"
    shutil.copyfile(empty_db, db)
    before = db.read_bytes()
    failure: JakregError | None = None
    try:
        import_path(path, f"sqlite:///{db}", actor="fuzz", today=TODAY)
    except JakregError as exc:  # jakreg's own, named error: a message, never a traceback
        failure = exc
    event("imported" if failure is None else f"refused: {type(failure).__name__}")
    if failure is not None:
        assert db.read_bytes() == before or dump(db) == dump(empty_db), "a failed import wrote"
        # What validation passed, the database must take: no constraint left to the database.
        assert not checked.log.ok, f"validated cleanly, then the import failed: {failure}"
    else:
        assert checked.log.ok


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@fuzz_settings(EXAMPLES * 7 // 10)
@given(sheets=st.one_of(study(), study(), mutated_example()), style=st.integers(0, 6))
def test_csv_folders_never_crash_and_never_half_write(
    empty_db: Path, sheets: dict[str, tuple[list[Any], list[list[Any]]]], style: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "study"
        write_csv_folder(folder, sheets, style)
        _assert_safe(folder, empty_db, Path(tmp))


@fuzz_settings(EXAMPLES - EXAMPLES * 7 // 10)
@given(
    sheets=st.one_of(study(), study(), mutated_example()),
    raw=st.one_of(st.none(), st.none(), st.binary(max_size=2000)),
)
def test_workbooks_never_crash_and_never_half_write(
    empty_db: Path, sheets: dict[str, tuple[list[Any], list[list[Any]]]], raw: bytes | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.xlsx"
        if raw is None:
            write_xlsx(path, sheets)
        else:  # bytes that claim to be a workbook: random, or a real workbook cut short
            write_xlsx(path, sheets)
            data = path.read_bytes()
            path.write_bytes(raw if len(raw) % 2 else data[: len(raw)])
        _assert_safe(path, empty_db, Path(tmp))
