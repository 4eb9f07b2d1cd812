"""Checks that need more than one row: duplicates, references, dates inside a patient's life and course,
HPO ids and labels, HGVS syntax, lab units, pseudonym stability and centre scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from jakreg.ingest.centre_view import PSEUDONYM_UNAVAILABLE, PSEUDONYM_UNAVAILABLE_FIX, CentreView
from jakreg.ingest.keys import Existing as Existing  # imported from here by the study and the web
from jakreg.ingest.keys import Key as Key  # and by the store
from jakreg.ingest.keys import KnownPatient as KnownPatient
from jakreg.ingest.keys import NothingExisting, key_getter, nullable_column, plain_value
from jakreg.ingest.problems import Problem, ProblemLog, Severity, show_value
from jakreg.ingest.validate import StudyRows, ValidRow, key_text
from jakreg.ingest.vocabularies import HpoLookup, HpoTerm, hgvs_problem
from jakreg.model.rows import CourseRow, LabRow, ManifestationRow, PatientRow, VariantRow
from jakreg.model.sheets import SHEETS, SHEETS_BY_NAME, SheetSpec
from jakreg.model.vocab import Stat1Domain, VitalStatus
from jakreg.rules import stat1_domains, units
from jakreg.rules.base import RuleError

# Sheets whose keys an importer that writes as it reads leaves to the database: the table's unique index
# finds a key given twice, and a reference to one of their rows is looked up in the database (the sheet
# was written before the sheets that refer to it). Keys with an empty part stay with the checker (a NULL
# never equals another NULL in a unique index), and so do the small sheets whose rows later checks need
# (centres, patients, courses) and any sheet referred to by columns other than its key.
KEPT_IN_MEMORY = frozenset({"centres", "patients", "courses"})
DUPLICATES_BY_DATABASE: frozenset[str] = frozenset(
    spec.name
    for spec in SHEETS
    if spec.name not in KEPT_IN_MEMORY
    and all(
        ref.target == spec.key
        for other in SHEETS
        for ref in other.references
        if ref.sheet == spec.name
    )
)
NULLABLE_KEY: frozenset[str] = frozenset(
    spec.name for spec in SHEETS if any(nullable_column(spec, column) for column in spec.key)
)


def duplicate_problem(file: str, spec: SheetSpec, number: int, key: Key, first: int) -> Problem:
    """Row ``number`` repeats the key of row ``first`` (found in memory or by a unique index)."""
    return Problem(
        file,
        spec.name,
        number,
        ", ".join(spec.key),
        " / ".join("" if k is None else str(k) for k in key),
        f"duplicate of row {first}",
        f"keep one row per {', '.join(spec.key)}",
    )


class Checker:
    """The cross-row checks, fed one slice of validated rows at a time, sheet by sheet in SHEETS order.

    It keeps only what later rows are checked against: the keys seen per sheet (duplicates and
    references), the patients and courses of the file, and local ids. Rows themselves are not kept, so
    an import can stream a sheet of millions of rows through it. Sheets refer only to sheets before
    them (jakreg.model.sheets), so a row is fully checked when its slice is.
    """

    def __init__(
        self,
        log: ProblemLog,
        existing: Existing | None = None,
        *,
        centre: str | None = None,
        failed_keys: dict[str, set[tuple[str, ...]]] | None = None,
        files: dict[str, str] | None = None,
        default_file: str = "",
        hpo: HpoLookup | None = None,
    ) -> None:
        self.log = log
        self.hpo = hpo or HpoLookup()
        self.existing = existing or NothingExisting()
        self.centre = centre
        self.failed_keys = failed_keys if failed_keys is not None else {}
        self.files = files if files is not None else {}
        self.default_file = default_file
        self.first: dict[str, dict[Key, int]] = {}  # sheet -> key -> row number of its first row
        self._canon: dict[Any, Any] = {}
        # the key columns other sheets refer to, per sheet (e.g. courses: patient_id, course_no)
        self.targets: dict[str, set[tuple[str, ...]]] = {}
        for spec in SHEETS:
            for ref in spec.references:
                self.targets.setdefault(ref.sheet, set()).add(ref.target)
        self.referable: dict[tuple[str, tuple[str, ...]], set[Key]] = {}
        self.patients: dict[str, KnownPatient] = {}
        self.courses: dict[tuple[str, int], tuple[dt.date, dt.date | None]] = {}
        self.local_ids: dict[tuple[str, str], tuple[str, int]] = {}

    @classmethod
    def for_study(
        cls,
        study: StudyRows,
        log: ProblemLog,
        existing: Existing | None = None,
        *,
        centre: str | None = None,
        hpo: HpoLookup | None = None,
    ) -> Checker:
        """A checker that names files and skips failed keys as ``study`` records them."""
        return cls(
            log,
            existing,
            centre=centre,
            failed_keys=study.failed_keys,
            files=study.files,
            default_file=study.file,
            hpo=hpo,
        )

    def file_of(self, sheet: str) -> str:
        return self.files.get(sheet, self.default_file)

    def _p(self, sheet: str, vr: ValidRow, column: str | None, message: str, fix: str) -> Problem:
        value = show_value(plain_value(getattr(vr.row, column))) if column else None
        return Problem(self.file_of(sheet), sheet, vr.number, column, value, message, fix)

    def _failed(self, sheet: str, key: Key) -> bool:
        failed = self.failed_keys.get(sheet)
        return bool(failed) and tuple(key_text(v) for v in key) in failed  # type: ignore[operator]

    def check(self, spec: SheetSpec, rows: list[ValidRow], *, duplicates: bool = True) -> None:
        """Check one slice of a sheet's rows (slices of a sheet come in file order). Without
        ``duplicates`` the keys of the slice are neither checked nor kept (the writer does it)."""
        if duplicates:
            self.duplicates(spec, rows)
        elif spec.name in NULLABLE_KEY:
            self.duplicates(spec, rows, which="with a blank")
        self._references(spec, rows)
        if spec.name == "patients":
            self._patient_identity(rows)
        if spec.name == "centres" and self.centre is not None:
            self._centres_in_scope(rows)
        if spec.name != "centres":
            self._known_patient_rows(spec, rows)
        if spec.name in {"doses", "responses"}:
            self._dates_in_course(spec, rows)
        if spec.name == "adverse_events":
            self._onset_before_course(rows)
        if spec.name == "courses":
            for vr in rows:
                row = vr.row
                assert isinstance(row, CourseRow)
                self.courses[(row.patient_id, row.course_no)] = (row.start_date, row.stop_date)
        if spec.name == "manifestations":
            terms = self.hpo.terms(
                vr.row.hpo_id for vr in rows if isinstance(vr.row, ManifestationRow)
            )
            for vr in rows:
                self._manifestation(vr, terms)
        if spec.name == "labs":
            self._labs(rows)
        check = _ROW_CHECKS.get(spec.name)
        if check is not None:
            for vr in rows:
                check(self, vr)

    def sheet_done(self, sheet: str) -> None:
        """Free what only one sheet needed (the HPO look-up after the manifestations)."""
        if sheet == "manifestations":
            self.hpo.close()

    def close(self) -> None:
        self.hpo.close()

    def duplicates(
        self,
        spec: SheetSpec,
        rows: list[ValidRow],
        which: Literal["all", "with a blank", "without a blank"] = "all",
    ) -> None:
        """Report keys given twice, keeping the keys (and those other sheets refer to); ``which``
        limits this to the keys with an empty part, or to the others."""
        if which != "all" and spec.name in NULLABLE_KEY:
            blank = which == "with a blank"
            key_of = key_getter(spec, spec.key)
            rows = [vr for vr in rows if (None in key_of(vr.row)) is blank]
        elif which == "with a blank":
            return
        first = self.first.setdefault(spec.name, {})
        get = key_getter(spec, spec.key)
        targets = [
            (key_getter(spec, cols), self.referable.setdefault((spec.name, cols), set()))
            for cols in self.targets.get(spec.name, ())
            if cols != spec.key
        ]
        canon = self._canon
        for vr in rows:
            key = get(vr.row)
            # keys share their parts (a patient's id, a date): millions of keys, thousands of parts
            seen = first.setdefault(tuple(map(canon.setdefault, key, key)), vr.number)
            if seen != vr.number:
                self.log.add(duplicate_problem(self.file_of(spec.name), spec, vr.number, key, seen))
            for target, keys in targets:
                keys.add(target(vr.row))

    def _in_file(self, sheet: str, columns: tuple[str, ...], key: Key) -> bool:
        if SHEETS_BY_NAME[sheet].key == columns:
            return key in self.first.get(sheet, {})
        return key in self.referable.get((sheet, columns), set())

    def _references(self, spec: SheetSpec, rows: list[ValidRow]) -> None:
        for ref in spec.references:
            get = key_getter(spec, ref.columns)
            # rows share their references (a patient's rows): each key is looked up once a slice
            known: dict[Key, bool] = {}
            for vr in rows:
                key = get(vr.row)
                found = known.get(key)
                if found is None:
                    found = known[key] = (
                        (ref.optional and any(k is None for k in key))
                        or self._in_file(ref.sheet, ref.target, key)
                        or self.existing.has(ref.sheet, key)
                        or self._failed(ref.sheet, key)  # the referenced row has its own error
                    )
                if found:
                    continue
                shown = " / ".join(str(k) for k in key)
                self.log.add(
                    Problem(
                        self.file_of(spec.name),
                        spec.name,
                        vr.number,
                        ", ".join(ref.columns),
                        shown,
                        f"refers to {ref.sheet} {shown}, which is neither in the file "
                        "nor in the database",
                        f"add it to the {ref.sheet} sheet first, or correct the reference",
                    )
                )

    def _patient_identity(self, rows: list[ValidRow]) -> None:
        """A pseudonym stays with its centre, and (centre, local id) keeps its pseudonym."""
        for vr in rows:
            row = vr.row
            assert isinstance(row, PatientRow)
            self.patients[row.patient_id] = KnownPatient(
                row.patient_id,
                row.centre,
                row.local_id,
                row.birth_year_month,
                row.last_follow_up,
                row.vital_status.value,
            )
            before = self.existing.patient(row.patient_id)
            view = self.existing
            if isinstance(view, CentreView) and view.unavailable(row.patient_id, row.centre):
                # never "belongs to centre X": that would tell which pseudonyms other centres hold
                self.log.add(
                    self._p(
                        "patients",
                        vr,
                        "patient_id",
                        PSEUDONYM_UNAVAILABLE.format(centre=row.centre),
                        PSEUDONYM_UNAVAILABLE_FIX.format(centre=row.centre),
                    )
                )
            elif before is not None and before.centre != row.centre:
                self.log.add(
                    self._p(
                        "patients",
                        vr,
                        "centre",
                        f"patient {row.patient_id} belongs to centre {before.centre}",
                        "a patient cannot move between centres; check the patient_id",
                    )
                )
            if row.local_id is None:
                continue
            owner = self.existing.patient_with_local_id(row.centre, row.local_id)
            if owner is not None and owner != row.patient_id:
                self.log.add(
                    self._p(
                        "patients",
                        vr,
                        "local_id",
                        f"this local id is already registered at {row.centre} as {owner}",
                        f"use patient_id {owner} for this patient (pseudonyms never change)",
                    )
                )
            seen = self.local_ids.get((row.centre, row.local_id))
            if seen is not None and seen[0] != row.patient_id:
                self.log.add(
                    self._p(
                        "patients",
                        vr,
                        "local_id",
                        f"the same local id is given to {seen[0]} in row {seen[1]}",
                        "one local id belongs to one patient",
                    )
                )
            self.local_ids[(row.centre, row.local_id)] = (row.patient_id, vr.number)

    def _centres_in_scope(self, rows: list[ValidRow]) -> None:
        for vr in rows:
            if getattr(vr.row, "centre", None) != self.centre:
                self.log.add(
                    self._p(
                        "centres",
                        vr,
                        "centre",
                        f"this import is limited to centre {self.centre}",
                        f"remove other centres' rows, or import without --centre {self.centre}",
                    )
                )

    def _patient(self, patient_id: str) -> KnownPatient | None:
        """The patient as the file gives it, else as the database holds it (remembered)."""
        known = self.patients.get(patient_id)
        if known is None:
            known = self.existing.patient(patient_id)
            if known is not None:
                self.patients[patient_id] = known
        return known

    def _known_patient_rows(self, spec: SheetSpec, rows: list[ValidRow]) -> None:
        """Locks, centre scope and dates inside the patient's life, for rows naming a known patient."""
        date_columns = [c for c in _DATE_COLUMNS if c in spec.row.model_fields]
        # what a patient's rows are checked against, worked out once per patient and slice
        facts: dict[str, tuple[KnownPatient | None, KnownPatient | None, Any, Any]] = {}
        for vr in rows:
            pid = vr.row.__dict__.get("patient_id")
            if not isinstance(pid, str):
                continue
            fact = facts.get(pid)
            if fact is None:
                info = self._patient(pid)
                floor = death = None
                if info is not None and info.birth_year_month:
                    floor = _birth_floor(info.birth_year_month)
                if info is not None and info.vital_status == VitalStatus.deceased.value:
                    death = info.last_follow_up
                fact = facts[pid] = (self.existing.patient(pid), info, floor, death)
            stored, info, floor, death = fact
            if stored is not None and stored.locked_by is not None:
                self.log.add(
                    self._p(
                        spec.name,
                        vr,
                        "patient_id",
                        f"patient {pid} is locked by {stored.locked_by}; its records are read-only",
                        "ask an admin to unlock the patient in the server, then import again",
                    )
                )
            if info is None:
                continue
            if self.centre is not None and info.centre != self.centre:
                self.log.add(
                    self._p(
                        spec.name,
                        vr,
                        "patient_id",
                        f"patient {pid} belongs to centre {info.centre}, not {self.centre}",
                        f"remove other centres' rows, or import without --centre {self.centre}",
                    )
                )
            if floor is None and death is None:
                continue
            values = vr.row.__dict__
            for column in date_columns:
                value = values[column]
                if value is not None and (
                    (floor is not None and value < floor) or (death is not None and value > death)
                ):
                    self._date_in_life(spec, vr, column, info)

    def _date_in_life(self, spec: SheetSpec, vr: ValidRow, column: str, info: KnownPatient) -> None:
        value = getattr(vr.row, column)
        if value is None:
            return
        if info.birth_year_month and value < _birth_floor(info.birth_year_month):
            self.log.add(
                self._p(
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
            self.log.add(
                self._p(
                    spec.name,
                    vr,
                    column,
                    "the date is after the deceased patient's last follow-up "
                    f"({info.last_follow_up.isoformat()})",
                    "check the date, and the patient's last_follow_up",
                )
            )

    def _dates_in_course(self, spec: SheetSpec, rows: list[ValidRow]) -> None:
        for vr in rows:
            pid, no, day = (getattr(vr.row, c) for c in ("patient_id", "course_no", "date"))
            span = self.courses.get((pid, no)) or self.existing.course(pid, no)
            if span is None:
                continue  # reported as a broken reference
            start, stop = span
            late = spec.name == "doses" and stop is not None and day > stop
            if day < start or late:
                shown = f"{start.isoformat()} to {stop.isoformat() if stop else 'ongoing'}"
                self.log.add(
                    self._p(
                        spec.name,
                        vr,
                        "date",
                        f"the date is outside course {no} ({shown})",
                        "check the date and the course_no",
                    )
                )

    def _onset_before_course(self, rows: list[ValidRow]) -> None:
        """Warn: an adverse event assigned to a course that began after the event's onset is not
        treatment-emergent for that course (analysis.safety.treatment_emergent leaves it out)."""
        for vr in rows:
            pid, no, onset = (getattr(vr.row, c) for c in ("patient_id", "course_no", "onset_date"))
            if no is None:
                continue
            span = self.courses.get((pid, no)) or self.existing.course(pid, no)
            if span is None or onset >= span[0]:
                continue
            problem = self._p(
                "adverse_events",
                vr,
                "onset_date",
                f"the onset is before course {no} began ({span[0].isoformat()}), so the event is "
                "not counted as treatment-emergent (under therapy)",
                "check the onset date and the course_no; leave course_no blank for an event that "
                "began before therapy",
            )
            self.log.add(dataclasses.replace(problem, severity=Severity.warning))

    def _manifestation(self, vr: ValidRow, terms: dict[str, HpoTerm | None]) -> None:
        if not isinstance(vr.row, ManifestationRow):
            return
        hpo_id = vr.row.hpo_id
        label = vr.row.hpo_label
        term = terms.get(hpo_id)
        if term is None:
            self.log.add(
                self._p(
                    "manifestations",
                    vr,
                    "hpo_id",
                    "this HPO id is not in the packaged Human Phenotype Ontology",
                    "look the term up at hpo.jax.org and copy its id (HP: and 7 digits)",
                )
            )
        elif label is not None and label.casefold() != term.label.casefold():
            self.log.add(
                self._p(
                    "manifestations",
                    vr,
                    "hpo_label",
                    f"the label does not match {hpo_id}, which is {term.label!r}",
                    f"write {term.label!r}, leave the label blank, or correct the id",
                )
            )

    def _variant(self, vr: ValidRow) -> None:
        for column, prefix in (("hgvs_c", "c."), ("hgvs_p", "p.")):
            text = getattr(vr.row, column)
            if text is None:
                continue
            wrong = hgvs_problem(text, prefix)
            if wrong is not None:
                example = "c.821G>A" if prefix == "c." else "p.Arg274Gln or p.(Arg274Gln)"
                self.log.add(self._p("variants", vr, column, wrong, f"write it like {example}"))
        if not isinstance(vr.row, VariantRow):
            return
        hgvs_p = vr.row.hgvs_p
        domain = vr.row.domain
        if hgvs_p is None or domain in (None, Stat1Domain.unknown) or vr.row.gene != "STAT1":
            return
        derived = stat1_domain(hgvs_p)
        if derived is not None and derived != domain.value:
            self.log.add(
                Problem(
                    self.file_of("variants"),
                    "variants",
                    vr.number,
                    "domain",
                    domain.value,
                    f"the protein position lies in the {derived} domain of jakreg's STAT1 table",
                    f"check the variant and the domain; leave domain blank to use {derived!r}",
                    Severity.warning,
                )
            )

    def _labs(self, rows: list[ValidRow]) -> None:
        """``_lab`` for the rows whose analyte and unit are not a known pair (few pairs, many rows)."""
        known: dict[tuple[str, str], bool] = {}
        for vr in rows:
            values = vr.row.__dict__
            pair = (values["analyte"], values["unit"])
            ok = known.get(pair)
            if ok is None:
                analyte = units.ANALYTES.get(pair[0])
                ok = known[pair] = analyte is not None and analyte.factor(pair[1]) is not None
            if not ok:
                self._lab(vr)

    def _lab(self, vr: ValidRow) -> None:
        if not isinstance(vr.row, LabRow):
            return
        analyte = vr.row.analyte
        if analyte not in units.ANALYTES:
            self.log.add(
                self._p(
                    "labs",
                    vr,
                    "analyte",
                    "not an analyte jakreg knows",
                    f"use one of: {', '.join(sorted(units.ANALYTES))}",
                )
            )
            return
        if units.ANALYTES[analyte].factor(vr.row.unit) is None:
            self.log.add(
                self._p(
                    "labs",
                    vr,
                    "unit",
                    f"this unit is not known for {analyte}",
                    f"use one of: {', '.join(units.accepted_units(analyte))}",
                )
            )


_ROW_CHECKS: dict[str, Callable[[Checker, ValidRow], None]] = {
    "variants": Checker._variant,
}


def check_study(
    study: StudyRows,
    log: ProblemLog,
    existing: Existing | None = None,
    *,
    centre: str | None = None,
) -> None:
    """Add to ``log`` every cross-row problem of ``study``; ``centre`` limits the import to one centre."""
    checker = Checker.for_study(study, log, existing, centre=centre)
    try:
        for spec in SHEETS:
            rows = study.rows(spec.name)
            if rows:
                checker.check(spec, rows)
    finally:
        checker.close()


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


def stat1_domain(hgvs_p: str) -> str | None:
    """The domain code (as in Stat1Domain) of a STAT1 protein change, or None when not placeable."""
    try:
        assigned = stat1_domains.domain_of_variant(hgvs_p)
    except RuleError:
        return None
    if assigned.domain is None:
        return None
    return assigned.domain.lower().replace("-", "_")
