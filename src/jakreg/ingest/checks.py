"""Checks that need more than one row: duplicates, references, dates inside a patient's life and course,
HPO ids and labels, HGVS syntax, lab units, pseudonym stability and centre scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from jakreg.ingest.problems import Problem, ProblemLog, Severity, show_value
from jakreg.ingest.validate import StudyRows, ValidRow
from jakreg.ingest.vocabularies import hgvs_problem, hpo_term
from jakreg.model.rows import CourseRow, LabRow, ManifestationRow, PatientRow, VariantRow
from jakreg.model.sheets import SHEETS, SheetSpec
from jakreg.model.vocab import Stat1Domain, VitalStatus
from jakreg.rules import stat1_domains, units
from jakreg.rules.base import RuleError

Key = tuple[Any, ...]


@dataclass(frozen=True)
class KnownPatient:
    patient_id: str
    centre: str
    local_id: str | None
    birth_year_month: str | None
    last_follow_up: dt.date | None
    vital_status: str
    locked_by: str | None = None  # a locked patient's records are read-only (the server locks them)


class Existing(Protocol):
    """What is already in the database, as far as the checks need it."""

    def has(self, sheet: str, key: Key) -> bool: ...

    def patient(self, patient_id: str) -> KnownPatient | None: ...

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None: ...

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None: ...


class NothingExisting:
    """An empty database."""

    def has(self, sheet: str, key: Key) -> bool:
        return False

    def patient(self, patient_id: str) -> KnownPatient | None:
        return None

    def patient_with_local_id(self, centre: str, local_id: str) -> str | None:
        return None

    def course(self, patient_id: str, course_no: int) -> tuple[dt.date, dt.date | None] | None:
        return None


def row_key(spec: SheetSpec, row: Any, columns: Iterable[str] | None = None) -> Key:
    return tuple(_plain(getattr(row, c)) for c in (columns or spec.key))


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and not isinstance(value, dt.date) else value


def _p(
    study: StudyRows, sheet: str, vr: ValidRow, column: str | None, message: str, fix: str
) -> Problem:
    file = study.file_of(sheet)
    value = show_value(_plain(getattr(vr.row, column))) if column else None
    return Problem(file, sheet, vr.number, column, value, message, fix)


def check_study(
    study: StudyRows,
    log: ProblemLog,
    existing: Existing | None = None,
    *,
    centre: str | None = None,
) -> None:
    """Add to ``log`` every cross-row problem of ``study``; ``centre`` limits the import to one centre."""
    existing = existing or NothingExisting()
    _duplicates(study, log)
    _references(study, log, existing)
    patients = _patients(study, existing)
    _patient_identity(study, log, existing, centre)
    _locked(study, log, existing)
    if centre is not None:
        _centre_scope(study, log, patients, centre)
    _dates_in_life(study, log, patients)
    _dates_in_course(study, log, existing)
    _manifestations(study, log)
    _variants(study, log)
    _labs(study, log)


def _duplicates(study: StudyRows, log: ProblemLog) -> None:
    for spec in SHEETS:
        first: dict[Key, int] = {}
        for vr in study.rows(spec.name):
            key = row_key(spec, vr.row)
            if key in first:
                log.add(
                    Problem(
                        study.file_of(spec.name),
                        spec.name,
                        vr.number,
                        ", ".join(spec.key),
                        " / ".join("" if k is None else str(k) for k in key),
                        f"duplicate of row {first[key]}",
                        f"keep one row per {', '.join(spec.key)}",
                    )
                )
            else:
                first[key] = vr.number


def _references(study: StudyRows, log: ProblemLog, existing: Existing) -> None:
    from jakreg.model.sheets import SHEETS_BY_NAME

    for spec in SHEETS:
        for ref in spec.references:
            target = SHEETS_BY_NAME[ref.sheet]
            in_file = {row_key(target, vr.row, ref.target) for vr in study.rows(ref.sheet)}
            for vr in study.rows(spec.name):
                key = row_key(spec, vr.row, ref.columns)
                if ref.optional and any(k is None for k in key):
                    continue
                if key in in_file or existing.has(ref.sheet, key):
                    continue
                if study.failed(ref.sheet, ref.target, key):
                    continue  # the referenced row has its own error already
                shown = " / ".join(str(k) for k in key)
                log.add(
                    Problem(
                        study.file_of(spec.name),
                        spec.name,
                        vr.number,
                        ", ".join(ref.columns),
                        shown,
                        f"refers to {ref.sheet} {shown}, which is neither in the file "
                        "nor in the database",
                        f"add it to the {ref.sheet} sheet first, or correct the reference",
                    )
                )


def _patients(study: StudyRows, existing: Existing) -> dict[str, KnownPatient]:
    known: dict[str, KnownPatient] = {}
    for vr in study.rows("patients"):
        row = vr.row
        assert isinstance(row, PatientRow)
        known[row.patient_id] = KnownPatient(
            row.patient_id,
            row.centre,
            row.local_id,
            row.birth_year_month,
            row.last_follow_up,
            row.vital_status.value,
        )
    wanted = {getattr(vr.row, "patient_id", None) for rows in study.sheets.values() for vr in rows}
    for pid in wanted:
        if isinstance(pid, str) and pid not in known:
            found = existing.patient(pid)
            if found is not None:
                known[pid] = found
    return known


def _patient_identity(
    study: StudyRows, log: ProblemLog, existing: Existing, centre: str | None
) -> None:
    """A pseudonym stays with its centre, and (centre, local id) keeps its pseudonym."""
    local_ids: dict[tuple[str, str], tuple[str, int]] = {}
    for vr in study.rows("patients"):
        row = vr.row
        assert isinstance(row, PatientRow)
        before = existing.patient(row.patient_id)
        if before is not None and before.centre != row.centre:
            log.add(
                _p(
                    study,
                    "patients",
                    vr,
                    "centre",
                    f"patient {row.patient_id} belongs to centre {before.centre}",
                    "a patient cannot move between centres; check the patient_id",
                )
            )
        if row.local_id is None:
            continue
        owner = existing.patient_with_local_id(row.centre, row.local_id)
        if owner is not None and owner != row.patient_id:
            log.add(
                _p(
                    study,
                    "patients",
                    vr,
                    "local_id",
                    f"this local id is already registered at {row.centre} as {owner}",
                    f"use patient_id {owner} for this patient (pseudonyms never change)",
                )
            )
        seen = local_ids.get((row.centre, row.local_id))
        if seen is not None and seen[0] != row.patient_id:
            log.add(
                _p(
                    study,
                    "patients",
                    vr,
                    "local_id",
                    f"the same local id is given to {seen[0]} in row {seen[1]}",
                    "one local id belongs to one patient",
                )
            )
        local_ids[(row.centre, row.local_id)] = (row.patient_id, vr.number)


def _rows_of_known_patients(
    study: StudyRows, find: Callable[[str], KnownPatient | None]
) -> Iterator[tuple[SheetSpec, ValidRow, KnownPatient]]:
    """Every row that names a patient ``find`` knows, with that patient (centres rows have none)."""
    for spec in SHEETS:
        for vr in study.rows(spec.name):
            pid = getattr(vr.row, "patient_id", None)
            known = find(pid) if isinstance(pid, str) else None
            if known is not None:
                yield spec, vr, known


def _locked(study: StudyRows, log: ProblemLog, existing: Existing) -> None:
    for spec, vr, known in _rows_of_known_patients(study, existing.patient):
        pid = known.patient_id
        if known.locked_by is not None:
            log.add(
                _p(
                    study,
                    spec.name,
                    vr,
                    "patient_id",
                    f"patient {pid} is locked by {known.locked_by}; its records are read-only",
                    "ask an admin to unlock the patient in the server, then import again",
                )
            )


def _centre_scope(
    study: StudyRows, log: ProblemLog, patients: dict[str, KnownPatient], centre: str
) -> None:
    for vr in study.rows("centres"):
        if getattr(vr.row, "centre", None) != centre:
            log.add(
                _p(
                    study,
                    "centres",
                    vr,
                    "centre",
                    f"this import is limited to centre {centre}",
                    f"remove other centres' rows, or import without --centre {centre}",
                )
            )
    for spec, vr, info in _rows_of_known_patients(study, patients.get):
        pid = info.patient_id
        if info.centre != centre:
            log.add(
                _p(
                    study,
                    spec.name,
                    vr,
                    "patient_id",
                    f"patient {pid} belongs to centre {info.centre}, not {centre}",
                    f"remove other centres' rows, or import without --centre {centre}",
                )
            )


def _birth_floor(year_month: str) -> dt.date:
    year, month = (int(x) for x in year_month.split("-"))
    return dt.date(year, month, 1)


_DATE_COLUMNS = (
    "date",
    "start_date",
    "stop_date",
    "onset_date",
    "resolution_date",
    "last_follow_up",
)


def _dates_in_life(study: StudyRows, log: ProblemLog, patients: dict[str, KnownPatient]) -> None:
    for spec, vr, info in _rows_of_known_patients(study, patients.get):
        for column in (c for c in _DATE_COLUMNS if c in spec.row.model_fields):
            value = getattr(vr.row, column)
            if value is None:
                continue
            if info.birth_year_month and value < _birth_floor(info.birth_year_month):
                log.add(
                    _p(
                        study,
                        spec.name,
                        vr,
                        column,
                        f"the date is before the patient's birth ({info.birth_year_month})",
                        "check the year, and the patient's birth_year_month",
                    )
                )
            elif (
                info.vital_status == VitalStatus.deceased.value
                and info.last_follow_up is not None
                and value > info.last_follow_up
            ):
                log.add(
                    _p(
                        study,
                        spec.name,
                        vr,
                        column,
                        "the date is after the deceased patient's last follow-up "
                        f"({info.last_follow_up.isoformat()})",
                        "check the date, and the patient's last_follow_up",
                    )
                )


def _dates_in_course(study: StudyRows, log: ProblemLog, existing: Existing) -> None:
    courses: dict[tuple[str, int], tuple[dt.date, dt.date | None]] = {}
    for vr in study.rows("courses"):
        row = vr.row
        assert isinstance(row, CourseRow)
        courses[(row.patient_id, row.course_no)] = (row.start_date, row.stop_date)
    for sheet in ("doses", "responses"):
        for vr in study.rows(sheet):
            pid, no, day = (getattr(vr.row, c) for c in ("patient_id", "course_no", "date"))
            span = courses.get((pid, no)) or existing.course(pid, no)
            if span is None:
                continue  # reported as a broken reference
            start, stop = span
            late = sheet == "doses" and stop is not None and day > stop
            if day < start or late:
                shown = f"{start.isoformat()} to {stop.isoformat() if stop else 'ongoing'}"
                log.add(
                    _p(
                        study,
                        sheet,
                        vr,
                        "date",
                        f"the date is outside course {no} ({shown})",
                        "check the date and the course_no",
                    )
                )


def _manifestations(study: StudyRows, log: ProblemLog) -> None:
    for vr in study.rows("manifestations"):
        if not isinstance(vr.row, ManifestationRow):
            continue
        hpo_id = vr.row.hpo_id
        label = vr.row.hpo_label
        term = hpo_term(hpo_id)
        if term is None:
            log.add(
                _p(
                    study,
                    "manifestations",
                    vr,
                    "hpo_id",
                    "this HPO id is not in the packaged Human Phenotype Ontology",
                    "look the term up at hpo.jax.org and copy its id (HP: and 7 digits)",
                )
            )
        elif label is not None and label.casefold() != term.label.casefold():
            log.add(
                _p(
                    study,
                    "manifestations",
                    vr,
                    "hpo_label",
                    f"the label does not match {hpo_id}, which is {term.label!r}",
                    f"write {term.label!r}, leave the label blank, or correct the id",
                )
            )


def _variants(study: StudyRows, log: ProblemLog) -> None:
    for vr in study.rows("variants"):
        for column, prefix in (("hgvs_c", "c."), ("hgvs_p", "p.")):
            text = getattr(vr.row, column)
            if text is None:
                continue
            wrong = hgvs_problem(text, prefix)
            if wrong is not None:
                example = "c.821G>A" if prefix == "c." else "p.Arg274Gln or p.(Arg274Gln)"
                log.add(_p(study, "variants", vr, column, wrong, f"write it like {example}"))
        if not isinstance(vr.row, VariantRow):
            continue
        hgvs_p = vr.row.hgvs_p
        domain = vr.row.domain
        if hgvs_p is None or domain in (None, Stat1Domain.unknown):
            continue
        if vr.row.gene != "STAT1":
            continue
        derived = stat1_domain(hgvs_p)
        if derived is not None and derived != domain.value:
            log.add(
                Problem(
                    study.file_of("variants"),
                    "variants",
                    vr.number,
                    "domain",
                    domain.value,
                    f"the protein position lies in the {derived} domain of jakreg's STAT1 table",
                    f"check the variant and the domain; leave domain blank to use {derived!r}",
                    Severity.warning,
                )
            )


def stat1_domain(hgvs_p: str) -> str | None:
    """The domain code (as in Stat1Domain) of a STAT1 protein change, or None when not placeable."""
    try:
        assigned = stat1_domains.domain_of_variant(hgvs_p)
    except RuleError:
        return None
    if assigned.domain is None:
        return None
    return assigned.domain.lower().replace("-", "_")


def _labs(study: StudyRows, log: ProblemLog) -> None:
    for vr in study.rows("labs"):
        if not isinstance(vr.row, LabRow):
            continue
        analyte = vr.row.analyte
        if analyte not in units.ANALYTES:
            log.add(
                _p(
                    study,
                    "labs",
                    vr,
                    "analyte",
                    "not an analyte jakreg knows",
                    f"use one of: {', '.join(sorted(units.ANALYTES))}",
                )
            )
            continue
        try:
            units.convert(analyte, vr.row.value, vr.row.unit)
        except units.UnknownUnitError:
            log.add(
                _p(
                    study,
                    "labs",
                    vr,
                    "unit",
                    f"this unit is not known for {analyte}",
                    f"use one of: {', '.join(units.accepted_units(analyte))}",
                )
            )
