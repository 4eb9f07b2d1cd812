"""What every command shares: the app, consoles, common options, and the one place errors are translated."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from jakreg.errors import JakregError
from jakreg.ingest.problems import ProblemLog


class _Translating(TyperGroup):
    """Turns jakreg's named errors into one red line and exit code 1, for every command."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except JakregError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="jakreg",
    cls=_Translating,
    help="Registry and analysis toolkit for JAK-inhibitor therapy in inborn errors of immunity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite file name or a SQLAlchemy URL "
        "(default: $JAKREG_DATABASE_URL, else ./jakreg.db).",
        show_default=False,
    ),
]
CentreOption = Annotated[
    str | None, typer.Option("--centre", help="Limit to one centre (its code).", show_default=False)
]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    redcap = "redcap"
    phenopackets = "phenopackets"
    federated = "federated"
    federated_pooled = "federated-pooled"


class InputFormat(StrEnum):
    workbook = "workbook"
    redcap = "redcap"
    phenopackets = "phenopackets"


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int], None] | None]:
    if not enabled:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(sheet: str, n: int) -> None:
            if sheet not in tasks:
                tasks[sheet] = progress.add_task(sheet, total=None)
            progress.advance(tasks[sheet], n)

        yield update


def print_problems(log: ProblemLog, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        out.print_json(json.dumps(log.to_dict(), default=str))
        return
    for p in log.kept:
        colour = "red" if p.severity.value == "error" else "yellow"
        out.print(f"[{colour}]{p.severity.value}[/]: {escape(str(p))}", highlight=False)
    if log.n_omitted:
        out.print(f"... and {log.n_omitted:,} more problems not shown (--max-problems).")
    summary = f"{log.n_errors} error(s), {log.n_warnings} warning(s)"
    out.print(f"[green]OK[/]: {summary}" if log.ok else f"[red]FAILED[/]: {summary}")


def user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
