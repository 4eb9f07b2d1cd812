"""The report's study-conduct part: data quality findings by centre and rule, the rules with their sources,
and data queries by centre (open, answered, closed, median days to answer).

``load_conduct`` reads the database; ``conduct_section`` is pure and builds the section from that data.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from jakreg.quality.catalogue import RULES
from jakreg.report.context import Section
from jakreg.report.tables import Table, suppress
from jakreg.store.audit import as_utc


@dataclass(frozen=True)
class QueryFacts:
    centre: str
    state: str
    raised_at: dt.datetime
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class ConductData:
    findings: dict[tuple[str, str], int]  # (centre, rule) -> findings
    queries: tuple[QueryFacts, ...]


def load_conduct(url: str | None, *, centre: str | None = None,
                 cutoff: dt.date | None = None) -> ConductData:  # fmt: skip
    """The quality findings and queries of the database (one centre if given, records up to ``cutoff``)."""
    from jakreg.quality.run import run
    from jakreg.store import db
    from jakreg.store.workflow import DataQuery

    with db.open_session(url) as session:
        findings = run(session, centre=centre, as_of=cutoff).by_centre_and_rule()
        stmt = select(DataQuery.centre, DataQuery.state, DataQuery.raised_at, DataQuery.answered_at)
        if centre is not None:
            stmt = stmt.where(DataQuery.centre == centre)
        queries = tuple(
            QueryFacts(c, s, as_utc(r), None if a is None else as_utc(a))
            for c, s, r, a in session.execute(stmt.order_by(DataQuery.id))
        )
    return ConductData(findings, queries)


def days_to_answer(q: QueryFacts) -> float | None:
    if q.answered_at is None:
        return None
    return (q.answered_at - q.raised_at).total_seconds() / 86400


def conduct_section(data: ConductData, suppress_below: int | None = None) -> Section:
    rule_counts = Counter[str]()
    for (_, rule), n in data.findings.items():
        rule_counts[rule] += n
    rules = Table(
        "quality_rules", "Data quality rules",
        ("rule", "version", "checks", "source", "provisional", "findings"),
        tuple((r.id, r.version, r.title, r.source, "yes" if r.provisional else "no", rule_counts[r.id])
              for r in RULES),
        count_columns=("findings",),
    )  # fmt: skip
    by_centre = Table(
        "quality_findings", "Data quality findings by centre and rule", ("centre", "rule", "findings"),
        tuple((c, r, n) for (c, r), n in sorted(data.findings.items())),
        count_columns=("findings",),
    )  # fmt: skip
    rows = []
    for centre in sorted({q.centre for q in data.queries}):
        mine = [q for q in data.queries if q.centre == centre]
        states = Counter(q.state for q in mine)
        days = [d for q in mine if (d := days_to_answer(q)) is not None]
        median = round(statistics.median(days), 1) if days else None
        rows.append((centre, states["open"] + states["reopened"], states["answered"], states["closed"],
                     median))  # fmt: skip
    queries = Table(
        "queries_by_centre", "Data queries by centre",
        ("centre", "open", "answered", "closed", "median days to answer"), tuple(rows),
        count_columns=("open", "answered", "closed"),
        note="Open includes reopened queries; days to answer from raising to the (latest) answer.",
    )  # fmt: skip
    total = sum(data.findings.values())
    text = (
        f"{total} data quality finding(s) from {len(RULES)} versioned rules; thresholds not taken from a "
        "STAT1 GOF protocol are provisional (see the sources).",
        f"{len(data.queries)} data query(ies) raised by monitors.",
    )
    tables = tuple(suppress(t, suppress_below) for t in (queries, by_centre, rules))
    return Section("conduct", "Study conduct: data quality and queries", text, tables)
