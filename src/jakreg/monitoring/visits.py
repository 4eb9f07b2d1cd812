"""Visit statuses as of a date, from the records already in the database; per-centre summaries."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from jakreg.errors import JakregError
from jakreg.monitoring.types import (
    CentreSummary,
    VisitStatus,
    completeness_pct,
    due_soon,
    on_drug,
)
from jakreg.protocol.schedule import PlannedVisit, expected_visits
from jakreg.protocol.schema import Item, ItemKind
from jakreg.protocol.store import ActiveProtocol, active_protocols, version_for
from jakreg.store.tables import (
    AdverseEvent,
    Assessment,
    BiomarkerResult,
    BodyMeasurement,
    Centre,
    Dose,
    Hsct,
    LabResult,
    Patient,
    TreatmentCourse,
    TreatmentResponse,
)


class UnknownCentreError(JakregError):
    pass


class _Dates:
    """Sorted record dates per key, as ISO text ('YYYY-MM-DD' sorts as the date does); 'any date in
    [a, b]' by bisection (``_satisfied``). Text, not dt.date: parsing a million dates costs more than the whole lookup."""

    def __init__(self) -> None:
        self.by: dict[object, list[str]] = defaultdict(list)

    def freeze(self) -> None:
        for v in self.by.values():
            v.sort()


def _centres(session: Session, centres: Iterable[str] | None) -> dict[int, str]:
    rows = dict(session.execute(select(Centre.id, Centre.centre)).all())
    if centres is None:
        return rows
    wanted = set(centres)
    unknown = sorted(wanted - set(rows.values()))
    if unknown:
        raise UnknownCentreError(f"no centre {', '.join(map(repr, unknown))} in the database")
    return {k: v for k, v in rows.items() if v in wanted}


def _records(
    session: Session,
    pks: set[int],
    as_of: dt.date,
    codes: dict[ItemKind, set[str]],
    only: frozenset[int] | None = None,
) -> _Dates:
    """Every record date that can satisfy an item, keyed by (patient, kind, code).

    ``only``: the patients asked for by primary key; their rows alone are read (one patient's page)."""
    d = _Dates()
    by = d.by

    def rows(table: Any, date: Any, *extra: Any, where: Any = None) -> Any:
        """(patient_pk, *extra, [ISO dates]) of the records dated on or before ``as_of``: one row per
        key, the dates joined in SQL (a tenth of the rows to fetch)."""
        dates = func.aggregate_strings(cast(date, String(10)), ",")
        stmt = (select(table.patient_pk, *extra, dates).where(date <= as_of)
                .group_by(table.patient_pk, *extra))  # fmt: skip
        if where is not None:
            stmt = stmt.where(where)
        if only is not None:
            stmt = stmt.where(table.patient_pk.in_(sorted(only)))
        for row in session.connection().execute(stmt).all():  # Core rows: no ORM loading
            if row[0] in pks:
                yield *row[:-1], row[-1].split(",")

    for pk, dates in rows(Assessment, Assessment.date):
        by[(pk, "assessment", "")].extend(dates)
    labs = LabResult.analyte.in_(sorted(codes[ItemKind.lab]))
    for pk, code, dates in rows(LabResult, LabResult.date, LabResult.analyte, where=labs):
        by[(pk, "lab", code)].extend(dates)
    markers = BiomarkerResult.marker.in_(sorted(codes[ItemKind.biomarker]))
    for pk, code, dates in rows(BiomarkerResult, BiomarkerResult.date, BiomarkerResult.marker,
                                where=markers):  # fmt: skip
        by[(pk, "biomarker", code)].extend(dates)
    for table in (BodyMeasurement, Dose):
        for pk, dates in rows(table, table.date, where=table.weight_kg.is_not(None)):
            by[(pk, "weight", "")].extend(dates)
        for pk, dates in rows(table, table.date, where=table.height_cm.is_not(None)):
            by[(pk, "height", "")].extend(dates)
    for pk, dates in rows(AdverseEvent, AdverseEvent.onset_date):
        by[(pk, "ae", "")].extend(dates)
    for pk, course, dates in rows(TreatmentResponse, TreatmentResponse.date,
                                  TreatmentResponse.course_no):  # fmt: skip
        by[(pk, "response", course)].extend(dates)
    d.freeze()
    return d


