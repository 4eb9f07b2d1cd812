"""Commands for study data: init, template, validate, import, export, derive."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jakreg.cli.audit import anchor_beside
from jakreg.cli.base import (
    CentreOption,
    DbOption,
    ExportFormat,
    InputFormat,
    OutputFormat,
    app,
    err,
    fail,
    out,
    print_problems,
    progress_bar,
    user_name,
)
from jakreg.ingest.problems import ValidationFailed


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

    who = actor or user_name()
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
            f"updated, {summary.total('unchanged')} unchanged; {summary.audited_changes} changes "
            f"audited in {summary.audit_events} audit events by {who}; {rows:,} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
    else:
        out.print(f"Nothing changed: every row of {path} is already in the database.")
    anchor_beside(db, path, "import")


@app.command()
def export(
    out_path: Annotated[
        Path,
        typer.Option(
            "--out", help="A .xlsx file, or a folder for CSV; a .json file for federated-pooled."
        ),
    ],
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="xlsx, csv, redcap, phenopackets, federated (the extract a vantage6 node reads) "
            "or federated-pooled (jakreg's pooled results to compare a federated run with; "
            "docs/federated.md).",
        ),
    ] = ExportFormat.xlsx,
    db: DbOption = None,
    centres: Annotated[
        list[str] | None,
        typer.Option(
            "--centre",
            help="Limit to one centre (its code). federated and federated-pooled: repeat for "
            "several centres in one extract (--centre A --centre B).",
            show_default=False,
        ),
    ] = None,
    include_local_ids: Annotated[
        bool,
        typer.Option(
            "--include-local-ids", help="Keep local ids (only with --centre, for that centre)."
        ),
    ] = False,
    table_format: Annotated[
        str,
        typer.Option("--table-format", help="federated only: csv (default) or parquet."),
    ] = "csv",
    bin_days: Annotated[
        int,
        typer.Option(
            "--bin-days",
            help="federated-pooled only: Kaplan-Meier bins in days, as jakreg-federated "
            "simulate --bin-days.",
        ),
    ] = 30,
) -> None:
    """Write the database as a study workbook (pseudonymised; derived values on derived_* sheets), a
    REDCap project (data dictionary + records), one GA4GH phenopacket per patient, or the federated
    extract a vantage6 node reads and jakreg's pooled numbers to compare it with (docs/federated.md)."""
    federated = (ExportFormat.federated, ExportFormat.federated_pooled)
    if centres and len(centres) > 1 and fmt not in federated:
        fail(
            f"--centre given {len(centres)} times ({', '.join(centres)}): --format {fmt.value} "
            "exports one centre; repeat --centre only with --format federated or federated-pooled"
        )
    centre = centres[0] if centres else None
    if fmt is ExportFormat.redcap:
        from jakreg.interop.redcap_records import export_redcap

        written = export_redcap(out_path, db, centre=centre)
    elif fmt is ExportFormat.federated:
        from jakreg.federated import write_federated

        written = write_federated(out_path, db, centres=centres, table_format=table_format)
    elif fmt is ExportFormat.federated_pooled:
        from jakreg.federated import write_pooled

        written = write_pooled(out_path, db, centres=centres, bin_days=bin_days)
    elif fmt is ExportFormat.phenopackets:
        from jakreg.interop.phenopackets_export import export_phenopackets

        written = export_phenopackets(out_path, db, centre=centre)
    else:
        from jakreg.study import export_database

        written = export_database(
            out_path, db, fmt=fmt.value, centre=centre, include_local_ids=include_local_ids
        )
    out.print(f"Exported to {out_path} ({len(written)} file(s)).")
    anchor_beside(db, out_path, "export")


@app.command()
def derive(db: DbOption = None) -> None:
    """Recompute every derived value (canonical lab units, CTCAE grades, doses per kg and m²)."""
    from jakreg.study import rederive_all

    n = rederive_all(db)
    out.print(f"Recomputed derived values for {n} patient(s).")
