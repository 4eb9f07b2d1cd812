"""Run the data quality rules over the database (all centres or one, as of a date)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.quality import catalogue
from jakreg.quality.checks import DATED, Finding, PatientRecords, check_patient, most_usual
from jakreg.store.tables import TABLE_FOR_SHEET, Centre, LabResult, Patient

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


# Patients per read: the records of one batch are checked and dropped before the next is read, so
# memory holds one batch, not the registry (an IN list of their keys, below SQLite's old limit).
BATCH = 900


def load(session: Session, centres: Sequence[str] | None = None,
         as_of: dt.date | None = None) -> list[PatientRecords]:  # fmt: skip
    """The patients (of the given centres) with their records dated on or before ``as_of``."""
    return [p for batch in load_batches(session, centres, as_of) for p in batch]


def load_batches(session: Session, centres: Sequence[str] | None = None,
                 as_of: dt.date | None = None, size: int = BATCH) -> Iterator[list[PatientRecords]]:  # fmt: skip
    """``load`` a batch of patients at a time (in patient id order), each with all its records."""
    patient_t: Table = Patient.__table__  # type: ignore[assignment]
    stmt = select(patient_t, Centre.centre.label("_centre")).join(
        Centre, Centre.id == patient_t.c.centre_pk
    )
    if centres is not None:
        stmt = stmt.where(Centre.centre.in_(list(centres)))
    names = [c.name for c in patient_t.columns]
    found = session.connection().execute(stmt.order_by(patient_t.c.patient_id)).all()
    queries = [_sheet_query(sheet, as_of) for sheet in SHEETS]
    for start in range(0, len(found), size):
        patients: dict[int, PatientRecords] = {}
        for row in found[start : start + size]:
            values = dict(zip(names, row[: len(names)], strict=True))
            patients[values["id"]] = PatientRecords(
                pk=values["id"], patient_id=values["patient_id"], centre=row[-1],
                sex=values["sex"], birth_year_month=values["birth_year_month"],
                vital_status=values["vital_status"], last_follow_up=values["last_follow_up"],
                patient=values,
            )  # fmt: skip
        for sheet, (query, keys) in zip(SHEETS, queries, strict=True):
            at = keys.index("patient_pk")
            rows = session.connection().execute(query, {"pks": list(patients)})
            # Core rows zipped with the column names: a tenth of the cost of dict(row._mapping)
            for row in rows.all():
                p = patients[row[at]]
                records = p.sheets.get(sheet)
                if records is None:
                    records = p.sheets[sheet] = []
                records.append(dict(zip(keys, row, strict=True)))
        yield list(patients.values())


def _sheet_query(sheet: str, as_of: dt.date | None) -> tuple[Any, list[str]]:
    """A sheet's rows of a batch of patients (bound as ``pks``), in id order, and their columns."""
    from jakreg.model.sheets import SHEETS_BY_NAME

    t = TABLE_FOR_SHEET[sheet]
    # the columns a centre enters (what the checks read), not the derived ones (CTCAE reasons…):
    # reading those too doubles the time at registry size
    entered = set(SHEETS_BY_NAME[sheet].columns) | {"id", "patient_pk"}
    q = select(*(c for c in t.__table__.columns if c.name in entered))
    q = q.where(t.patient_pk.in_(bindparam("pks", expanding=True)))  # type: ignore[attr-defined]
    column = DATED.get(sheet)
    if as_of is not None and column is not None:
        q = q.where(getattr(t, column) <= as_of)
    return q.order_by(t.id), [c.name for c in q.selected_columns]  # type: ignore[attr-defined]


def usual_units_of(session: Session, centres: Sequence[str] | None = None,
                   as_of: dt.date | None = None) -> dict[tuple[str, str], str]:  # fmt: skip
    """``checks.usual_units`` of the patients ``load`` reads, counted by the database."""
    lab = LabResult
    stmt = (
        select(Centre.centre, lab.analyte, lab.unit, func.count())
        .join(Patient, Patient.id == lab.patient_pk)
        .join(Centre, Centre.id == Patient.centre_pk)
        .group_by(Centre.centre, lab.analyte, lab.unit)
    )
    if centres is not None:
        stmt = stmt.where(Centre.centre.in_(list(centres)))
    if as_of is not None:
        stmt = stmt.where(lab.date <= as_of)
    return most_usual(
        {(centre, analyte, unit): n for centre, analyte, unit, n in session.execute(stmt)}
    )


def run(session: Session, *, centre: str | None = None, as_of: dt.date | None = None,
        required: Mapping[str, Sequence[str]] = catalogue.REQUIRED) -> QualityRun:  # fmt: skip
    """Every rule over the database, or one centre's patients; findings in a stable order."""
    codes = list(session.scalars(select(Centre.centre).order_by(Centre.centre)))
    if centre is not None and centre not in codes:
        raise UnknownCentreError(
            f"no centre {centre!r} in the database (centres: {', '.join(codes) or 'none'})"
        )
    wanted = [centre] if centre is not None else None
    # usual units are a centre's habit, so they are counted over all its patients, not the filter
    usual = usual_units_of(session, wanted, as_of)
    findings: list[Finding] = []
    n = 0
    for batch in load_batches(session, wanted, as_of):
        n += len(batch)
        findings.extend(f for p in batch for f in check_patient(p, usual, required))
    findings.sort(key=lambda f: (f.centre, f.patient_id, f.sheet, f.record_pk, f.rule, f.field))
    return QualityRun(findings, wanted or codes, n, as_of)