COURSE = -1  # in a requirement: the visit's own course number (responses are recorded per course)
Needs = tuple[tuple[tuple[str, object], ...], ...]


def _needs(item: Item) -> Needs:
    """What satisfies an item: alternatives, each a set of (kind, code) that must all have a record in
    the window. AE review: an AE record or an assessment (the review happens at a scored visit)."""
    match item.kind:
        case ItemKind.assessment:
            return ((("assessment", ""),),)
        case ItemKind.lab | ItemKind.biomarker:
            return (tuple((item.kind.value, c) for c in item.codes),)
        case ItemKind.body:
            return ((("weight", ""), ("height", "")),)
        case ItemKind.ae_review:
            return ((("ae", ""),), (("assessment", ""),))
        case ItemKind.response:
            return ((("response", COURSE),),)
    return ()  # pragma: no cover


def _satisfied(d: _Dates, needs: Needs, pk: int, course: int, a: str, b: str) -> bool:
    by = d.by
    for alternative in needs:
        for kind, code in alternative:
            dates = by.get((pk, kind, course if code == COURSE else code))
            if not dates or bisect_right(dates, b) <= bisect_left(dates, a):
                break
        else:
            return True
    return False


def visit_statuses(
    session: Session,
    *,
    as_of: dt.date,
    centres: Iterable[str] | None = None,
    versions: list[ActiveProtocol] | None = None,
    patient_pks: Iterable[int] | None = None,
) -> list[VisitStatus]:
    """Each expected visit of every course, with its status as of ``as_of`` (records after it unseen).

    done: every required item has a record in the window; partial: some (``missing`` lists the rest);
    due: window open, nothing yet; upcoming: window not yet open; overdue: window closed, nothing;
    not_applicable: planned after the course stopped, death, HSCT or loss to follow-up (``reason``; a
    patient marked lost_to_follow_up is lost after last_follow_up).
    ``patient_pks``: only these patients (by primary key), reading only their records."""
    centre_of = _centres(session, centres)
    versions = versions or active_protocols(session)
    only = None if patient_pks is None else frozenset(patient_pks)
    patient_query = select(
        Patient.id,
        Patient.patient_id,
        Patient.centre_pk,
        Patient.vital_status,
        Patient.last_follow_up,
        Patient.lost_to_follow_up,
    )
    if only is not None:
        patient_query = patient_query.where(Patient.id.in_(sorted(only)))
    patients = {
        pk: (pid, centre_of[cpk], vital, last, lost)
        for pk, pid, cpk, vital, last, lost in session.execute(patient_query)
        if cpk in centre_of
    }
    hsct: dict[int, dt.date] = {}
    for pk, date in session.execute(select(Hsct.patient_pk, Hsct.date)):
        if pk in patients and date <= as_of:
            hsct[pk] = min(date, hsct.get(pk, date))
    codes: dict[ItemKind, set[str]] = defaultdict(set)
    for version in versions:
        for item in version.protocol.items.values():
            codes[item.kind].update(item.codes)
    records = _records(session, set(patients), as_of, codes, only)
    needs_of = {id(v): {i: _needs(item) for i, item in v.protocol.items.items()} for v in versions}
    out: list[VisitStatus] = []
    course_query = select(
        TreatmentCourse.patient_pk,
        TreatmentCourse.course_no,
        TreatmentCourse.drug,
        TreatmentCourse.start_date,
        TreatmentCourse.stop_date,
    ).order_by(TreatmentCourse.patient_pk, TreatmentCourse.course_no)
    if only is not None:
        course_query = course_query.where(TreatmentCourse.patient_pk.in_(sorted(only)))
    courses = session.execute(course_query)
    for pk, course_no, drug, start, stop in courses:
        if pk not in patients or start > as_of + dt.timedelta(days=30):
            continue
        pid, centre, vital, last, lost_flag = patients[pk]
        seen_last = last if last is not None and last <= as_of else None
        death = seen_last if vital == "deceased" else None
        lost = seen_last if lost_flag == "yes" else None
        seen_stop = stop if stop is not None and stop <= as_of else None
        # each version's schedule contributes the visits planned while it is in force
        for planned in _merged(versions, start, seen_stop, as_of, death, hsct.get(pk), lost):
            version, v = planned
            needs = needs_of[id(version)]
            if not v.applicable:
                status, missing = "not_applicable", tuple[str, ...]()
            else:
                a, b = v.window_start.isoformat(), v.window_end.isoformat()
                missing = tuple(
                    i for i in v.items if not _satisfied(records, needs[i], pk, course_no, a, b)
                )
                if not missing:
                    status = "done"
                elif len(missing) < len(v.items):
                    status = "partial"
                elif as_of < v.window_start:
                    status = "upcoming"
                elif as_of <= v.window_end:
                    status = "due"
                else:
                    status = "overdue"
            out.append(VisitStatus(pid, centre, course_no, drug, v.visit, v.label, v.planned,
                                   v.window_start, v.window_end, status, missing, version.label,
                                   v.reason))  # fmt: skip
    return out


