"""Commands for IDDA score definition files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jakreg.cli.base import (
    app,
    fail,
    out,
)

score_app = typer.Typer(help="Check and list IDDA score definition files.", no_args_is_help=True)
app.add_typer(score_app, name="score-definition")


@score_app.command("check")
def score_check(
    file: Annotated[Path, typer.Argument(help="A score definition file (YAML or JSON).")],
) -> None:
    """Validate a score definition file; exit 1 and list every problem when it is not valid."""
    from jakreg.rules import idda

    problems = idda.check_definition(file)
    if problems:
        for p in problems:
            out.print(f"[red]error[/] {p}", highlight=False)
        fail(f"{file} is not a valid score definition ({len(problems)} problem(s))")
    d = idda.load_definition(file)
    out.print(
        f"{file}: valid. {d.title} version {d.version} ({d.status.value}), "
        f"{len(d.items)} items. Total = {d.formula()}",
        highlight=False,
    )


@score_app.command("list")
def score_list() -> None:
    """List the score definitions shipped with jakreg."""
    from jakreg.rules import idda

    for d in idda.list_definitions():
        out.print(
            f"{d.name}: {d.title} version {d.version} ({d.status.value}); source: {d.source}",
            highlight=False,
        )
