"""The centre dashboard: per centre, patients on drug, visits due in 30 days, overdue visits, open signals,
completeness; and, for each number, the patients it counts.

``build_parts`` computes centres' parts with the monitoring engine (``visit_statuses`` on the centre's
patients, then ``centre_summary`` on those statuses); ``build_dashboard`` puts the parts of the centres the
caller's scope gives it together (the route never filters by centre itself). ``DashboardCache`` keeps the
parts per as-of date at a data version, the newest audit event that may change data: every change writes
one in its own transaction, with its centre, so after a change only the centres it touched are recomputed
and a cached part is never stale. ``pooled`` folds the rows into one for analysts.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from jakreg.monitoring.types import CentreSummary, completeness_pct, due_soon, on_drug
from jakreg.monitoring.visits import centre_summary, visit_statuses
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import AuditEvent, Centre, Patient, TreatmentCourse
from jakreg.web.errors import WebError

ALL_CENTRES = "all centres"
# what a number on the dashboard counts; the key of its list of patients
SHOWS: dict[str, str] = {
    "on_drug": "patients on drug",
    "due30": "visits due in the next 30 days",
    "overdue": "overdue visits",
    "signals": "open safety signals",
}
BAD_AS_OF = (
    "as_of must be a date written YYYY-MM-DD, not {value!r}; for example ?as_of={today} "
    "(leave it out for today)"
)
BAD_SHOW = "show must be one of: {shows}, not {value!r}"


class BadParameter(WebError):
    status = 400


def parse_as_of(value: str, today: dt.date | None = None) -> dt.date:
    """``?as_of=YYYY-MM-DD``; empty means today. A bad value is a 400 that says how to write it."""
    today = today or dt.date.today()
    text = value.strip()
    if not text:
        return today
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(BAD_AS_OF.format(value=value[:40], today=today.isoformat())) from None


@dataclass(frozen=True)
class DashboardRow:
    centre: str  # the centre code, or ALL_CENTRES for the pooled row
    name: str
    patients_on_drug: int
    due_next_30_days: int
    overdue: int
    open_signals: int
    open_critical: int
    done: int
    partial: int
    completeness_pct: float | None  # done / (done + partial + overdue), as centre_summary


@dataclass(frozen=True)
class Dashboard:
    as_of: dt.date
    rows: list[DashboardRow]
    protocol_versions: tuple[str, ...]
    # (centre, show) -> [(pseudonym, how many it counts)], by pseudonym
    concerned: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    pooled: bool = False

    def patients(self, centre: str, show: str) -> list[tuple[str, int]]:
        return self.concerned.get((centre, show), [])


@dataclass(frozen=True)
class CentrePart:
    """One centre's row, the patients behind its numbers, and the protocol versions its visits follow."""

    row: DashboardRow
    concerned: dict[str, list[tuple[str, int]]]
    protocol_versions: tuple[str, ...]


# Up to this many patients, visits are computed from those patients' records, read by primary key; above it
# from every record, filtered by centre (one scan: cheaper than a long IN list for most of the registry).
MAX_PKS = 3000


def build_parts(session: Session, names: dict[str, str], as_of: dt.date) -> dict[str, CentrePart]:
    """These centres' parts of the dashboard, from the engine: ``visit_statuses`` once for them all,
    then ``centre_summary`` on those statuses. ``names``: centre code -> name."""
    wanted = sorted(names)
    if not wanted:
        return {}
    pks = list(
        session.scalars(
            select(Patient.id).join(Centre, Centre.id == Patient.centre_pk)
            .where(Centre.centre.in_(wanted))
        )
    )  # fmt: skip
    statuses = visit_statuses(session, as_of=as_of, centres=wanted,
                              patient_pks=pks if len(pks) <= MAX_PKS else None)  # fmt: skip
    summaries = centre_summary(session, as_of=as_of, centres=wanted, statuses=statuses)
    concerned: dict[str, dict[str, Counter[str]]] = {
        c: {show: Counter() for show in SHOWS} for c in wanted
    }
    versions: dict[str, set[str]] = {c: set() for c in wanted}
    for s in statuses:
        versions[s.centre].add(s.protocol_version)
        if s.status == "overdue":
            concerned[s.centre]["overdue"][s.pseudonym] += 1
        if due_soon(s, as_of):
            concerned[s.centre]["due30"][s.pseudonym] += 1
    for pid, centre, start, stop in session.execute(
        select(Patient.patient_id, Centre.centre, TreatmentCourse.start_date,
               TreatmentCourse.stop_date)
        .join(Centre, Centre.id == Patient.centre_pk)
        .join(TreatmentCourse, TreatmentCourse.patient_pk == Patient.id)
        .where(Centre.centre.in_(wanted))
    ):  # fmt: skip
        if on_drug(start, stop, as_of):  # as centre_summary counts them
            concerned[centre]["on_drug"][pid] = 1
    signals: Counter[str] = Counter()
    critical: Counter[str] = Counter()
    for centre, pid, severity in session.execute(
        select(SafetySignal.centre, Patient.patient_id, SafetySignal.severity)
        .join(Patient, Patient.id == SafetySignal.patient_pk)
        .where(SafetySignal.state == "open", SafetySignal.centre.in_(wanted))
    ):
        signals[centre] += 1
        critical[centre] += severity == "critical"
        concerned[centre]["signals"][pid] += 1
    return {
        s.centre: CentrePart(
            _row(s, names[s.centre], signals[s.centre], critical[s.centre]),
            {show: sorted(c.items()) for show, c in concerned[s.centre].items() if c},
            tuple(sorted(versions[s.centre])),
        )
        for s in summaries
    }


