"""The jakreg command line: parse arguments, call the library, translate its exceptions once."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from jakreg import __version__
from jakreg.errors import JakregError
from jakreg.ingest.problems import ProblemLog, ValidationFailed


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
score_app = typer.Typer(help="Check and list IDDA score definition files.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect and verify the audit trail.", no_args_is_help=True)
user_app = typer.Typer(help="Manage the server's user accounts.", no_args_is_help=True)
app.add_typer(score_app, name="score-definition")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")

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


class InputFormat(StrEnum):
    workbook = "workbook"
    redcap = "redcap"
    phenopackets = "phenopackets"


def _reader(fmt: InputFormat, centre: str | None) -> Any:
    """The reader for a foreign input format (None for the study workbook)."""
    if fmt is InputFormat.redcap:
        from jakreg.interop.redcap_records import read_redcap

        return functools.partial(read_redcap, centre=centre)
    if fmt is InputFormat.phenopackets:
        from jakreg.interop.phenopackets_import import read_phenopackets

        return functools.partial(read_phenopackets, centre=centre or "EXT")
    return None


InputFormatOption = Annotated[
    InputFormat,
    typer.Option(
        "--input-format",
        help="workbook (xlsx or CSV folder), redcap (folder with data_dictionary.csv and the "
        "records export) or phenopackets (JSON files or a folder of them).",
    ),
]


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


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database, or upgrade it to this version's schema (safe to run again)."""
    from jakreg.study import init_database

    url, before, after = init_database(db)
    if before == after:
        out.print(f"Database {url} is up to date (schema {after}).")
    elif before is None:
        out.print(f"Created database {url} (schema {after}).")
    else:
        out.print(f"Upgraded database {url} from schema {before} to {after}.")


@app.command()
def template(
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to write: a .xlsx file, or a folder for CSV files.")
    ],
    example: Annotated[
        bool, typer.Option("--example", help="Fill it with the bundled synthetic example study.")
    ] = False,
) -> None:
    """Write the study workbook: README, one sheet per entity, data dictionary, dropdowns."""
    from jakreg.study import write_template

    written = write_template(out_path, example=example)
    what = "example study workbook" if example else "empty study workbook"
    out.print(f"Wrote the {what} to {out_path} ({len(written)} file(s)).")


def _validation_session(db: str | None) -> Any:
    from jakreg.store import db as dbmod

    explicit = db or os.environ.get(dbmod.ENV_VAR)
    if explicit or Path("jakreg.db").exists():
        return dbmod.open_session(explicit)
    return None


@app.command()
def validate(
    path: Annotated[
        Path, typer.Argument(help="A study workbook (.xlsx) or a folder of CSV files.")
    ],
    db: DbOption = None,
    centre: CentreOption = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.text,
    max_problems: Annotated[
        int, typer.Option("--max-problems", help="Show at most this many problems.")
    ] = 1000,
    input_format: InputFormatOption = InputFormat.workbook,
) -> None:
    """Check a workbook without writing anything: exit 0 when clean, 1 when there are errors.

    References to patients and courses are resolved against the database when one is given
    (or ./jakreg.db exists); otherwise the file is checked on its own.
    """
    from jakreg.study import check_path

    opened = _validation_session(db)
    with progress_bar(fmt is OutputFormat.text and err.is_terminal) as progress:
        reader = _reader(input_format, centre)
        if opened is None:
            checked = check_path(
                path, centre=centre, progress=progress, max_problems=max_problems, reader=reader,
                keep_rows=False,
            )  # fmt: skip
        else:
            with opened as session:
                checked = check_path(
                    path,
                    session,
                    centre=centre,
                    progress=progress,
                    max_problems=max_problems,
                    reader=reader,
                    keep_rows=False,
                )
    print_problems(checked.log, fmt)
    if fmt is OutputFormat.text and checked.log.ok:
        counts = ", ".join(f"{k} {n}" for k, n in checked.rows.counts.items() if n)
        out.print(f"Rows: {counts or 'none'}.")
    raise typer.Exit(0 if checked.log.ok else 1)


