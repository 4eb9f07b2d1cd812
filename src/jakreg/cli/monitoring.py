"""Commands for the prospective study: the protocol (check, load, show) and `jakreg monitor`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jakreg.cli.base import DbOption, app, out, user_name

protocol_app = typer.Typer(help="The study protocol: visits, windows, required items.",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(protocol_app, name="protocol")

FileArg = Annotated[Path, typer.Argument(help="A protocol file (YAML).", show_default=False)]


@protocol_app.command("check")
def protocol_check(file: FileArg) -> None:
    """Validate a protocol file; every problem is listed with its line (nothing is stored)."""
    from jakreg.protocol.schema import read_protocol

    protocol, _ = read_protocol(file)
    out.print(f"{escape(str(file))}: protocol {escape(protocol.name)} version "
              f"{escape(protocol.version)}, effective {protocol.effective_date}, "
              f"{len(protocol.visits)} visits, {len(protocol.items)} items: valid")  # fmt: skip


@protocol_app.command("load")
def protocol_load(
    file: FileArg,
    db: DbOption = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Who loads (audit trail).")] = None,
) -> None:
    """Store a protocol version in the database (audited); an amendment is a new version."""
    from jakreg.protocol.schema import read_protocol
    from jakreg.protocol.store import load_protocol
    from jakreg.store import db as store

    protocol, text = read_protocol(file)
    with store.open_session(db) as session:
        stored = load_protocol(session, protocol, text, actor=actor or user_name())
        session.commit()
    what = "stored" if stored else "already stored (unchanged)"
    out.print(f"protocol {escape(protocol.name)} version {escape(protocol.version)} "
              f"(effective {protocol.effective_date}): {what}")  # fmt: skip


@protocol_app.command("show")
def protocol_show(db: DbOption = None) -> None:
    """The protocol versions in force, with their visits and required items."""
    from jakreg.protocol.store import active_protocols
    from jakreg.store import db as store

    with store.open_session(db) as session:
        versions = active_protocols(session)
    for v in versions:
        p = v.protocol
        table = Table(title=escape(v.label), header_style="bold")
        for col in ("visit", "anchor", "day", "window", "repeat", "items"):
            table.add_column(col, overflow="fold")
        for visit in p.visits:
            table.add_row(visit.id, visit.anchor.value, str(visit.day),
                          f"-{visit.before}/+{visit.after} d",
                          f"every {visit.every_days} d" if visit.every_days else "",
                          ", ".join(visit.items))  # fmt: skip
        out.print(table)
        items = Table(header_style="bold")
        for col in ("item", "records", "source", "provisional"):
            items.add_column(col, overflow="fold")
        for key, item in p.items.items():
            records = item.kind.value + (f": {', '.join(item.codes)}" if item.codes else "")
            items.add_row(key, records, escape(item.source), "provisional" if item.provisional
                          else "")  # fmt: skip
        out.print(items)


class MonitorFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


VISIT_COLUMNS = ("pseudonym", "centre", "course_id", "drug", "visit", "label", "planned",
                 "window_start", "window_end", "status", "missing", "protocol_version",
                 "reason")  # fmt: skip


def _open_critical(session: Any, centres: list[str] | None) -> int | None:
    """Open critical safety signals of these centres (all centres with None)."""
    from jakreg.monitoring.signals import open_critical_count

    return open_critical_count(session, centres=centres)


@app.command("monitor")
def monitor(
    db: DbOption = None,
    centre: Annotated[
        list[str] | None, typer.Option("--centre", help="Limit to a centre (repeat).")
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="State as of this date (default today)."
        ),
    ] = None,
    fmt: Annotated[MonitorFormat, typer.Option("--format", help="table, csv or json.")] = (
        MonitorFormat.table
    ),
    all_visits: Annotated[
        bool, typer.Option("--all", help="List every visit, not only due, partial and overdue.")
    ] = False,
    notify: Annotated[
        bool,
        typer.Option(
            "--notify",
            help="Queue an e-mail notification (jakreg notify send) for each overdue visit not queued before.",
        ),
    ] = False,
) -> None:
    """Visits due and overdue, completeness per centre; exit 3 when a critical signal is open."""
    from jakreg.monitoring.signals import list_signals
    from jakreg.monitoring.visits import centre_summary, visit_statuses
    from jakreg.protocol.store import active_protocols
    from jakreg.store import db as store

    day = as_of.date() if as_of else dt.date.today()
    with store.open_session(db) as session:
        versions = active_protocols(session)
        statuses = visit_statuses(session, as_of=day, centres=centre, versions=versions)
        summary = centre_summary(session, as_of=day, centres=centre, statuses=statuses)
        critical = _open_critical(session, centre)
        signals = list_signals(session, centres=centre, states=("open",))
        queued = None
        if notify:
            from jakreg.monitoring.overdue import queue_overdue_visits

            queued = queue_overdue_visits(session, statuses)
            session.commit()
    shown = [s for s in statuses
             if all_visits or s.status in ("due", "partial", "overdue")]  # fmt: skip
    protocols = [v.label for v in versions]
    if fmt is MonitorFormat.json:
        from jakreg.jsontext import dumps_readable

        doc = {
            "as_of": day.isoformat(), "protocols": protocols,
            "centres": [c.to_dict() for c in summary], "visits": [s.to_dict() for s in shown],
            "open_signals": [_signal_dict(g) for g in signals], "open_critical_signals": critical,
            "notifications_queued": queued,
        }  # fmt: skip
        sys.stdout.write(dumps_readable(doc) + "\n")
    elif fmt is MonitorFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=VISIT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for s in shown:
            row = s.to_dict()
            row["missing"] = ";".join(row["missing"])
            writer.writerow(row)
        print(buffer.getvalue(), end="")
    else:
        out.print(f"as of {day}; protocol: " + "; ".join(escape(p) for p in protocols))
        table = Table(title="Centres", header_style="bold")
        for col in ("centre", "on drug", "due ≤30 d", "overdue", "done", "partial", "complete %"):
            table.add_column(col)
        for c in summary:
            pct = "–" if c.completeness_pct is None else f"{c.completeness_pct:.1f}"
            table.add_row(c.centre, str(c.patients_on_drug), str(c.due_next_30_days),
                          str(c.overdue), str(c.done), str(c.partial), pct)  # fmt: skip
        out.print(table)
        visits = Table(title="Visits", header_style="bold")
        # dates and ids never break inside (a folded date misreads); the window's ends on two lines
        visits.add_column("patient", no_wrap=True)
        visits.add_column("course", overflow="fold")
        visits.add_column("visit", overflow="fold")
        visits.add_column("planned", no_wrap=True)
        visits.add_column("window", no_wrap=True)
        visits.add_column("status", no_wrap=True)
        visits.add_column("missing / reason", overflow="fold")
        for s in shown:
            visits.add_row(s.pseudonym, f"{s.course_id} {s.drug}", escape(s.label), str(s.planned),
                           f"{s.window_start}\n{s.window_end}", s.status,
                           ", ".join(s.missing) or escape(s.reason))  # fmt: skip
        out.print(visits)
        open_table = Table(title="Open safety signals", header_style="bold")
        for col in ("patient", "centre", "severity", "rule", "signal"):
            open_table.add_column(col, overflow="fold")
        for g in signals:
            open_table.add_row(g.pseudonym, g.centre, g.severity,
                               f"{g.rule_id} v{g.rule_version}", escape(g.text))  # fmt: skip
        out.print(open_table)
        out.print(f"open critical safety signals: {critical}")
        if queued is not None:
            out.print(f"overdue-visit notifications queued: {queued}")
    if critical:
        raise typer.Exit(3)


def _signal_dict(g: Any) -> dict[str, Any]:
    keep = ("id", "pseudonym", "centre", "rule_id", "rule_version", "source", "record_table",
            "record_id", "value", "threshold", "text", "severity", "state", "version")  # fmt: skip
    return {k: getattr(g, k) for k in keep}


def build_prospective_demo(out: Path, *, patients: int = 40, today: dt.date | None = None) -> Path:
    """A prospective-shaped synthetic database in ``out`` (protocol-shaped records with gaps); its path."""
    import shutil

    from jakreg.study import import_path, init_database
    from jakreg.synth.visits import write_prospective

    if out.exists():
        shutil.rmtree(out)
    study = write_prospective(out / "study", patients=patients, today=today or dt.date.today())
    db = out / "prospective.db"
    url = f"sqlite:///{db.resolve()}"
    init_database(url)
    import_path(study, url, actor="demo")
    from jakreg.monitoring.signals import derive_signals
    from jakreg.protocol.schema import default_protocol
    from jakreg.protocol.store import load_protocol
    from jakreg.store import db as store

    with store.open_session(url) as session:
        # the study runs under the shipped default protocol (stored, audited, as a centre would load it)
        protocol, text = default_protocol()
        load_protocol(session, protocol, text, actor="demo")
        derive_signals(session, user="demo")
        session.commit()
    return db
