"""Commands for running a registry: backup, restore, serve, version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jakreg import __version__
from jakreg.cli.audit import anchor_beside
from jakreg.cli.base import (
    DbOption,
    app,
    out,
)


@app.command()
def backup(
    out_path: Annotated[Path, typer.Option("--out", help="The backup file to write.")],
    db: DbOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing file.")
    ] = False,
) -> None:
    """Copy a SQLite database while it is in use (online backup); PostgreSQL: see docs/scale.md."""
    from jakreg.store.backup import backup as run_backup

    summary = run_backup(db, out_path, overwrite=overwrite)
    out.print(
        f"Backed up {summary.database} to {summary.file}: {summary.rows:,} rows, {summary.bytes:,} bytes."
    )
    anchor_beside(f"sqlite:///{summary.file}", summary.file, "backup")  # the head of the copy


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by jakreg backup.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a database that already holds data.")
    ] = False,
) -> None:
    """Restore a SQLite backup into the database (refuses to overwrite data unless --force)."""
    from jakreg.store.backup import restore as run_restore

    summary = run_restore(file, db, force=force)
    out.print(f"Restored {summary.file} into {summary.database}: {summary.rows:,} rows.")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
    dev: Annotated[
        bool,
        typer.Option("--dev", help="Development mode: default secret allowed, cookies not Secure."),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="uvicorn worker processes (default: one per CPU core, at most 8; 1 with --dev).",
        ),
    ] = None,
) -> None:
    """Run the multicentre web server (needs JAKREG_SECRET_KEY outside --dev; see docs/deploy.md)."""
    from jakreg.web.cli_support import serve as run_server

    run_server(host, port, db, dev, workers)  # uvicorn prints the address once it listens


@app.command()
def version() -> None:
    """Print jakreg's version and the versions of the rules and ontology it uses."""
    out.print(f"jakreg {__version__}")
