"""Commands for the data quality rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jakreg.cli.base import CentreOption, DbOption, app, out

quality_app = typer.Typer(help="Data quality rules: find doubtful values.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")

COLUMNS = ("id", "centre", "patient_id", "sheet", "record_pk", "field", "value", "rule",
           "rule_version", "message", "fix")  # fmt: skip


class FindingFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@quality_app.command("run")
def quality_run(
    db: DbOption = None,
    centre: CentreOption = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Only records dated on or before."),
    ] = None,
    fmt: Annotated[FindingFormat, typer.Option("--format", help="table, csv or json.")] = (
        FindingFormat.table
    ),
    required: Annotated[
        list[str] | None,
        typer.Option(
            "--required",
            help="SHEET.COLUMN that must be filled in (repeat; replaces the default list).",
        ),
    ] = None,
) -> None:
    """Run every data quality rule over the database (or one centre); print the findings."""
    from jakreg.quality.catalogue import REQUIRED
    from jakreg.quality.run import parse_required, run
    from jakreg.store import db as store

    columns = parse_required(required) if required else REQUIRED
    with store.open_session(db) as session:
        result = run(
            session, centre=centre, as_of=as_of.date() if as_of else None, required=columns
        )
    rows = [f.to_dict() for f in result.findings]
    if fmt is FindingFormat.json:
        out.print_json(json.dumps({"patients": result.patients, "centres": result.centres,
                                   "findings": rows}, default=str))  # fmt: skip
        return
    if fmt is FindingFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="")  # plain: rich would wrap long lines
        return
    table = Table(header_style="bold")
    for col in ("id", "centre", "patient", "record", "field", "value", "rule", "message", "fix"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["id"], r["centre"], r["patient_id"], f"{r['sheet']} #{r['record_pk']}", r["field"],
            escape(str(r["value"])), f"{r['rule']} v{r['rule_version']}", escape(r["message"]),
            escape(r["fix"]),
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(rows)} finding(s) in {result.patients} patient(s).")


@quality_app.command("rules")
def quality_rules(
    fmt: Annotated[FindingFormat, typer.Option("--format", help="table, csv or json.")] = (
        FindingFormat.table
    ),
) -> None:
    """List the data quality rules with their versions and sources."""
    from dataclasses import asdict

    from jakreg.quality.catalogue import RULES

    rows = [asdict(r) for r in RULES]
    if fmt is FindingFormat.json:
        out.print_json(json.dumps(rows))
        return
    if fmt is FindingFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(buffer.getvalue(), end="")
        return
    table = Table(header_style="bold")
    for col in ("rule", "version", "checks", "source", "provisional"):
        table.add_column(col, overflow="fold")
    for r in RULES:
        table.add_row(
            r.id, str(r.version), r.title, escape(r.source), "yes" if r.provisional else "no"
        )
    out.print(table)
