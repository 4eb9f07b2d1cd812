"""The synthetic study generator: valid, deterministic by seed, labelled synthetic, streaming."""

from __future__ import annotations

import datetime as dt
import hashlib
import tracemalloc
from pathlib import Path

import pytest

from jakreg.model.sheets import SHEETS
from jakreg.study import check_path, fingerprint
from jakreg.synth import (
    DEFAULT_CUTOFF,
    SYNTHETIC_LABEL,
    SynthError,
    patient_rows,
    plan_study,
    write_synthetic,
)
from jakreg.synth.catalogue import PHENOTYPES, VARIANTS


def _check(path: Path) -> None:
    checked = check_path(path, today=dt.date.today())
    assert checked.log.n_errors == 0, [str(p) for p in checked.log.kept[:10]]
    assert checked.log.n_warnings == 0, [str(p) for p in checked.log.kept[:10]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_csv_study_validates_with_no_problem(tmp_path: Path, seed: int) -> None:
    summary = write_synthetic(tmp_path / "study", patients=60, centres=6, seed=seed, fmt="csv")
    _check(tmp_path / "study")
    assert summary.rows["patients"] == 60
    assert summary.rows["centres"] == 6
    for sheet in ("courses", "doses", "labs", "assessments", "adverse_events", "responses"):
        assert summary.rows[sheet] > 0, sheet


def test_xlsx_study_validates_and_holds_the_same_rows_as_csv(tmp_path: Path) -> None:
    csv_summary = write_synthetic(tmp_path / "study", patients=25, centres=3, seed=7, fmt="csv")
    xlsx_summary = write_synthetic(tmp_path / "s.xlsx", patients=25, centres=3, seed=7, fmt="xlsx")
    _check(tmp_path / "s.xlsx")
    assert xlsx_summary.rows == csv_summary.rows
    from_csv = check_path(tmp_path / "study", today=dt.date.today()).rows
    from_xlsx = check_path(tmp_path / "s.xlsx", today=dt.date.today()).rows
    for spec in SHEETS:
        assert [v.row for v in from_csv.rows(spec.name)] == [
            v.row for v in from_xlsx.rows(spec.name)
        ], spec.name


def test_same_seed_same_bytes_other_seed_other_study(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_synthetic(tmp_path / name, patients=30, centres=4, seed=seed)
    assert fingerprint(tmp_path / "a") == fingerprint(tmp_path / "b")
    assert fingerprint(tmp_path / "a") != fingerprint(tmp_path / "c")


def test_a_patient_does_not_depend_on_how_many_are_made() -> None:
    plan = plan_study(centres=5, seed=11)
    assert patient_rows(plan, 17) == patient_rows(plan_study(centres=5, seed=11), 17)
    assert patient_rows(plan, 17) != patient_rows(plan, 18)


def test_every_file_says_it_is_synthetic(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "study", patients=3, centres=2, seed=1)
    assert SYNTHETIC_LABEL in (tmp_path / "study" / "README.md").read_text()
    centres = (tmp_path / "study" / "centres.csv").read_text()
    assert centres.count("(synthetic data)") == 2
    write_synthetic(tmp_path / "s.xlsx", patients=3, centres=2, seed=1, fmt="xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "s.xlsx", read_only=True)
    assert wb.sheetnames[0] == "README"
    assert SYNTHETIC_LABEL in str(next(wb["README"].iter_rows(values_only=True))[0])


def test_dates_are_past_and_inside_each_life(tmp_path: Path) -> None:
    plan = plan_study(centres=3, seed=4)
    assert dt.date.today() >= DEFAULT_CUTOFF
    for i in range(200):
        rows = patient_rows(plan, i)
        patient = rows["patients"][0]
        birth = dt.date.fromisoformat(patient["birth_year_month"] + "-01")
        for sheet_rows in rows.values():
            for row in sheet_rows:
                for value in row.values():
                    if isinstance(value, dt.date):
                        assert birth <= value <= patient["last_follow_up"] <= DEFAULT_CUTOFF


def test_variants_and_phenotypes_come_from_the_checked_lists() -> None:
    from jakreg.ingest.vocabularies import hpo_term

    for p in PHENOTYPES:
        term = hpo_term(p.hpo_id)
        assert term is not None
        assert term.label == p.label
    plan = plan_study(centres=2, seed=9)
    pairs = {(v.hgvs_c, v.hgvs_p) for v in VARIANTS}
    seen = {
        (r["hgvs_c"], r["hgvs_p"]) for i in range(300) for r in patient_rows(plan, i)["variants"]
    }
    assert seen == pairs  # every variant is used, and only those


def test_disjoint_ranges_hold_different_patients_at_the_same_centres(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a", patients=5, centres=2, seed=1)
    write_synthetic(tmp_path / "b", patients=5, centres=2, seed=1, first=5)
    a = (tmp_path / "a" / "patients.csv").read_text().splitlines()[1:]
    b = (tmp_path / "b" / "patients.csv").read_text().splitlines()[1:]
    assert not {r.split(",")[0] for r in a} & {r.split(",")[0] for r in b}
    assert (tmp_path / "a" / "centres.csv").read_bytes() == (
        tmp_path / "b" / "centres.csv"
    ).read_bytes()


def test_memory_stays_flat_in_the_number_of_patients(tmp_path: Path) -> None:
    peaks = []
    for n in (60, 600):
        tracemalloc.start()
        write_synthetic(tmp_path / f"n{n}", patients=n, centres=5, seed=1)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Ten times the patients, about the same peak (one patient's rows and the open files).
    assert peaks[1] < 1.5 * peaks[0] + 256 * 1024, peaks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patients": 0}, "--patients must be at least 1"),
        ({"centres": 0}, "--centres must be between 1 and 999"),
        ({"fmt": "ods"}, "unknown format 'ods'; use csv (a folder) or xlsx (one workbook)"),
        ({"cutoff": dt.date.today() + dt.timedelta(days=1)}, "is in the future"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"patients": 2, "centres": 1, "seed": 1, **kwargs}
    with pytest.raises(SynthError, match=message.replace("(", r"\(").replace(")", r"\)")):
        write_synthetic(tmp_path / "out", **args)  # type: ignore[arg-type]


def test_an_existing_study_is_never_overwritten(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "study", patients=2, centres=1, seed=1)
    before = hashlib.sha256((tmp_path / "study" / "patients.csv").read_bytes()).hexdigest()
    with pytest.raises(SynthError, match="already exists; give a new path"):
        write_synthetic(tmp_path / "study", patients=3, centres=1, seed=2)
    after = hashlib.sha256((tmp_path / "study" / "patients.csv").read_bytes()).hexdigest()
    assert before == after
    with pytest.raises(SynthError, match=r"should end in \.xlsx"):
        write_synthetic(tmp_path / "book.xls", patients=3, centres=1, seed=2, fmt="xlsx")


def test_a_sheet_too_long_for_xlsx_is_refused_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jakreg.export.workbook as workbook

    monkeypatch.setattr(workbook, "XLSX_MAX_ROWS", 20)  # a real sheet holds 1,048,576 rows
    with pytest.raises(SynthError, match=r"the labs sheet has 20 rows, more than an xlsx"):
        write_synthetic(tmp_path / "book.xlsx", patients=3, centres=1, seed=1, fmt="xlsx")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(workbook.WorkbookTooLargeError, match="write CSV instead"):
        workbook.check_xlsx_rows("labs", 20)
    workbook.check_xlsx_rows("labs", 19)
    book = workbook.Workbook(sheets={"labs": (["value"], [[1]] * 20)}, readme=["x"])
    with pytest.raises(workbook.WorkbookTooLargeError):
        workbook.write_xlsx(book, tmp_path / "export.xlsx")
    assert not (tmp_path / "export.xlsx").exists()