def centre_names(session: Session, centres: list[str]) -> dict[str, str]:
    """The existing centres among these, with their names, by code."""
    rows = session.execute(
        select(Centre.centre, Centre.name).where(Centre.centre.in_(sorted(set(centres))))
    ).all()
    return dict(sorted((code, name) for code, name in rows))


def combine(parts: list[CentrePart], as_of: dt.date) -> Dashboard:
    versions = tuple(sorted({v for p in parts for v in p.protocol_versions}))
    concerned = {(p.row.centre, show): ids for p in parts for show, ids in p.concerned.items()}
    return Dashboard(as_of, [p.row for p in parts], versions, concerned)


def build_dashboard(session: Session, centres: list[str], as_of: dt.date) -> Dashboard:
    """The dashboard of these centres (the caller's visible ones, already scoped) as of a date."""
    names = centre_names(session, centres)
    parts = build_parts(session, names, as_of)
    return combine([parts[c] for c in names], as_of)


def _row(s: CentreSummary, name: str, signals: int, critical: int) -> DashboardRow:
    return DashboardRow(s.centre, name, s.patients_on_drug, s.due_next_30_days, s.overdue,
                        signals, critical, s.done, s.partial, s.completeness_pct)  # fmt: skip


def pooled(board: Dashboard) -> Dashboard:
    """One row for every centre together, and no patient lists (analysts see pooled counts only)."""
    rows = board.rows
    done, partial, overdue = (
        sum(getattr(r, k) for r in rows) for k in ("done", "partial", "overdue")
    )
    total = DashboardRow(
        ALL_CENTRES, f"{len(rows)} centre{'' if len(rows) == 1 else 's'}",
        sum(r.patients_on_drug for r in rows), sum(r.due_next_30_days for r in rows), overdue,
        sum(r.open_signals for r in rows), sum(r.open_critical for r in rows), done, partial,
        completeness_pct(done, partial, overdue),
    )  # fmt: skip
    return Dashboard(board.as_of, [total], board.protocol_versions, {}, pooled=True)


# Audit events that change nothing the dashboard counts (logins, tokens, exports, reports, data queries).
NOT_DATA = ("user", "report", "workbook", "data_query")
# More events than this since the cached version: recompute every centre rather than read them all.
MAX_EVENTS = 20_000


def data_version(session: Session) -> int:
    """The newest audit event that may change the data: every change to patient records, signals and
    protocols writes one in its own transaction. A backward primary-key scan that stops at the first
    such event (logins after it are skipped, not counted)."""
    found = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.entity.not_in(NOT_DATA))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return int(found or 0)


def changed_centres(session: Session, after: int, upto: int) -> set[str] | None:
    """The centres whose data changed between two versions; None for every centre (a change without a
    centre, such as a protocol load, or too many events to read)."""
    rows = session.execute(
        select(AuditEvent.centre, AuditEvent.entity)
        .where(AuditEvent.id > after, AuditEvent.id <= upto)
        .order_by(AuditEvent.id)
        .limit(MAX_EVENTS + 1)
    ).all()
    if len(rows) > MAX_EVENTS:
        return None
    out: set[str] = set()
    for centre, entity in rows:
        if entity in NOT_DATA:
            continue
        if centre is None:
            return None
        out.add(centre)
    return out


@dataclass
class _Snapshot:
    version: int
    parts: dict[str, CentrePart] = field(default_factory=dict)


class DashboardCache:
    """Centre parts per as-of date, at a data version; after a change only the centres it touched are
    recomputed. ``size``: as-of dates kept (least recently used dropped).

    One lock: requests wait for a recomputation in progress rather than repeat it."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._dates: OrderedDict[dt.date, _Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # centre parts reused
        self.misses = 0  # centre parts computed

    def get(self, session: Session, centres: list[str], as_of: dt.date) -> Dashboard:
        head = data_version(session)
        names = centre_names(session, centres)
        with self._lock:
            snap = self._dates.get(as_of)
            if snap is None:
                snap = self._dates[as_of] = _Snapshot(head)
                while len(self._dates) > self.size:
                    self._dates.popitem(last=False)
            elif head > snap.version:
                changed = changed_centres(session, snap.version, head)
                if changed is None:
                    snap.parts.clear()
                for centre in changed or ():
                    snap.parts.pop(centre, None)
                snap.version = head
            self._dates.move_to_end(as_of)
            missing = {c: n for c, n in names.items() if c not in snap.parts}
            snap.parts.update(build_parts(session, missing, as_of))
            self.misses += len(missing)
            self.hits += len(names) - len(missing)
            parts = [snap.parts[c] for c in names]
        return combine(parts, as_of)
