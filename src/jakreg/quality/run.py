"""Run the data quality rules over the database (all centres or one, as of a date)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.quality import catalogue
from jakreg.quality.checks import DATED, Finding, PatientRecords, check_patient, usual_units
from jakreg.store.tables import TABLE_FOR_SHEET, Centre, Patient

SHEETS = ("courses", "doses", "body_measurements", "labs", "responses", "assessments",
          "biomarkers", "adverse_events", "hsct")  # fmt: skip


class UnknownCentreError(JakregError):
    """The centre asked for is not in the database."""


class RequiredColumnError(JakregError):
    """A required column given as SHEET.COLUMN names no sheet or column of the study."""


def parse_required(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``["patients.sex", "doses.weight_kg"]`` -> ``{"patients": ("sex",), "doses": ("weight_kg",)}``."""
    from jakreg.model.sheets import SHEETS_BY_NAME

    out: dict[str, list[str]] = {}
    for item in items:
        sheet, _, column = item.partition(".")
        spec = SHEETS_BY_NAME.get(sheet)
        if spec is None or sheet == "centres" or sheet not in ("patients", *SHEETS):
            raise RequiredColumnError(
                f"required column {item!r}: {sheet!r} is not a patient sheet; use SHEET.COLUMN with "
                f"one of: patients, {', '.join(SHEETS)}"
            )
        if column not in spec.columns or column == "patient_id":
            raise RequiredColumnError(
                f"required column {item!r}: {sheet} has no column {column!r}; columns: "
                f"{', '.join(c for c in spec.columns if c != 'patient_id')}"
            )
        out.setdefault(sheet, []).append(column)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class QualityRun:
    """The findings of one run, with what was checked."""

    findings: list[Finding]
    centres: list[str]
    patients: int
    as_of: dt.date | None

    def by_centre_and_rule(self) -> dict[tuple[str, str], int]:
        return dict(sorted(Counter((f.centre, f.rule) for f in self.findings).items()))

    def find(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)


def load(session: Session, centres: Sequence[str] | None = None,
         as_of: dt.date | None = None) -> list[PatientRecords]:  # fmt: skip
    """The patients (of the given centres) with their records dated on or before ``as_of``."""
    stmt = select(Patient, Centre.centre).join(Centre, Centre.id == Patient.centre_pk)
    if centres is not None:
        stmt = stmt.where(Centre.centre.in_(list(centres)))
    patients: dict[int, PatientRecords] = {}
    table = Patient.__table__
    for patient, centre in session.execute(stmt.order_by(Patient.patient_id)):
        values = {c.name: getattr(patient, c.name) for c in table.columns}
        patients[patient.id] = PatientRecords(
            pk=patient.id, patient_id=patient.patient_id, centre=centre, sex=patient.sex,
            birth_year_month=patient.birth_year_month, vital_status=patient.vital_status,
            last_follow_up=patient.last_follow_up, patient=values,
        )  # fmt: skip
    if not patients:
        return []
    from jakreg.model.sheets import SHEETS_BY_NAME

    for sheet in SHEETS:
        t = TABLE_FOR_SHEET[sheet]
        # the columns a centre enters (what the checks read), not the derived ones (CTCAE reasons…):
        # reading those too doubles the time at registry size
        entered = set(SHEETS_BY_NAME[sheet].columns) | {"id", "patient_pk"}
        q = select(*(c for c in t.__table__.columns if c.name in entered))
        if centres is not None:
            q = q.where(t.patient_pk.in_(list(patients)))  # type: ignore[attr-defined]
        column = DATED.get(sheet)
        if as_of is not None and column is not None:
            q = q.where(getattr(t, column) <= as_of)
        keys = [c.name for c in q.selected_columns]
        at = keys.index("patient_pk")
        result = session.connection().execute(q.order_by(t.id))  # type: ignore[attr-defined]
        # Core rows zipped with the column names (a tenth of the cost of dict(row._mapping)),
        # fetched in blocks: row by row, the fetch costs as much as building the records
        for block in result.partitions(20_000):
            for row in block:
                p = patients.get(row[at])
                if p is not None:
                    rows = p.sheets.get(sheet)
                    if rows is None:
                        rows = p.sheets[sheet] = []
                    rows.append(dict(zip(keys, row, strict=True)))
    return list(patients.values())


def run(session: Session, *, centre: str | None = None, as_of: dt.date | None = None,
        required: Mapping[str, Sequence[str]] = catalogue.REQUIRED) -> QualityRun:  # fmt: skip
    """Every rule over the database, or one centre's patients; findings in a stable order."""
    codes = list(session.scalars(select(Centre.centre).order_by(Centre.centre)))
    if centre is not None and centre not in codes:
        raise UnknownCentreError(
            f"no centre {centre!r} in the database (centres: {', '.join(codes) or 'none'})"
        )
    wanted = [centre] if centre is not None else None
    patients = load(session, wanted, as_of)
    # usual units are a centre's habit, so they are counted over all its patients, not the filter
    usual = usual_units(patients)
    findings = [f for p in patients for f in check_patient(p, usual, required)]
    findings.sort(key=lambda f: (f.centre, f.patient_id, f.sheet, f.record_pk, f.rule, f.field))
    return QualityRun(findings, wanted or codes, len(patients), as_of)