@app.command("import")
def import_(
    path: Annotated[
        Path, typer.Argument(help="A study workbook (.xlsx) or a folder of CSV files.")
    ],
    db: DbOption = None,
    centre: CentreOption = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Who imports (for the audit trail; default: your user name)."),
    ] = None,
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--format",
            help="workbook (xlsx or CSV folder), redcap (folder with data_dictionary.csv and the "
            "records export; the DAG column gives the centre) or phenopackets (JSON files or a "
            "folder; filed under --centre, default EXT).",
        ),
    ] = InputFormat.workbook,
) -> None:
    """Validate, then write all or nothing; re-importing the same file changes nothing."""
    from jakreg.study import import_path

    who = actor or _user()
    started = time.perf_counter()
    with progress_bar(err.is_terminal) as progress:
        try:
            summary = import_path(
                path,
                db,
                actor=who,
                centre=centre if input_format is InputFormat.workbook else None,
                progress=progress,
                reader=_reader(input_format, centre),
            )
        except ValidationFailed as exc:
            print_problems(exc.log, OutputFormat.text)
            fail("nothing was imported; fix the errors above and run the import again")
    seconds = time.perf_counter() - started
    if summary.warnings is not None and summary.warnings.kept:
        print_problems(summary.warnings, OutputFormat.text)
    table = Table(header_style="bold")
    for col in ("sheet", "created", "updated", "unchanged"):
        table.add_column(col, justify="right" if col != "sheet" else "left")
    for sheet, c in summary.sheets.items():
        table.add_row(sheet, str(c.created), str(c.updated), str(c.unchanged))
    out.print(table)
    rows = summary.total("created") + summary.total("updated") + summary.total("unchanged")
    if summary.changed:
        out.print(
            f"Imported {path}: {summary.total('created')} created, {summary.total('updated')} "
            f"updated, {summary.total('unchanged')} unchanged; {summary.audit_events} audit "
            f"events by {who}; {rows:,} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
    else:
        out.print(f"Nothing changed: every row of {path} is already in the database.")


@app.command()
def export(
    out_path: Annotated[Path, typer.Option("--out", help="A .xlsx file, or a folder for CSV.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="xlsx, csv, redcap or phenopackets.")
    ] = ExportFormat.xlsx,
    db: DbOption = None,
    centre: CentreOption = None,
    include_local_ids: Annotated[
        bool,
        typer.Option(
            "--include-local-ids", help="Keep local ids (only with --centre, for that centre)."
        ),
    ] = False,
) -> None:
    """Write the database as a study workbook (pseudonymised; derived values on derived_* sheets), a
    REDCap project (data dictionary + records) or one GA4GH phenopacket per patient."""
    if fmt is ExportFormat.redcap:
        from jakreg.interop.redcap_records import export_redcap

        written = export_redcap(out_path, db, centre=centre)
    elif fmt is ExportFormat.phenopackets:
        from jakreg.interop.phenopackets_export import export_phenopackets

        written = export_phenopackets(out_path, db, centre=centre)
    else:
        from jakreg.study import export_database

        written = export_database(
            out_path, db, fmt=fmt.value, centre=centre, include_local_ids=include_local_ids
        )
    out.print(f"Exported to {out_path} ({len(written)} file(s)).")


@app.command()
def derive(db: DbOption = None) -> None:
    """Recompute every derived value (canonical lab units, CTCAE grades, doses per kg and m²)."""
    from jakreg.study import rederive_all

    n = rederive_all(db)
    out.print(f"Recomputed derived values for {n} patient(s).")


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


@app.command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report files.")],
    db: DbOption = None,
    cutoff: Annotated[
        dt.datetime | None,
        typer.Option(
            "--cutoff",
            formats=["%Y-%m-%d"],
            help="Data cut-off (YYYY-MM-DD); default: the latest centre cut-off of the patients.",
        ),
    ] = None,
    centre: CentreOption = None,
    no_literature: Annotated[
        bool, typer.Option("--no-literature", help="Leave out the comparison with published cases.")
    ] = False,
    suppress_below: Annotated[
        int | None,
        typer.Option(
            "--suppress-below",
            help="For sharing: show counts from 1 to N-1 as '<N' in tables (N >= 2).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Analyse the study and write report.html, report.pdf, results.json, tables/ and figures/."""
    from jakreg.report.build import write_report

    if suppress_below is not None and suppress_below < 2:
        fail("--suppress-below must be at least 2")
    files = write_report(
        db,
        out_dir,
        cutoff=cutoff.date() if cutoff else None,
        centre=centre,
        literature=not no_literature,
        suppress_below=suppress_below,
    )
    _print_report(files)


def _print_report(files: Any) -> None:
    out.print(f"Report written to {files.out}/:")
    out.print(f"  {files.html.name}, {files.pdf.name}, {files.results.name}")
    out.print(f"  tables/ ({len(files.tables)} CSV files), figures/ ({len(files.figures)} files)")
    total = sum(files.timings.values())
    out.print(f"Open {files.html} in a browser (works offline). Took {total:.1f} s.")


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo database and report.")
    ] = Path("jakreg-demo"),
) -> None:
    """Build a fresh database from the bundled synthetic example study and write its report."""
    from jakreg.report.build import run_demo

    files = run_demo(out_dir)
    out.print(
        f"Built {files.database} from the bundled synthetic example study (modelled on the "
        "published aggregates of Deyà-Martínez et al., J Clin Immunol 2022; not real patients)."
    )
    _print_report(files)


@app.command()
def synth(
    out_path: Annotated[Path, typer.Option("--out", help="A folder (CSV) or a .xlsx file.")],
    patients: Annotated[int, typer.Option("--patients", help="Number of patients.")] = 1000,
    centres: Annotated[int, typer.Option("--centres", help="Number of centres.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same study.")] = 1,
) -> None:
    """Write a realistic synthetic study (clearly labelled synthetic), deterministic by seed."""
    from jakreg.synth import write_synthetic

    fmt = "xlsx" if out_path.suffix.lower() == ".xlsx" else "csv"
    with progress_bar(err.is_terminal) as progress:
        # the generator reports patients written so far, in steps of 1000
        step = None if progress is None else (lambda _done: progress("patients", 1000))
        summary = write_synthetic(
            out_path, patients=patients, centres=centres, seed=seed, fmt=fmt, progress=step
        )
    out.print(
        f"Wrote a synthetic study to {summary.out}: {summary.patients:,} patients at "
        f"{summary.centres} centres, {summary.total_rows:,} rows (seed {summary.seed}, cut-off "
        f"{summary.cutoff.isoformat()})."
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
    username: Annotated[str, typer.Argument(help="Login name.")], db: DbOption = None
) -> None:
    """Set a new password (ends the user's sessions); asks for it twice."""
    from jakreg.web.cli_support import user_set_password as set_password

    _print_user(set_password(db, username, _ask_password()))


@app.command()
def version() -> None:
    """Print jakreg's version and the versions of the rules and ontology it uses."""
    out.print(f"jakreg {__version__}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def main() -> None:
    """Entry point: no traceback ever reaches a user."""
    try:
        app()
    except JakregError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; nothing half-written (imports are all or nothing)")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: log it, say where
        log = Path(os.environ.get("JAKREG_ERROR_LOG", "jakreg-error.log"))
        try:
            log.write_text(
                f"{dt.datetime.now(dt.UTC).isoformat()} jakreg {__version__}\n"
                + "".join(traceback.format_exception(exc))
            )
            where = f"details in {log}"
        except OSError:
            where = "no log could be written"
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} ({where}); "
            "please report it to the jakreg developers",
            highlight=False,
        )
        sys.exit(70)
