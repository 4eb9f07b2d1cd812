"""Data against trail: a row changed, deleted or added with SQL behind jakreg leaves the hash chain intact,
and the replay of the trail's after-images names it (table, row id, patient, column, both values)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from jakreg.store.audit_replay import DIFFERS, MISSING, UNTRACKED, RowDifference
from jakreg.store.db import open_session
from jakreg.store.tables import LabResult, Patient
from jakreg.study import import_path, replay_audit, verify_audit
from tests.studydata import TODAY, edited, write_study


def _lab(url: str) -> tuple[int, float]:
    with open_session(url) as s:
        lab = s.scalars(select(LabResult).order_by(LabResult.id)).first()
        assert lab is not None
        assert lab.value is not None
        return lab.id, lab.value


def test_an_imported_and_updated_study_replays_clean(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    changed = edited("patients", 0, sex="male", last_follow_up="2024-02-01")
    import_path(write_study(tmp_path / "b", changed), db_url, actor="bob", today=TODAY)
    result = replay_audit(db_url)
    assert result.differences == []
    assert result.rows == result.records > 0


def test_a_row_changed_with_sql_is_named(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    pk, value = _lab(db_url)
    with open_session(db_url) as s:
        s.execute(text("UPDATE lab_result SET value = value + 1 WHERE id = :pk"), {"pk": pk})
        s.execute(text("UPDATE patient SET sex = 'male'"))
        s.commit()
    assert verify_audit(db_url)[1] is None  # the chain cannot see it
    result = replay_audit(db_url)
    with open_session(db_url) as s:
        patient_pk = s.scalar(select(Patient.id))
    assert result.differences == [
        RowDifference(DIFFERS, "patients", patient_pk, "BCN-01", "sex", "female", "male"),  # type: ignore[arg-type]
        RowDifference(DIFFERS, "labs", pk, "BCN-01", "value", value, value + 1),
    ]
    assert str(result.differences[1]) == (
        f"labs row {pk} (patient BCN-01), column value: the trail says {value!r}, "
        f"the database holds {value + 1!r}"
    )


def test_a_row_deleted_or_added_with_sql_is_named(db_url: str, tmp_path: Path) -> None:
    import_path(write_study(tmp_path / "a"), db_url, actor="alice", today=TODAY)
    pk, _ = _lab(db_url)
    with open_session(db_url) as s:
        s.execute(text("DELETE FROM lab_result WHERE id = :pk"), {"pk": pk})
        s.execute(
            text(
                "INSERT INTO lab_result (id, patient_pk, date, analyte, value, unit, version) "
                "SELECT 9999, id, '2022-02-02', 'alt', 1, 'U/L', 1 FROM patient"
            )
        )
        s.commit()
    assert verify_audit(db_url)[1] is None
    result = replay_audit(db_url)
    assert result.differences == [
        RowDifference(MISSING, "labs", pk, "BCN-01"),
        RowDifference(UNTRACKED, "labs", 9999, "BCN-01"),
    ]
