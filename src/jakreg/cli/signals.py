"""Commands for safety signals: derive from the records, list, acknowledge, close."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jakreg.cli.base import CentreOption, DbOption, app, out, user_name

signals_app = typer.Typer(
    help="Safety signals: cited label/CTCAE thresholds met by lab values and adverse events.",
    no_args_is_help=True,
)
app.add_typer(signals_app, name="signals")

COLUMNS = ("id", "pseudonym", "centre", "rule_id", "rule_version", "severity", "state", "version",
           "record_table", "record_id", "value", "threshold", "source", "text",
           "acknowledged_by", "acknowledged_comment", "closed_by", "closed_comment")  # fmt: skip


class SignalFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[SignalFormat, typer.Option("--format", help="table, csv or json.")]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Who acts (default: the login name).")
]
VersionOption = Annotated[
    int | None,
    typer.Option("--expected-version", help="Refuse if the signal changed since this version."),
]


def _centres(centre: str | None) -> list[str] | None:
    return [centre] if centre else None


@signals_app.command("derive")
def signals_derive(db: DbOption = None, centre: CentreOption = None, user: UserOption = None,
                   fmt: FormatOption = SignalFormat.table) -> None:  # fmt: skip
    """Evaluate the safety-signal rules over labs and adverse events; store new signals (audited)."""
    from jakreg.monitoring.signals import derive_signals
    from jakreg.store import db as store

    with store.open_session(db) as session:
        summary = derive_signals(session, centres=_centres(centre), user=user or user_name())
        session.commit()
    if fmt is SignalFormat.json:
        out.print_json(json.dumps(dataclasses.asdict(summary)))
        return
    out.print(
        f"{summary.new} new signal(s) ({summary.new_critical} critical), "
        f"{summary.already_known} already known; {summary.evaluated_labs} lab value(s) and "
        f"{summary.evaluated_adverse_events} adverse event(s) and {summary.evaluated_courses} "
        "course(s) evaluated",
        highlight=False,
    )


@signals_app.command("list")
def signals_list(
    db: DbOption = None,
    centre: CentreOption = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="open, acknowledged or closed (repeat; default all)."),
    ] = None,
    fmt: FormatOption = SignalFormat.table,
) -> None:
    """List safety signals, critical first."""
    from jakreg.monitoring.signals import list_signals
    from jakreg.store import db as store

    with store.open_session(db) as session:
        views = list_signals(session, centres=_centres(centre), states=state)
    rows = [{k: getattr(v, k) for k in COLUMNS} for v in views]
    if fmt is SignalFormat.json:
        out.print_json(json.dumps(rows, default=str))
        return
    if fmt is SignalFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="")
        return
    table = Table(header_style="bold")
    for col in ("id", "patient", "centre", "rule", "severity", "state", "record", "value",
                "threshold", "source"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]), r["pseudonym"], r["centre"], f"{r['rule_id']} v{r['rule_version']}",
            r["severity"], r["state"], f"{r['record_table']} #{r['record_id']}",
            escape(r["value"]), escape(r["threshold"]), escape(r["source"]),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(rows)} signal(s)", highlight=False)


def _act(action: str, db: str | None, signal_id: int, user: str | None, comment: str | None,
         expected_version: int | None) -> None:  # fmt: skip
    from jakreg.monitoring.signals import acknowledge_signal, close_signal
    from jakreg.store import db as store

    with store.open_session(db) as session:
        if action == "ack":
            view = acknowledge_signal(session, signal_id, user=user or user_name(),
                                      comment=comment or "", expected_version=expected_version)  # fmt: skip
        else:
            view = close_signal(session, signal_id, user=user or user_name(), comment=comment,
                                expected_version=expected_version)  # fmt: skip
        session.commit()
    out.print(f"signal {view.id} ({view.rule_id}, {view.pseudonym}) is now {view.state} "
              f"(version {view.version})", highlight=False)  # fmt: skip


@signals_app.command("ack")
def signals_ack(
    signal_id: Annotated[int, typer.Argument(help="Signal id (see: jakreg signals list).")],
    comment: Annotated[str, typer.Option("--comment", help="What was checked or done.")],
    db: DbOption = None,
    user: UserOption = None,
    expected_version: VersionOption = None,
) -> None:
    """Acknowledge an open signal (who, when, comment; audited)."""
    _act("ack", db, signal_id, user, comment, expected_version)


@signals_app.command("close")
def signals_close(
    signal_id: Annotated[int, typer.Argument(help="Signal id (see: jakreg signals list).")],
    comment: Annotated[str | None, typer.Option("--comment", help="Why it is closed.")] = None,
    db: DbOption = None,
    user: UserOption = None,
    expected_version: VersionOption = None,
) -> None:
    """Close an open or acknowledged signal (audited)."""
    _act("close", db, signal_id, user, comment, expected_version)
