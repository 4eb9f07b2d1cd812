"""Importing: all or nothing, idempotent, every change audited, derived values, pseudonym stability."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from jakreg.ingest.problems import ValidationFailed
from jakreg.store.audit_rows import RowChange, row_changes
from jakreg.store.db import open_session
from jakreg.store.tables import AuditEvent, Dose, ImportBatch, LabResult, Patient, TreatmentCourse
from jakreg.study import audited_changes, check_path, import_path, verify_audit
from tests.studydata import BASE, TODAY, edited, with_rows, write_study


def _count(url: str, table: type) -> int:
    with open_session(url) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _changes(s: Session, **where: str) -> list[RowChange]:
    """Every row change, oldest first (per-row events and the rows of batch events alike)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(AuditEvent, k) == v)
    return row_changes(s, stmt)


def test_import_creates_rows_and_one_audited_change_each(db_url: str, tmp_path: Path) -> None:
    summary = import_path(write_study(tmp_path / "s"), db_url, actor="alice", today=TODAY)
    n_rows = sum(len(v) for v in BASE.values())
    assert summary.total("created") == n_rows
    assert summary.audited_changes == n_rows
    with open_session(db_url) as s:
        events = _changes(s)
        assert len(events) == n_rows
        assert summary.audit_events == _count(db_url, AuditEvent) < n_rows  # one per sheet
    assert {e.actor for e in events} == {"alice"}
    assert {e.action for e in events} == {"create"}
    course = next(e for e in events if e.entity == "courses")
    assert course.patient_id == "BCN-01"
    assert course.centre == "BCN"
    assert course.before is None
    assert json.loads(course.after or "{}")["start_date"] == "2021-03-01"
    assert all(e.at.tzinfo is not None or s.get_bind().dialect.name == "sqlite" for e in events)