def _merged(
    versions: list[ActiveProtocol],
    start: dt.date,
    stop: dt.date | None,
    as_of: dt.date,
    death: dt.date | None,
    hsct: dt.date | None,
    lost: dt.date | None = None,
) -> list[tuple[ActiveProtocol, PlannedVisit]]:
    """Visits of the version in force on each visit's planned date (amendments apply forward)."""
    out: list[tuple[ActiveProtocol, PlannedVisit]] = []
    for version in versions:
        for v in expected_visits(version.protocol, start=start, stop=stop, as_of=as_of,
                                 death=death, hsct=hsct, lost=lost):  # fmt: skip
            if version_for(versions, v.planned) is version:
                out.append((version, v))
    out.sort(key=lambda pv: (pv[1].planned, pv[1].visit))
    return out


def centre_summary(
    session: Session,
    *,
    as_of: dt.date,
    centres: Iterable[str] | None = None,
    statuses: list[VisitStatus] | None = None,
) -> list[CentreSummary]:
    """Per centre: patients on drug on ``as_of``, visits due in the next 30 days, overdue, completeness."""
    centre_of = _centres(session, centres)
    if statuses is None:
        statuses = visit_statuses(session, as_of=as_of, centres=centres)
    running: dict[str, set[int]] = defaultdict(set)  # patients on drug, by centre
    for pk, cpk, start, stop in session.execute(
        select(Patient.id, Patient.centre_pk, TreatmentCourse.start_date, TreatmentCourse.stop_date)
        .join(TreatmentCourse, TreatmentCourse.patient_pk == Patient.id)
    ):  # fmt: skip
        if cpk in centre_of and on_drug(start, stop, as_of):
            running[centre_of[cpk]].add(pk)
    count: dict[str, dict[str, int]] = {c: defaultdict(int) for c in centre_of.values()}
    for s in statuses:
        c = count[s.centre]
        c[s.status] += 1
        if due_soon(s, as_of):
            c["due30"] += 1
    out = []
    for centre in sorted(count):
        c = count[centre]
        pct = completeness_pct(c["done"], c["partial"], c["overdue"])
        out.append(CentreSummary(centre, len(running[centre]), c["due30"], c["overdue"],
                                 c["done"], c["partial"], pct))  # fmt: skip
    return out
