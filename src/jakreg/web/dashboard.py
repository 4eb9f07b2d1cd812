"""The centre dashboard: per centre, patients on drug, visits due in 30 days, overdue visits, open signals,
completeness; and, for each number, the patients it counts.

``build_dashboard`` computes it with the monitoring engine (``visit_statuses`` once, then
``centre_summary`` on those statuses) for the centres the caller's scope gives it; the route never
filters by centre itself. ``DashboardCache`` keeps the result per (centres, as-of date, audit head): every
change to the data writes an audit event in the same transaction, so the newest event id is the data
version and a cached dashboard is never stale. ``pooled`` folds the rows into one for analysts.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jakreg.monitoring.types import CentreSummary, VisitStatus
from jakreg.monitoring.visits import centre_summary, visit_statuses
from jakreg.store.signal_tables import SafetySignal
from jakreg.store.tables import AuditEvent, Centre, Patient, TreatmentCourse
from jakreg.web.errors import WebError

ALL_CENTRES = "all centres"
DUE_DAYS = 30  # centre_summary's window for "due in the next 30 days"
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


def due_within_30_days(s: VisitStatus, as_of: dt.date) -> bool:
    """The visits centre_summary counts as due in the next 30 days (the same test, for their list)."""
    return (
        s.status in ("due", "upcoming", "partial")
        and s.window_end >= as_of
        and s.window_start <= as_of + dt.timedelta(days=DUE_DAYS)
    )


def build_dashboard(session: Session, centres: list[str], as_of: dt.date) -> Dashboard:
    """The dashboard of these centres (the caller's visible ones, already scoped) as of a date."""
    names = dict(
        session.execute(
            select(Centre.centre, Centre.name).where(Centre.centre.in_(sorted(centres)))
        ).all()
    )
    wanted = sorted(names)
    statuses = visit_statuses(session, as_of=as_of, centres=wanted)
    summaries = centre_summary(session, as_of=as_of, centres=wanted, statuses=statuses)
    concerned: dict[tuple[str, str], Counter[str]] = {}

    def count(centre: str, show: str, pseudonym: str) -> None:
        concerned.setdefault((centre, show), Counter())[pseudonym] += 1

    for s in statuses:
        if s.status == "overdue":
            count(s.centre, "overdue", s.pseudonym)
        if due_within_30_days(s, as_of):
            count(s.centre, "due30", s.pseudonym)
    on_drug: dict[str, set[str]] = {}
    for pid, centre, start, stop in session.execute(
        select(Patient.patient_id, Centre.centre, TreatmentCourse.start_date,
               TreatmentCourse.stop_date)
        .join(Centre, Centre.id == Patient.centre_pk)
        .join(TreatmentCourse, TreatmentCourse.patient_pk == Patient.id)
        .where(Centre.centre.in_(wanted))
    ):  # fmt: skip
        if start <= as_of and (stop is None or stop > as_of):  # as centre_summary counts them
            on_drug.setdefault(centre, set()).add(pid)
    for centre, pids in on_drug.items():
        concerned[(centre, "on_drug")] = Counter(dict.fromkeys(pids, 1))
    signals: Counter[str] = Counter()
    critical: Counter[str] = Counter()
    for centre, pid, severity in session.execute(
        select(SafetySignal.centre, Patient.patient_id, SafetySignal.severity)
        .join(Patient, Patient.id == SafetySignal.patient_pk)
        .where(SafetySignal.state == "open", SafetySignal.centre.in_(wanted))
    ):
        signals[centre] += 1
        critical[centre] += severity == "critical"
        count(centre, "signals", pid)
    rows = [_row(s, names[s.centre], signals[s.centre], critical[s.centre]) for s in summaries]
    versions = tuple(sorted({s.protocol_version for s in statuses}))
    lists = {k: sorted(c.items()) for k, c in concerned.items()}
    return Dashboard(as_of, rows, versions, lists)


def _row(s: CentreSummary, name: str, signals: int, critical: int) -> DashboardRow:
    return DashboardRow(s.centre, name, s.patients_on_drug, s.due_next_30_days, s.overdue,
                        signals, critical, s.done, s.partial, s.completeness_pct)  # fmt: skip


def pooled(board: Dashboard) -> Dashboard:
    """One row for every centre together, and no patient lists (analysts see pooled counts only)."""
    rows = board.rows
    done, partial, overdue = (
        sum(getattr(r, k) for r in rows) for k in ("done", "partial", "overdue")
    )
    base = done + partial + overdue
    total = DashboardRow(
        ALL_CENTRES, f"{len(rows)} centre{'' if len(rows) == 1 else 's'}",
        sum(r.patients_on_drug for r in rows), sum(r.due_next_30_days for r in rows), overdue,
        sum(r.open_signals for r in rows), sum(r.open_critical for r in rows), done, partial,
        round(100 * done / base, 1) if base else None,
    )  # fmt: skip
    return Dashboard(board.as_of, [total], board.protocol_versions, {}, pooled=True)


def data_version(session: Session) -> int:
    """The newest audit event's id: it changes with every change to the data (one indexed lookup)."""
    return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


class DashboardCache:
    """Dashboards by (centres, as-of date, data version); the least recently used dropped past ``size``."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Dashboard] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, session: Session, centres: list[str], as_of: dt.date) -> Dashboard:
        key = (tuple(sorted(centres)), as_of, data_version(session))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        board = build_dashboard(session, centres, as_of)  # outside the lock: others keep reading
        with self._lock:
            self._items[key] = board
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return board
