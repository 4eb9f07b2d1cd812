"""Commands for the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from jakreg.cli.base import (
    DbOption,
    app,
    err,
    fail,
    out,
)

audit_app = typer.Typer(help="Inspect and verify the audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


SHOWN_DIFFERENCES = 50


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    skip_data: Annotated[
        bool,
        typer.Option(
            "--skip-data",
            help="Check the hash chain only; do not replay the trail against the data.",
        ),
    ] = False,
) -> None:
    """Check the hash chain of the audit trail, then replay the trail against the data.

    The chain proves no event was edited or removed from the middle; the replay names every row of
    patient data that differs from the trail's last after-image (changed, added or deleted with SQL
    behind jakreg's back). See docs/audit.md for what each check can and cannot detect.
    """
    from jakreg.study import replay_audit, verify_audit

    n, broken = verify_audit(db)
    if broken is not None:
        fail(f"the audit trail is broken at event {broken.event_id}: {broken.reason}")
    out.print(f"The audit trail is intact: {n} event(s), every link verified.")
    if skip_data:
        return
    replayed = replay_audit(db)
    if not replayed.ok:
        for diff in replayed.differences[:SHOWN_DIFFERENCES]:
            err.print(f"  {diff}", highlight=False, markup=False)
        hidden = len(replayed.differences) - SHOWN_DIFFERENCES + replayed.more
        if hidden > 0:
            err.print(f"  ... and {hidden} more", highlight=False)
        total = len(replayed.differences) + replayed.more
        fail(f"the data do not match the audit trail: {total} difference(s) (listed above)")
    out.print(
        f"The data match the trail: {replayed.rows} row(s) replayed, every column the trail "
        "records agrees."
    )


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
