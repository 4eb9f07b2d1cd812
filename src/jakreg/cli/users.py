"""Commands for the server's user accounts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jakreg.cli.base import (
    DbOption,
    app,
    out,
)

user_app = typer.Typer(help="Manage the server's user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


RoleOption = Annotated[
    str,
    typer.Option("--role", help="admin, centre_editor, centre_viewer or analyst."),
]


def _ask_password() -> str:
    return str(
        typer.prompt("Password (12 characters or more)", hide_input=True, confirmation_prompt=True)
    )


def _print_user(u: Any) -> None:
    centres = ", ".join(u.centres) or "-"
    state = "disabled" if u.disabled else "active"
    out.print(f"{u.username}: {u.role}; centres {centres}; {state}", highlight=False)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: RoleOption,
    centre: Annotated[
        list[str] | None, typer.Option("--centre", help="A centre code (repeat for several).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a user account; asks for the password twice."""
    from jakreg.web.cli_support import user_add as add

    _print_user(add(db, username, role, centre or [], _ask_password()))


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """List the user accounts."""
    from jakreg.web.cli_support import user_list as listing

    for u in listing(db):
        _print_user(u)


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="Login name.")], db: DbOption = None
) -> None:
    """Disable an account (ends its sessions and revokes its API tokens)."""
    from jakreg.web.cli_support import user_disable as disable

    _print_user(disable(db, username))


@user_app.command("set-password")
def user_set_password(
    username: Annotated[str, typer.Argument(help="Login name.")],
    db: DbOption = None,
    revoke_tokens: Annotated[
        bool,
        typer.Option(
            "--revoke-tokens",
            help="Also revoke the user's API tokens (they stay valid otherwise).",
        ),
    ] = False,
) -> None:
    """Set a new password (ends the user's sessions; --revoke-tokens also ends its API tokens);
    asks for it twice."""
    from jakreg.web.cli_support import user_set_password as set_password

    info, valid = set_password(db, username, _ask_password(), revoke_tokens=revoke_tokens)
    _print_user(info)
    if revoke_tokens:
        out.print("API tokens revoked; the user needs new ones.", highlight=False)
    elif valid:
        out.print(
            f"{valid} API token(s) of {username} stay valid; run again with --revoke-tokens "
            "to revoke them.",
            highlight=False,
        )
