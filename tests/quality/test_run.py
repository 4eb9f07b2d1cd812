"""The rules over a real database (SQLite and PostgreSQL), one centre or all, as of a date; the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from jakreg.cli import app
from jakreg.quality.run import UnknownCentreError, run
from jakreg.store import db
from jakreg.store.tables import LabResult
from jakreg.study import import_path
from tests.studydata import write_study
from tests.web.webdata import two_centre_study


@pytest.fixture
def study_url(db_url: str, tmp_path: Path) -> str:
    import_path(write_study(tmp_path / "study", two_centre_study()), db_url, actor="setup")
    with db.open_session(db_url) as session:
        # a value no import would accept, as if typed wrong before validation existed
        session.execute(update(LabResult).where(LabResult.value == 130).values(value=-130))
        session.commit()
    return db_url


def test_findings_are_located_and_stable(study_url: str) -> None:
    with db.open_session(study_url) as session:
        first = run(session)
        again = run(session)
    negative = [f for f in first.findings if f.rule == "lab_negative"]
    assert sorted((f.centre, f.patient_id, f.sheet, f.field, f.value) for f in negative) == [
        ("BCN", "BCN-01", "labs", "value", -130.0),
        ("MAD", "MAD-01", "labs", "value", -130.0),
    ]
    assert [f.id for f in first.findings] == [f.id for f in again.findings]
    assert first.by_centre_and_rule()[("BCN", "lab_negative")] == 1


def test_one_centre_and_as_of(study_url: str) -> None:
    with db.open_session(study_url) as session:
        bcn = run(session, centre="BCN")
        before = run(session, centre="BCN", as_of=dt.date(2021, 3, 31))
        with pytest.raises(UnknownCentreError, match="no centre 'XXX' in the database"):
            run(session, centre="XXX")
    assert {f.centre for f in bcn.findings} == {"BCN"}
    assert "lab_negative" in {f.rule for f in bcn.findings}
    # the negative ALT is dated 2021-04-01
    assert "lab_negative" not in {f.rule for f in before.findings}


def test_cli_formats(study_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["quality", "run", "--db", study_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {f["rule"] for f in data["findings"]} >= {"lab_negative"}
    result = runner.invoke(app, ["quality", "run", "--db", study_url, "--format", "csv",
                                 "--centre", "MAD"])  # fmt: skip
    lines = result.output.splitlines()
    assert lines[0].startswith("id,centre,patient_id,sheet,record_pk,field,value,rule")
    assert all(",MAD," in line for line in lines[1:])
    result = runner.invoke(app, ["quality", "run", "--db", study_url, "--centre", "XXX"])
    assert result.exit_code == 1
    assert "no centre 'XXX' in the database" in result.output
    result = runner.invoke(app, ["quality", "rules", "--format", "json"])
    assert "CDC 2000" in result.output


def test_required_columns_are_configurable(study_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["quality", "run", "--db", study_url, "--format", "json",
                                 "--required", "labs.lln", "--required", "courses.stop_date"])  # fmt: skip
    assert result.exit_code == 0, result.output
    blanks = {(f["sheet"], f["field"]) for f in json.loads(result.output)["findings"]
              if f["rule"] == "required_missing"}  # fmt: skip
    assert blanks == {("labs", "lln"), ("courses", "stop_date")}
    bad = runner.invoke(app, ["quality", "run", "--db", study_url, "--required", "labs.colour"])
    assert bad.exit_code == 1
    assert "required column 'labs.colour': labs has no column 'colour'" in bad.output
    bad = runner.invoke(app, ["quality", "run", "--db", study_url, "--required", "kitchen.sink"])
    assert "'kitchen' is not a patient sheet" in bad.output


@pytest.mark.parametrize(
    ("centres", "as_of"), [(None, None), (["BCN"], None), (None, dt.date(2021, 1, 1))]
)
def test_batches_and_usual_units_from_the_database_are_the_whole_run(
    study_url: str, centres: list[str] | None, as_of: dt.date | None
) -> None:
    """Read a patient at a time (batch size 1), the records are those of one read of everyone,
    and the usual units counted by the database are checks.usual_units over those records."""
    from jakreg.quality.checks import usual_units
    from jakreg.quality.run import load, load_batches, usual_units_of

    with db.open_session(study_url) as session:
        whole = load(session, centres, as_of)
        one_by_one = [p for b in load_batches(session, centres, as_of, size=1) for p in b]
        assert [(p.patient_id, p.sheets) for p in one_by_one] == [
            (p.patient_id, p.sheets) for p in whole
        ]
        assert whole
        assert as_of is not None or any(p.rows("labs") for p in whole)
        assert usual_units_of(session, centres, as_of) == usual_units(whole)
