"""The report's study-conduct part for a study run under a protocol: visit adherence and completeness by
centre and by visit, and safety signals by rule and state, with a figure of adherence by centre.

``load_visit_conduct`` reads the database (visits as of the cut-off, or the report date); the section
builder and the figure are pure.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from matplotlib.axes import Axes
from sqlalchemy import select

from jakreg.monitoring.types import completeness_pct
from jakreg.report.context import FigureSlot, Section
from jakreg.report.figures_questions import Drawing
from jakreg.report.tables import Cell, Table, suppress

# statuses counted as "expected by now": the window has opened (upcoming and not applicable are not)
COUNTED = ("done", "partial", "due", "overdue")
FIGURE = "visit_adherence"


@dataclass(frozen=True)
class SignalCount:
    rule_id: str
    rule_version: str
    source: str
    severity: str
    state: str
    n: int


@dataclass(frozen=True)
class VisitConduct:
    as_of: dt.date
    protocol_stored: bool
    protocol_versions: tuple[str, ...]  # labels of the versions in force
    by_centre: dict[tuple[str, str], int]  # (centre, status) -> visits
    by_visit: dict[tuple[str, str, str], int]  # (visit, label, status) -> visits
    visit_order: tuple[str, ...]  # visit ids in schedule order
    signals: tuple[SignalCount, ...]


def load_visit_conduct(url: str | None, *, centre: str | None = None,
                       cutoff: dt.date | None = None) -> VisitConduct:  # fmt: skip
    """Visit statuses as of ``cutoff`` (default today) and signal counts on records up to it."""
    from sqlalchemy import func

    from jakreg.monitoring.visits import visit_statuses
    from jakreg.protocol.store import ProtocolVersion, active_protocols
    from jakreg.store import db
    from jakreg.store.signal_tables import SafetySignal
    from jakreg.store.tables import AdverseEvent, LabResult, TreatmentCourse

    as_of = cutoff or dt.date.today()
    centres = None if centre is None else [centre]
    with db.open_session(url) as session:
        stored = bool(session.scalar(select(func.count()).select_from(ProtocolVersion)))
        versions = active_protocols(session)
        by_centre: Counter[tuple[str, str]] = Counter()
        by_visit: Counter[tuple[str, str, str]] = Counter()
        # schedule order: a visit's mean position within its course's visits (planned-date order)
        position: dict[str, list[int]] = {}
        if stored:
            statuses = visit_statuses(session, as_of=as_of, centres=centres, versions=versions)
            at: Counter[tuple[str, int]] = Counter()
            for s in sorted(statuses, key=lambda s: (s.pseudonym, s.course_id, s.planned)):
                by_centre[(s.centre, s.status)] += 1
                by_visit[(s.visit, s.label, s.status)] += 1
                position.setdefault(s.visit, []).append(at[(s.pseudonym, s.course_id)])
                at[(s.pseudonym, s.course_id)] += 1
        dated = {
            "lab_result": (LabResult.id, LabResult.date),
            "adverse_event": (AdverseEvent.id, AdverseEvent.onset_date),
            "treatment_course": (TreatmentCourse.id, TreatmentCourse.start_date),
        }
        counts: Counter[tuple[str, str, str, str, str]] = Counter()
        for table, (pk_col, date_col) in dated.items():
            q = (
                select(SafetySignal.rule_id, SafetySignal.rule_version, SafetySignal.source,
                       SafetySignal.severity, SafetySignal.state)
                .join(pk_col.table, pk_col == SafetySignal.record_pk)
                .where(SafetySignal.record_table == table, date_col <= as_of)
            )  # fmt: skip
            if centre is not None:
                q = q.where(SafetySignal.centre == centre)
            for row in session.execute(q):
                counts[tuple(row)] += 1  # type: ignore[index]
    order = tuple(sorted(position, key=lambda v: (sum(position[v]) / len(position[v]), v)))
    signals = tuple(SignalCount(*k, n=n) for k, n in sorted(counts.items()))
    labels = tuple(v.label for v in versions)
    return VisitConduct(as_of, stored, labels, dict(by_centre), dict(by_visit), order, signals)


def visit_conduct_section(data: VisitConduct, suppress_below: int | None = None) -> Section:
    """Visit adherence by centre and by visit, and signals by rule and state (tables and a figure)."""
    text: list[str] = []
    tables: list[Table] = []
    figures: tuple[FigureSlot, ...] = ()
    if not data.protocol_stored:
        text.append(
            "No protocol is stored in this database (jakreg protocol load FILE), so visit adherence is "
            "not reported: a study not run under a protocol has no expected visits."
        )
    else:
        centres = sorted({c for c, _ in data.by_centre})
        rows = []
        for c in centres:
            n = {s: data.by_centre.get((c, s), 0) for s in (*COUNTED, "upcoming", "not_applicable")}
            rows.append((c, sum(n[s] for s in COUNTED), n["done"], n["partial"], n["due"],
                         n["overdue"], n["not_applicable"], completeness_pct(n["done"], n["partial"], n["overdue"])))  # fmt: skip
        tables.append(Table(
            "visit_adherence_by_centre", f"Visit adherence by centre as of {data.as_of}",
            ("centre", "expected", "done", "partial", "due", "overdue", "not applicable",
             "completeness %"),
            tuple(rows),
            count_columns=("expected", "done", "partial", "due", "overdue", "not applicable"),
            derived_columns=("completeness %",),
            note="Expected: visits whose window has opened by the date. Completeness = done / (done + "
                 "partial + overdue); a visit whose window is still open is not counted against it.",
        ))  # fmt: skip
        labels = {v: lab for v, lab, _ in data.by_visit}
        vrows = []
        for v in data.visit_order:
            n = {s: data.by_visit.get((v, labels[v], s), 0) for s in (*COUNTED, "not_applicable")}
            if not sum(n[s] for s in COUNTED):
                continue  # no window opened yet
            vrows.append((v, labels[v], sum(n[s] for s in COUNTED), n["done"], n["partial"], n["due"],
                          n["overdue"], completeness_pct(n["done"], n["partial"], n["overdue"])))  # fmt: skip
        tables.append(Table(
            "visit_adherence_by_visit", f"Visit adherence by visit as of {data.as_of}",
            ("visit", "label", "expected", "done", "partial", "due", "overdue", "completeness %"),
            tuple(vrows),
            count_columns=("expected", "done", "partial", "due", "overdue"),
            derived_columns=("completeness %",),
            note="Visits in schedule order; a visit whose window has opened for no course yet is not listed.",
        ))  # fmt: skip
        done = sum(n for (_, s), n in data.by_centre.items() if s == "done")
        overdue = sum(n for (_, s), n in data.by_centre.items() if s == "overdue")
        text.append(
            f"Visits as of {data.as_of} under {'; '.join(data.protocol_versions)}: {done} done and "
            f"{overdue} overdue across {len(centres)} centre(s). Statuses are computed from the records "
            "in the database (jakreg monitor shows the same per visit)."
        )
        figures = (FigureSlot(FIGURE, "Visit adherence by centre",
                              f"Visits whose window has opened by {data.as_of}, by status and centre."),)  # fmt: skip
    states = ("open", "acknowledged", "closed")
    per_rule: dict[tuple[str, str, str, str], Counter[str]] = {}
    for s in data.signals:
        key = (s.rule_id, s.rule_version, s.severity, s.source)
        per_rule.setdefault(key, Counter())[s.state] += s.n
    srows: tuple[tuple[Cell, ...], ...] = tuple(
        (r, v, sev, c["open"], c["acknowledged"], c["closed"], src)
        for (r, v, sev, src), c in sorted(per_rule.items())
    )
    tables.append(Table(
        "signals_by_rule", "Safety signals by rule and state",
        ("rule", "version", "severity", "open", "acknowledged", "closed", "source"), srows,
        count_columns=states,
        note="Signals on records dated up to the data cut; states as they stand when the report is made. "
             "A signal says that a value meets a cited threshold, not what to do.",
    ))  # fmt: skip
    total = sum(s.n for s in data.signals)
    text.append(f"{total} safety signal(s) on records up to {data.as_of} (jakreg signals derive).")
    return Section("conduct_visits", "Study conduct: visits and safety signals", tuple(text),
                   tuple(suppress(t, suppress_below) for t in tables), figures)  # fmt: skip


COLOURS = {"done": "#2b8a3e", "partial": "#f08c00", "due": "#1971c2", "overdue": "#c92a2a"}


def adherence_plot(ax: Axes, data: VisitConduct) -> Axes:
    """Horizontal stacked bars: one per centre, visits by status."""
    centres = sorted({c for c, _ in data.by_centre})
    left = [0] * len(centres)
    for status in COUNTED:
        n = [data.by_centre.get((c, status), 0) for c in centres]
        ax.barh(centres, n, left=left, color=COLOURS[status], label=status)
        left = [a + b for a, b in zip(left, n, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("visits (window opened)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=len(COUNTED), fontsize=8,
              frameon=False)  # fmt: skip
    return ax


def drawing(data: VisitConduct) -> Drawing:
    n = len({c for c, _ in data.by_centre})
    return (lambda ax: adherence_plot(ax, data)), (7.0, 1.8 + 0.4 * max(n, 1)), None
