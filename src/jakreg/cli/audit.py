"""Commands for the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from jakreg.cli.base import (
    DbOption,
    app,
    fail,
    out,
)

audit_app = typer.Typer(help="Inspect and verify the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Check the hash chain of the audit trail; report the first broken link."""
    from jakreg.study import verify_audit

    n, broken = verify_audit(db)
    if broken is not None:
        fail(f"the audit trail is broken at event {broken.event_id}: {broken.reason}")
    out.print(f"The audit trail is intact: {n} event(s), every link verified.")


@audit_app.command("log")
def audit_log(
    db: DbOption = None,
    patient: Annotated[str | None, typer.Option("--patient", help="Only this pseudonym.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest events to show.")] = 50,
) -> None:
    """Show the newest audit events."""
    from jakreg.study import audit_events

    table = Table(header_style="bold")
    for col in ("id", "at (UTC)", "actor", "action", "entity", "key", "patient", "centre"):
        table.add_column(col, overflow="fold")
    for e in audit_events(db, patient=patient, limit=limit):
        table.add_row(
            str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, e.entity,
            e.entity_key, e.patient_id or "", e.centre or "",
        )  # fmt: skip
    out.print(table)
