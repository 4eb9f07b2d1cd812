"""Commands for e-mail notifications."""

from __future__ import annotations

from typing import Annotated

import typer

from jakreg.cli.base import DbOption, app, fail, out

notify_app = typer.Typer(help="E-mail notifications: digests of the outbox.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("send")
def notify_send(db: DbOption = None) -> None:
    """Send one digest per due user over SMTP (settings: JAKREG_SMTP_* environment variables)."""
    from jakreg.notify.send import send
    from jakreg.notify.settings import SmtpSettings
    from jakreg.store import db as store

    settings = SmtpSettings.from_env()  # a bad setting stops here, before anything is sent
    with store.open_session(db) as session:
        report = send(session, settings)
    for line in report.outcomes:
        out.print(line, highlight=False)
    if report.interrupted:
        out.print(
            f"{report.interrupted} digest(s) left by an interrupted run were not resent "
            "(they may have been delivered)."
        )
    out.print(f"{report.sent} digest(s) sent, {report.failed} failed.")
    if report.failed:
        raise typer.Exit(1)


@notify_app.command("set")
def notify_set(
    username: Annotated[str, typer.Argument(help="The account.")],
    email: Annotated[str, typer.Option("--email", help="Where digests go.")] = "",
    frequency: Annotated[
        str, typer.Option("--frequency", help="immediate, daily or none.")
    ] = "immediate",
    db: DbOption = None,
) -> None:
    """Set a user's e-mail address and how often they get a digest."""
    from jakreg.notify.send import set_preference
    from jakreg.store import db as store
    from jakreg.web import accounts

    if not email and frequency != "none":
        fail("give --email (or --frequency none)")
    with store.open_session(db) as session:
        user = accounts.get_user(session, username)
        set_preference(session, user, email=email, frequency=frequency)
        session.commit()
    out.print(f"{username}: {frequency} digests to {email or 'nobody'}.")
