"""Read the selected patients from the database into a Snapshot, with a SHA-256 of a canonical dump.

The cost grows linearly with the number of rows: each table is read with SQLAlchemy Core (its data
columns only) in batches of patients, one query per batch, never one per patient; the canonical dump
is hashed as it is read, a batch at a time, so its text is never held whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import groupby
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from sqlalchemy import Date, Dialect, String, Table, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from jakreg.analysis.data import (
    AdverseEventData,
    AssessmentData,
    BiomarkerData,
    CentreData,
    CourseData,
    DoseData,
    LabData,
    ManifestationData,
    PatientData,
    ResponseData,
    Snapshot,
    VariantData,
)
from jakreg.errors import SelectionError
from jakreg.jsontext import compact_encoder
from jakreg.store.tables import (
    AdverseEvent,
    Assessment,
    AssessmentItem,
    Base,
    BiomarkerResult,
    BodyMeasurement,
    Centre,
    Dose,
    Hsct,
    ImportBatch,
    LabResult,
    Manifestation,
    Patient,
    TreatmentCourse,
    TreatmentResponse,
    Variant,
)

# Surrogate keys, lock state and optimistic-locking counters are not data: a re-import into a fresh
# database must give the same fingerprint.
_NOT_DATA = frozenset({"id", "version", "patient_pk", "centre_pk", "locked_by", "locked_at"})
_KEYS = ("patient_pk", "centre_pk")  # kept, as the pseudonym and the centre code
_CHILD_TABLES: tuple[type[Base], ...] = (
    Variant,
    Manifestation,
    TreatmentCourse,
    Dose,
    BodyMeasurement,
    Assessment,
    AssessmentItem,
    LabResult,
    BiomarkerResult,
    AdverseEvent,
    TreatmentResponse,
    Hsct,
)
# Patients per query (an IN list of their keys); below SQLite's old limit of 999 bound parameters.
BATCH = 900

Row = Sequence[Any]
Digest = Any  # hashlib's sha256 object

# Dates (and datetimes) as ISO text; any other type the encoder does not know fails loudly.
_iso = methodcaller("isoformat")


# json.dumps(values, ensure_ascii=False, separators=(",", ":")) with dates as ISO text, built once
_encode_row = compact_encoder(ensure_ascii=False, default=_iso)


class _Dates:
    """Date columns read as stored (ISO text in SQLite), turned into dates once per distinct value.

    SQLAlchemy's own conversion for the dialect is used, so a date and its text are what reading
    the column as a Date would give; a registry has a few thousand distinct dates in millions of rows.
    """

    def __init__(self, dialect: Dialect) -> None:
        parse = Date().dialect_impl(dialect).result_processor(dialect, None)
        self.parse: Callable[[Any], Any] = parse or dt.date.fromisoformat
        self.day: dict[Any, dt.date | None] = {None: None}
        self.text: dict[Any, str | None] = {None: None}

    def add(self, raw: Any) -> None:
        day = self.parse(raw) if isinstance(raw, str) else raw
        self.day[raw] = day
        self.text[raw] = day.isoformat() if day is not None else None

    def days(self, raws: Iterable[Any]) -> None:
        """Make sure every raw value is known."""
        for raw in raws:
            if raw not in self.day:
                self.add(raw)


def _data_columns(table: Table) -> list[Any]:
    return [c for c in table.c if c.name not in _NOT_DATA or c.name in _KEYS]


def _row_texts(
    rows: Iterable[Row],
    swaps: Sequence[tuple[int, dict[Any, Any]]],
) -> list[str]:
    """Each row as compact JSON of its data columns (unsorted), with keys and dates swapped.

    Surrogate keys are replaced by the pseudonym and centre code (and stored dates by their ISO
    text), so the same data give the same text in any database they were imported into.
    """
    encode = _encode_row
    texts: list[str] = []
    append = texts.append
    if len(swaps) == 1:
        ((at, lookup),) = swaps
        for row in rows:
            values = list(row)
            values[at] = lookup[values[at]]
            append(encode(values))
    else:
        for row in rows:
            values = list(row)
            for at, lookup in swaps:
                values[at] = lookup[values[at]]
            append(encode(values))
    return texts


class _TableDigest:
    """Feeds one table's part of the canonical dump: its name, then (if it has rows) the column
    names and the sorted row texts, each line ending in a newline."""

    def __init__(self, digest: Digest, name: str, columns: Sequence[str]) -> None:
        self.digest = digest
        self.header = json.dumps(list(columns))
        self.started = False
        digest.update(name.encode() + b"\n")

    def add_sorted(self, texts: list[str]) -> None:
        if not texts:
            return
        if not self.started:
            self.digest.update(self.header.encode() + b"\n")
            self.started = True
        self.digest.update(("\n".join(texts) + "\n").encode("utf-8"))


def canonical_sha256(tables: dict[str, list[str]]) -> str:
    """SHA-256 of every table's column names and sorted row texts, tables in name order.

    The same digest load_snapshot computes as it reads (each value: the column names' line and the
    sorted row texts; an empty list for a table without rows).
    """
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode() + b"\n")
        if tables[name]:
            digest.update(("\n".join(tables[name]) + "\n").encode("utf-8"))
    return digest.hexdigest()


def _example_fingerprint() -> str | None:
    from jakreg.study import example_path, fingerprint

    try:
        return fingerprint(example_path())
    except OSError:  # pragma: no cover - the example is part of the package
        return None


def _text_order(pseudonym: str) -> str:
    """How a child row's text starts: patients in this order have their rows' texts in sort order.

    Row texts start with '["<pseudonym>",'; inside a JSON string a quote is always escaped, so no
    patient's start is a prefix of another's and comparing the starts orders the texts.
    """
    return "[" + json.encoder.encode_basestring(pseudonym) + ","


def _batches(pks: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(pks), size):
        yield list(pks[start : start + size])


def load_snapshot(
    session: Session,
    *,
    centre: str | None = None,
    source: str | None = "cohort",
    with_literature: bool = True,
    centres: Collection[str] | None = None,
) -> Snapshot:
    """The selected patients (a centre, or a set of `centres`, and/or a source; None = all) and
    the literature cases."""
    centre_t: Table = Centre.__table__  # type: ignore[assignment]
    patient_t: Table = Patient.__table__  # type: ignore[assignment]
    centre_rows = session.execute(select(centre_t).order_by(centre_t.c.centre)).all()
    centre_code = {c.id: c.centre for c in centre_rows}
    wanted = _wanted_centres(centre, centres)
    for code in sorted(wanted or ()):
        if code not in centre_code.values():
            known = ", ".join(sorted(centre_code.values())) or "none"
            raise SelectionError(
                f"there is no centre {code!r} in the database (centres: {known}); "
                "give a centre code exactly as in the centres sheet"
            )
    patients = session.execute(select(patient_t).order_by(patient_t.c.patient_id)).all()
    pseudonyms = {p.id: p.patient_id for p in patients}

    def selected(p: Any) -> bool:
        return (wanted is None or centre_code[p.centre_pk] in wanted) and (
            source is None or p.source == source
        )

    chosen = [p for p in patients if selected(p)]
    literature = [p for p in patients if p.source == "literature"] if with_literature else []
    in_dump = list({p.id: p for p in chosen + literature}.values())
    used_centres = {centre_code[p.centre_pk] for p in chosen}
    # The patients whose rows are read, in the order their rows' texts sort.
    order = sorted((p.id for p in in_dump), key=lambda pk: _text_order(pseudonyms[pk]))
    dates = _Dates(session.get_bind().dialect)

    digest = hashlib.sha256()
    records: dict[type[Base], dict[int, tuple[Any, ...]]] = {}
    parts: dict[str, type[Base] | None] = {"centre": None, "patient": None}
    parts.update({t.__tablename__: t for t in _CHILD_TABLES})
    for name in sorted(parts):
        table = parts[name]
        if name == "centre":
            columns = _data_columns(centre_t)
            rows = [
                tuple(getattr(c, col.name) for col in columns)
                for c in centre_rows
                if c.centre in used_centres
            ]
            _whole_table(digest, name, columns, rows, {})
        elif name == "patient":
            columns = _data_columns(patient_t)
            rows = [tuple(getattr(p, col.name) for col in columns) for p in in_dump]
            keys = {i: centre_code for i, c in enumerate(columns) if c.name == "centre_pk"}
            _whole_table(digest, name, columns, rows, keys)
        else:
            assert table is not None
            records[table] = _read_child(session, digest, table, order, pseudonyms, dates)
    example = _example_fingerprint()
    batches = set(session.scalars(select(ImportBatch.sha256)))

    def build(p: Any) -> PatientData:
        pk = p.id

        def of(table: type[Base]) -> tuple[Any, ...]:
            return records[table].get(pk, ())

        return PatientData(
            patient_id=p.patient_id,
            centre=centre_code[p.centre_pk],
            sex=p.sex,
            birth_year_month=p.birth_year_month,
            source=p.source,
            citation=p.citation,
            last_follow_up=p.last_follow_up,
            vital_status=p.vital_status,
            variants=of(Variant),
            manifestations=of(Manifestation),
            courses=of(TreatmentCourse),
            doses=of(Dose),
            assessments=of(Assessment),
            labs=of(LabResult),
            adverse_events=of(AdverseEvent),
            responses=of(TreatmentResponse),
            hsct=of(Hsct),
            biomarkers=of(BiomarkerResult),
        )

    return Snapshot(
        patients=tuple(build(p) for p in chosen),
        centres=tuple(
            CentreData(c.centre, c.name, c.country, c.data_cutoff)
            for c in centre_rows
            if c.centre in used_centres
        ),
        literature=tuple(build(p) for p in literature),
        sha256=digest.hexdigest(),
        synthetic_example=example is not None and example in batches,
        centre_filter=", ".join(sorted(wanted)) if wanted is not None else None,
        source_filter=source,
    )


def _wanted_centres(centre: str | None, centres: Collection[str] | None) -> frozenset[str] | None:
    if centre is not None and centres is not None:
        raise SelectionError("give one centre or a set of centres, not both")
    if centres is not None:
        if not centres:
            raise SelectionError("the set of centres is empty; give at least one centre code")
        return frozenset(centres)
    return None if centre is None else frozenset({centre})


def _whole_table(
    digest: Digest,
    name: str,
    columns: Sequence[Any],
    rows: Sequence[Row],
    keys: dict[int, dict[Any, Any]],
) -> None:
    part = _TableDigest(digest, name, [c.name for c in columns])
    part.add_sorted(sorted(_row_texts(rows, list(keys.items()))))


def _read_child(
    session: Session,
    digest: Digest,
    table: type[Base],
    order: Sequence[int],
    pseudonyms: dict[int, str],
    dates: _Dates,
) -> dict[int, tuple[Any, ...]]:
    """Hash a child table's rows of the patients in `order` and build their records, by patient.

    Batches follow the text order of the patients, so sorting each batch's texts sorts the table.
    Within a patient, rows come in id order (as entered), which breaks ties of the records' sorts.
    """
    core: Table = table.__table__  # type: ignore[assignment]
    columns = _data_columns(core)
    names = [c.name for c in columns]
    at = names.index("patient_pk")
    if at != 0:  # pragma: no cover - a schema change that would break the batch-wise sort
        raise AssertionError(f"{core.name}: the patient key must be the first data column")
    date_at = [i for i, c in enumerate(columns) if isinstance(c.type, Date)]
    read = [type_coerce(c, String) if i in date_at else c for i, c in enumerate(columns)]
    stmt = (
        select(*read)
        .where(core.c.patient_pk.in_(bindparam("pks", expanding=True)))
        .order_by(core.c.patient_pk, core.c.id)
    )
    swaps: list[tuple[int, dict[Any, Any]]] = [(at, pseudonyms)]
    swaps += [(i, dates.text) for i in date_at]
    make = _RECORDS.get(table)
    build = make(names, dates) if make is not None else None
    part = _TableDigest(digest, core.name, names)
    by_patient: dict[int, tuple[Any, ...]] = {}
    for pks in _batches(order, BATCH):
        rows = session.execute(stmt, {"pks": pks}).all()
        if not rows:
            continue
        for i in date_at:
            dates.days(row[i] for row in rows)
        texts = _row_texts(rows, swaps)
        texts.sort()
        part.add_sorted(texts)
        if build is not None:
            for pk, group in groupby(rows, key=itemgetter(at)):
                by_patient[pk] = build(list(group))
    return by_patient


# ---- records the analysis reads, from a patient's rows (in id order) ----------------------------

Build = Callable[[list[Row]], tuple[Any, ...]]


def _ratio(value: float | None, limit: float | None) -> float | None:
    if value is None or limit is None or limit <= 0:
        return None
    return value / limit


def _picker(names: Sequence[str], *wanted: str) -> Callable[[Row], tuple[Any, ...]]:
    return itemgetter(*(names.index(n) for n in wanted))


def _variants(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(names, "gene", "hgvs_p", "domain")
    return lambda rows: tuple(VariantData(*pick(r)) for r in rows)


def _manifestations(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(names, "hpo_id", "hpo_label", "status_at_start")
    key = attrgetter("hpo_id")
    return lambda rows: tuple(sorted((ManifestationData(*pick(r)) for r in rows), key=key))


def _courses(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(
        names, "course_no", "drug", "start_date", "stop_date", "stop_reason", "stop_detail",
        "indication", "prior_therapies", "concomitant_therapies", "azole_comedication",
    )  # fmt: skip
    day = dates.day

    def course(r: Row) -> CourseData:
        no, drug, start, stop, *rest = pick(r)
        return CourseData(no, drug, day[start], day[stop], *rest)  # type: ignore[arg-type]

    key = attrgetter("start", "course_no")
    return lambda rows: tuple(sorted(map(course, rows), key=key))


def _doses(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(
        names, "course_no", "date", "mg_per_dose", "doses_per_day", "mg_per_kg_day",
        "mg_per_m2_day",
    )  # fmt: skip
    day = dates.day

    def dose(r: Row) -> DoseData:
        no, on, *rest = pick(r)
        return DoseData(no, day[on], *rest)  # type: ignore[arg-type]

    key = attrgetter("course_no", "on")
    return lambda rows: tuple(sorted(map(dose, rows), key=key))


def _assessments(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(names, "date", "score", "score_version", "total", "assessor_role")
    day = dates.day

    def assessment(r: Row) -> AssessmentData:
        on, score, version, total, role = pick(r)
        return AssessmentData(day[on], score, version, total, role)  # type: ignore[arg-type]

    key = attrgetter("on", "score")
    return lambda rows: tuple(sorted(map(assessment, rows), key=key))


def _labs(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(
        names, "date", "analyte", "ctcae_term", "ctcae_grade", "ctcae_version",
        "canonical_value", "uln", "value",
    )  # fmt: skip
    day = dates.day
    shared: dict[Any, Any] = {}  # one object per distinct analyte, CTCAE term and version
    share = shared.setdefault

    def lab(r: Row) -> LabData:
        on, analyte, term, grade, version, canonical, uln, value = pick(r)
        ratio = None
        if uln is not None and canonical is not None:
            if value:  # ULN is stored in the reported unit; scale it like the value was scaled.
                uln = uln * canonical / value
            ratio = _ratio(canonical, uln)
        return LabData(
            day[on], share(analyte, analyte), share(term, term), grade,  # type: ignore[arg-type]
            share(version, version), ratio,
        )  # fmt: skip

    key = attrgetter("on", "analyte")
    return lambda rows: tuple(sorted(map(lab, rows), key=key))


def _adverse_events(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(
        names, "course_no", "term", "category", "onset_date", "grade", "serious", "attribution"
    )
    day = dates.day

    def event(r: Row) -> AdverseEventData:
        no, term, category, onset, *rest = pick(r)
        return AdverseEventData(no, term, category, day[onset], *rest)  # type: ignore[arg-type]

    key = attrgetter("onset", "term")
    return lambda rows: tuple(sorted(map(event, rows), key=key))


def _responses(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(names, "course_no", "date", "manifestation", "response")
    day = dates.day

    def response(r: Row) -> ResponseData:
        no, on, manifestation, value = pick(r)
        return ResponseData(no, day[on], manifestation, value)  # type: ignore[arg-type]

    def key(r: ResponseData) -> tuple[int, dt.date, str]:
        return (r.course_no, r.on, r.manifestation or "")

    return lambda rows: tuple(sorted(map(response, rows), key=key))


def _hsct(names: Sequence[str], dates: _Dates) -> Build:
    at = names.index("date")
    day = dates.day
    return lambda rows: tuple(sorted(day[r[at]] for r in rows))


def _biomarkers(names: Sequence[str], dates: _Dates) -> Build:
    pick = _picker(names, "date", "marker", "marker_detail", "value", "unit", "ref_low", "ref_high")
    day = dates.day

    def biomarker(r: Row) -> BiomarkerData:
        on, *rest = pick(r)
        return BiomarkerData(day[on], *rest)  # type: ignore[arg-type]

    key = attrgetter("on", "marker")
    return lambda rows: tuple(sorted(map(biomarker, rows), key=key))


_RECORDS: dict[type[Base], Callable[[Sequence[str], _Dates], Build]] = {
    BiomarkerResult: _biomarkers,
    Variant: _variants,
    Manifestation: _manifestations,
    TreatmentCourse: _courses,
    Dose: _doses,
    Assessment: _assessments,
    LabResult: _labs,
    AdverseEvent: _adverse_events,
    TreatmentResponse: _responses,
    Hsct: _hsct,
}