def test_reimport_changes_nothing_and_says_so(db_url: str, tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s")
    import_path(folder, db_url, actor="alice", today=TODAY)
    before = (_count(db_url, AuditEvent), _count(db_url, ImportBatch))
    again = import_path(folder, db_url, actor="bob", today=TODAY)
    assert not again.changed
    assert again.total("unchanged") == sum(len(v) for v in BASE.values())
    assert (_count(db_url, AuditEvent), _count(db_url, ImportBatch)) == before


def test_changed_value_is_updated_and_audited(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    changed = edited("courses", 0, stop_date="2022-01-01", stop_reason="remission")
    summary = import_path(write_study(tmp_path / "b", changed), db_url, actor="bob", today=TODAY)
    assert summary.total("updated") == 1
    assert summary.total("created") == 0
    with open_session(db_url) as s:
        course = s.scalars(select(TreatmentCourse)).one()
        assert course.stop_reason == "remission"
        assert course.version == 2
        (event,) = _changes(s, actor="bob")
    assert event.action == "update"
    assert json.loads(event.before or "{}")["stop_date"] is None
    assert json.loads(event.after or "{}")["stop_date"] == "2022-01-01"


def _sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_failing_import_leaves_database_byte_for_byte_unchanged(
    sqlite_url: str, tmp_path: Path
) -> None:
    import_path(write_study(tmp_path / "a"), sqlite_url, actor="alice", today=TODAY)
    db_file = _sqlite_file(sqlite_url)
    digest = hashlib.sha256(db_file.read_bytes()).hexdigest()
    # many good new rows and a single bad one at the very end
    good = [
        {
            "patient_id": "BCN-01",
            "date": f"2022-01-{d:02d}",
            "analyte": "alt",
            "value": 20,
            "unit": "U/L",
            "uln": 40,
        }
        for d in range(1, 29)
    ]
    bad = {"patient_id": "BCN-01", "date": "2022-02-01", "analyte": "alt", "value": 20,
           "unit": "furlongs"}  # fmt: skip
    with pytest.raises(ValidationFailed) as failed:
        import_path(
            write_study(tmp_path / "b", with_rows("labs", *good, bad)),
            sqlite_url,
            actor="mallory",
            today=TODAY,
        )
    assert failed.value.log.n_errors == 1
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == digest


def test_failing_import_writes_nothing(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        import_path(
            write_study(tmp_path / "b", edited("patients", 0, sex="F")),
            db_url,
            actor="x",
            today=TODAY,
        )
    assert _count(db_url, Patient) == 0
    assert _count(db_url, AuditEvent) == 0


def test_import_resolves_references_against_the_database(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    later = {
        "labs": [
            {
                "patient_id": "BCN-01",
                "date": "2021-06-01",
                "analyte": "neutrophils",
                "value": 900,
                "unit": "/mm3",
                "lln": 1500,
                "uln": 8000,
            }
        ],
        "responses": [
            {"patient_id": "BCN-01", "course_no": 1, "date": "2021-12-01", "response": "CR"}
        ],
    }
    summary = import_path(write_study(tmp_path / "b", later), db_url, actor="bob", today=TODAY)
    assert summary.total("created") == 2
    with open_session(db_url) as s:
        lab = s.scalars(select(LabResult).where(LabResult.analyte == "neutrophils")).one()
    assert lab.canonical_value == pytest.approx(0.9)
    assert lab.canonical_unit == "10^9/L"
    assert lab.ctcae_grade == 3  # < 1.0 and >= 0.5 x 10^9/L
    assert lab.ctcae_version == "5.0"


def test_derived_grades_and_doses(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    with open_session(db_url) as s:
        alt = {lab.value: lab for lab in s.scalars(select(LabResult))}
        dose = s.scalars(select(Dose)).one()
    assert alt[30].ctcae_grade == 0
    assert alt[130].ctcae_grade == 2  # 3.25 x ULN
    assert dose.mg_per_kg_day == pytest.approx(10 / 30)
    assert dose.mg_per_m2_day == pytest.approx(10 / ((135 * 30 / 3600) ** 0.5))
    assert dose.dose_rule is not None


def test_pseudonym_stays_with_its_centre_and_local_id(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    renamed = edited("patients", 0, patient_id="BCN-99")
    for sheet in (
        "variants",
        "manifestations",
        "courses",
        "doses",
        "assessments",
        "labs",
        "responses",
    ):
        for row in renamed[sheet]:
            row["patient_id"] = "BCN-99"
    with pytest.raises(ValidationFailed) as failed:
        import_path(write_study(tmp_path / "b", renamed), db_url, actor="bob", today=TODAY)
    assert [str(p) for p in failed.value.log.kept] == [
        "patients.csv, sheet patients, row 2, column local_id: this local id is already registered "
        "at BCN as BCN-01 (value 'H-7'). Fix: use patient_id BCN-01 for this patient (pseudonyms "
        "never change)"
    ]
    moved = with_rows("centres", {"centre": "MAD", "name": "Test centre Madrid", "country": "ES"})
    moved["patients"][0]["centre"] = "MAD"
    with pytest.raises(ValidationFailed) as failed:
        import_path(write_study(tmp_path / "c", moved), db_url, actor="bob", today=TODAY)
    assert "patient BCN-01 belongs to centre BCN" in [p.message for p in failed.value.log.kept]


def test_audit_chain_verifies_and_catches_tampering(sqlite_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), sqlite_url, actor="alice", today=TODAY)
    n, broken = verify_audit(sqlite_url)
    assert audited_changes(sqlite_url) == sum(len(v) for v in BASE.values())
    assert n == _count(sqlite_url, AuditEvent)
    assert broken is None
    with open_session(sqlite_url) as s:
        s.execute(text("UPDATE audit_event SET actor = 'eve' WHERE id = 3"))
        s.commit()
    _, broken = verify_audit(sqlite_url)
    assert broken is not None
    assert broken.event_id == 3
    assert "does not match its hash" in broken.reason


def test_audit_chain_catches_a_deleted_event(sqlite_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), sqlite_url, actor="alice", today=TODAY)
    with open_session(sqlite_url) as s:
        s.execute(text("DELETE FROM audit_event WHERE id = 4"))
        s.commit()
    _, broken = verify_audit(sqlite_url)
    assert broken is not None
    assert broken.event_id == 5
    assert "link to the previous event is broken" in broken.reason


def test_validation_can_check_against_the_database(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    later = write_study(
        tmp_path / "b",
        {
            "hsct": [
                {"patient_id": "BCN-01", "date": "2022-03-01"},
                {"patient_id": "NOPE", "date": "2022-03-01"},
            ]
        },
    )
    with open_session(db_url) as s:
        checked = check_path(later, s, today=TODAY)
    assert [p.row for p in checked.log.kept] == [3]


def test_locked_patient_is_not_changed_by_an_import(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    with open_session(db_url) as s:
        s.execute(text("UPDATE patient SET locked_by = 'admin' WHERE patient_id = 'BCN-01'"))
        s.commit()
    changed = edited("courses", 0, stop_date="2022-01-01", stop_reason="remission")
    with pytest.raises(ValidationFailed) as failed:
        import_path(write_study(tmp_path / "b", changed), db_url, actor="bob", today=TODAY)
    assert str(failed.value.log.kept[0]) == (
        "patients.csv, sheet patients, row 2, column patient_id: patient BCN-01 is locked by "
        "admin; its records are read-only (value 'BCN-01'). Fix: ask an admin to unlock the "
        "patient in the server, then import again"
    )


def test_an_import_limited_to_a_centre_does_not_tell_of_other_centres(
    db_url: str, tmp_path: Path
) -> None:
    """`jakreg import --centre MAD`: BCN's patients are, to the checks, not there (issue 16 item 6)."""
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    mad = {"centre": "MAD", "name": "Test centre Madrid", "country": "ES"}
    import_path(write_study(tmp_path / "m", {"centres": [mad]}), db_url, actor="alice")
    patient = dict(BASE["patients"][0], centre="MAD", local_id="M-1")  # BCN-01's pseudonym
    with pytest.raises(ValidationFailed) as failed:
        import_path(write_study(tmp_path / "p", {"centres": [mad], "patients": [patient]}),
                    db_url, actor="m", centre="MAD")  # fmt: skip
    assert [str(p) for p in failed.value.log.kept] == [
        "patients.csv, sheet patients, row 2, column patient_id: this patient_id cannot be used "
        "for a new patient of centre MAD (value 'BCN-01'). Fix: leave patient_id blank and the "
        "server allocates the next one of the centre's series (MAD-0001, MAD-0002, ...), or use a "
        "pseudonym of that series"
    ]
    # a row naming BCN's patient is told exactly what a row naming a patient nobody holds is told
    told = []
    for pid in ("BCN-01", "NOBODY-1"):
        lab = dict(BASE["labs"][0], patient_id=pid)
        with pytest.raises(ValidationFailed) as failed:
            import_path(write_study(tmp_path / pid, {"labs": [lab]}), db_url, actor="m",
                        centre="MAD")  # fmt: skip
        told.append([str(p).replace(pid, "<ID>") for p in failed.value.log.kept])
    assert told[0] == told[1]
    assert "refers to patients <ID>, which is neither in the file nor in the database" in told[0][0]
