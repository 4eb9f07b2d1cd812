"""Commands that analyse and report: report, demo, synth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from jakreg.cli.audit import anchor_beside
from jakreg.cli.base import (
    CentreOption,
    DbOption,
    app,
    err,
    fail,
    out,
    progress_bar,
)


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
    te_days_before: Annotated[
        int | None,
        typer.Option(
            "--te-days-before",
            help="Treatment-emergent window: adverse events from this many days before a course "
            "start count (default 0, rules/data/treatment_emergent.yaml).",
            show_default=False,
        ),
    ] = None,
    te_days_after: Annotated[
        int | None,
        typer.Option(
            "--te-days-after",
            help="Treatment-emergent window: adverse events up to this many days after a course "
            "stop count (default 30, rules/data/treatment_emergent.yaml).",
            show_default=False,
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Write the report even when no patient is selected (default: an error, exit 1).",
        ),
    ] = False,
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
        te_days_before=te_days_before,
        te_days_after=te_days_after,
        allow_empty=allow_empty,
        parallel=True,  # the study-conduct reads in a second process (two cores)
    )
    if files.n_patients == 0:
        err.print("warning: the report is empty: no patient was selected (--allow-empty).")
    _print_report(files)
    anchor_beside(db, out_dir, "report")


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
    from jakreg.cli.monitoring import build_prospective_demo  # p-visits: prospective example

    prospective = build_prospective_demo(out_dir / "prospective")
    from jakreg.report.build import write_report

    url = f"sqlite:///{prospective.resolve()}"
    report = write_report(url, prospective.parent / "report", literature=False)
    out.print(f"Prospective-shaped example: jakreg monitor --db {prospective}")
    out.print(f"  its report, with the study-conduct sections: {report.html}")
    out.print(f"  its dashboard: jakreg user add coordinator --role admin --db {prospective}; "
              f"jakreg serve --dev --db {prospective}; open http://127.0.0.1:8000/")  # fmt: skip


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
