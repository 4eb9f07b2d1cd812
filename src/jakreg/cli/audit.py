"""Commands for the audit trail."""

from __future__ import annotations

import json
from pathlib import Path
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


def anchor_beside(db: str | None, path: Path, written_for: str) -> None:
    """Write the trail's head beside an import's input or an output, and say where (a warning if the
    file cannot be written: the work itself is done)."""
    from jakreg.study import anchor_beside as write

    try:
        written = write(db, path, written_for)
    except OSError as exc:
        err.print(
            f"[yellow]warning:[/] the audit anchor could not be written beside {path} ({exc})"
        )
        return
    data = json.loads(written.read_text(encoding="utf-8"))
    out.print(
        f"Audit anchor: {written} ({data['events']} event(s), head "
        f"{str(data['head_hash'])[:16]}…); keep a copy outside the database's reach "
        f"(check with jakreg audit verify --anchor {written})."
    )


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="An anchor file (*.anchor.json, or the JSON of GET /api/v1/audit/head): the trail "
            "must still hold its head event, with no fewer events (finds a truncated trail).",
        ),
    ] = None,
    skip_data: Annotated[
        bool,
        typer.Option(
            "--skip-data",
            help="Check the hash chain only; do not replay the trail against the data.",
        ),
    ] = False,
) -> None:
    """Check the hash chain of the audit trail, an anchor if given, then the data against the trail.

    The chain proves no event was edited or removed from the middle; an anchor (written beside every
    import, export, report and backup) proves none was removed from the end; the replay names every row
    of patient data that differs from the trail's last after-image (changed, added or deleted with SQL
    behind jakreg's back). See docs/audit.md for what each check can and cannot detect.
    """
    from jakreg.study import audited_changes, replay_audit, verify_audit

    n, broken = verify_audit(db)
    if broken is not None:
        fail(f"the audit trail is broken at event {broken.event_id}: {broken.reason}")
    out.print(
        f"The audit trail is intact: {n} event(s) holding {audited_changes(db)} change(s), every "
        "link and every batch's rows verified."
    )
    if anchor is not None:
        from jakreg.study import check_audit_anchor

        checked = check_audit_anchor(db, anchor)
        if not checked.ok:
            fail(checked.problem)
        a = checked.anchor
        since = checked.events - a.events
        out.print(
            f"The trail holds the anchor of {a.written_at or anchor.name}: event "
            f"{a.head_event_id} ({a.head_hash[:16]}…) is event {a.events} of the chain; "
            f"{since} event(s) since."
        )
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
    """Show the newest audit events, an import's batch events row by row."""
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


@audit_app.command("history")
def audit_history(
    entity: Annotated[str, typer.Argument(help="The sheet, e.g. labs, courses, patients.")],
    record_id: Annotated[
        int, typer.Argument(help="The record's id (as verify and the API name it).")
    ],
    db: DbOption = None,
) -> None:
    """Show every change to one record: who, when, and each changed value from what to what."""
    from jakreg.study import record_history

    changes = record_history(db, entity, record_id)
    if not changes:
        fail(f"the audit trail holds no change to {entity} record {record_id}")
    # One event per heading line, then one line per value: the values stay whole at any terminal
    # width (a table folds them), and text typed at a centre is printed as it is, never as markup.
    for c in changes:
        old, new = c.before_values or {}, c.after_values or {}
        out.print(
            f"event {c.id}  {c.at.strftime('%Y-%m-%d %H:%M:%S')} UTC  {c.actor}  {c.action}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        if c.action == "create":
            lines = [f"{k} = {v!r}" for k, v in new.items()]
        else:
            lines = [
                f"{k}: {old.get(k)!r} → {new.get(k)!r}"
                for k in dict.fromkeys([*old, *new])
                if old.get(k) != new.get(k)
            ]
        for line in lines:
            out.print("  " + line, markup=False, highlight=False, soft_wrap=True)
