"""Write the report folder: report.html, report.pdf, results.json, tables/*.csv, figures/*.svg|png."""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.results import StudyResults
from jakreg.analysis.run import analyse, results_json
from jakreg.errors import SelectionError
from jakreg.report import figures as fig
from jakreg.report.context import FigureSlot, ReportContext, Section, build_context
from jakreg.report.figures_questions import Drawing
from jakreg.report.render import render_html, render_pdf
from jakreg.rules.treatment_emergent import default_window


@dataclass(frozen=True)
class ReportFiles:
    """What was written, and where."""

    out: Path
    html: Path
    pdf: Path
    results: Path
    tables: tuple[Path, ...]
    figures: tuple[Path, ...]
    database: Path | None = None  # the demo's own database
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    n_patients: int | None = None  # patients analysed


def render_figures(
    results: StudyResults,
    slots: list[FigureSlot],
    extra: Mapping[str, Drawing] | None = None,
) -> dict[str, fig.RenderedFigure]:
    """Draw the figures the context asks for (in memory)."""
    lit = results.literature

    def draw(name: str) -> Drawing:
        if extra and name in extra:  # figures of extra sections (e.g. study conduct)
            return extra[name]
        if name == "idda_paired":
            return (lambda ax: fig.idda_paired_plot(ax, results.idda)), (6.0, 4.5), None
        if name == "swimmer":
            lanes = results.timeline[: fig.MAX_SWIMMER_LANES]
            n = max(len(lanes), 1)
            return (
                (lambda ax: fig.swimmer_plot(ax, lanes, results.data.cutoff)),
                (9.0, 1.2 + 0.42 * n),
                None,
            )
        if name == "km":
            km = results.drug_survival.kaplan_meier
            return (lambda ax: fig.km_plot(ax, km)), (7.0, 4.8), 0.3
        if name == "cif":
            cif = results.drug_survival.cumulative_incidence
            return (lambda ax: fig.cif_plot(ax, cif)), (7.0, 4.8), 0.3
        if name == "response_bars":
            cohort = (
                lit.cohort_responses
                if lit is not None
                else tuple(
                    (k, v)
                    for k, v in (
                        ("CR", results.response.complete),
                        ("PR", results.response.partial),
                        ("NR", results.response.none),
                        ("NE", results.response.not_evaluable),
                        ("unknown", results.response.not_recorded),
                    )
                )
            )
            other = lit.literature_responses if lit is not None else None
            return (lambda ax: fig.response_bars(ax, cohort, other)), (7.0, 2.6), None
        from jakreg.report.figures_questions import question_drawing

        return question_drawing(name, results)

    out = {}
    for slot in slots:
        fn, size, bottom = draw(slot.name)
        out[slot.name] = fig.render(slot.name, slot.title, slot.caption, fn, size, bottom=bottom)
    return out


def write_results_folder(
    results: StudyResults,
    out: Path,
    *,
    suppress_below: int | None = None,
    generated_at: dt.datetime | None = None,
    extra_sections: Sequence[Section] = (),
    extra_drawings: Mapping[str, Drawing] | None = None,
    parallel: bool = False,
) -> ReportFiles:
    """Render and write every file of the report for computed results.

    ``parallel``: results.json and the tables are written by a forked child while this process
    draws the figures and renders the HTML and PDF (jakreg.analysis.background)."""
    import time

    from jakreg.analysis.background import in_background

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ctx: ReportContext = build_context(
        results, suppress_below=suppress_below, generated_at=generated_at,
        extra_sections=extra_sections,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    data_files = in_background(lambda: _write_data(results, ctx, out), enabled=parallel)
    rendered = render_figures(results, ctx.figures, extra_drawings)
    timings["figures"] = time.perf_counter() - t0
    figure_paths = []
    for name, f in rendered.items():
        for ext, data in (("svg", f.svg), ("png", f.png)):
            path = out / "figures" / f"{name}.{ext}"
            path.write_bytes(data)
            figure_paths.append(path)
    t1 = time.perf_counter()
    html = render_html(ctx, results, rendered)
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    timings["html"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    pdf_path = out / "report.pdf"
    pdf_path.write_bytes(render_pdf(html))
    timings["pdf"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    results_path, table_paths = data_files()
    timings["data"] = time.perf_counter() - t3  # waiting for them, or writing them, here
    return ReportFiles(
        out=out,
        html=html_path,
        pdf=pdf_path,
        results=results_path,
        tables=tuple(table_paths),
        figures=tuple(figure_paths),
        timings=timings,
        n_patients=results.cohort.n_patients,
    )


def _write_data(results: StudyResults, ctx: ReportContext, out: Path) -> tuple[Path, list[Path]]:
    """results.json and tables/*.csv."""
    table_paths = []
    for table in ctx.tables:
        path = out / "tables" / f"{table.name}.csv"
        path.write_text(table.to_csv(), encoding="utf-8")
        table_paths.append(path)
    results_path = out / "results.json"
    results_path.write_text(results_json(results), encoding="utf-8")
    return results_path, table_paths


def write_report(
    url: str | None,
    out: Path,
    *,
    cutoff: dt.date | None = None,
    centre: str | None = None,
    literature: bool = True,
    suppress_below: int | None = None,
    te_days_before: int | None = None,
    te_days_after: int | None = None,
    allow_empty: bool = False,
    parallel: bool = False,
) -> ReportFiles:
    """Analyse the database at `url` and write the report folder `out` (created if needed).

    ``te_days_before`` / ``te_days_after`` change the treatment-emergent window's limits
    (rules/data/treatment_emergent.yaml) for this report. With no patient to analyse nothing is
    written and SelectionError says so, unless ``allow_empty`` (the files then say it).
    ``parallel``: read the study-conduct data (quality run, visits, signals) in a second process
    while this one analyses (the two only read the database), fit the mixed model and re-run
    the sensitivity table in forked children once the snapshot is loaded, and write results.json
    and the tables in one while the figures and PDF are drawn (jakreg.analysis.background); same
    files either way."""
    import time

    if suppress_below is not None and suppress_below < 2:
        raise ValueError("suppress_below must be at least 2 (counts below it are hidden)")
    t0 = time.perf_counter()
    window = default_window().with_days(before=te_days_before, after=te_days_after)
    options = AnalysisOptions(
        centre=centre, cutoff=cutoff, literature=literature, treatment_emergent=window
    )
    from jakreg.report import conduct_visits as cv
    from jakreg.report.quality_part import conduct_section, load_conduct

    with _conduct_reader(parallel) as submit:
        quality_data = submit(load_conduct, url, centre=centre, cutoff=cutoff)
        visit_data = submit(cv.load_visit_conduct, url, centre=centre, cutoff=cutoff)
        results = _analyse(url, options, literature, background=parallel)
        conduct = conduct_section(quality_data(), suppress_below)
        visits = cv.visit_conduct_section(visit_data(), suppress_below)
    analysed = time.perf_counter() - t0
    if results.cohort.n_patients == 0 and not allow_empty:
        raise SelectionError(empty_selection_text(centre, options.source) + EMPTY_HINT)
    with gc_frozen():
        files = write_results_folder(
            results, out, suppress_below=suppress_below, extra_sections=(conduct, visits),
            extra_drawings={cv.FIGURE: cv.drawing(visit_data())}, parallel=parallel,
        )  # fmt: skip
    files.timings["analysis"] = analysed
    return files


def _analyse(
    url: str | None, options: AnalysisOptions, literature: bool, *, background: bool = False
) -> StudyResults:
    if literature:
        from jakreg.analysis.published import packaged_case_records

        cases, source = packaged_case_records()
        return analyse(
            url, options, literature_cases=cases, literature_source=source, background=background
        )
    return analyse(url, options, background=background)


@contextmanager
def _conduct_reader(parallel: bool) -> Iterator[Callable[..., Callable[[], Any]]]:
    """``submit(fn, *args, **kw)`` gives a function returning ``fn``'s result: run in a second
    process (spawned: nothing of this one's state is shared) when ``parallel``, else here on demand."""
    if not parallel:
        yield lambda fn, *a, **kw: functools.cache(lambda: fn(*a, **kw))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    def submit(fn: Callable[..., Any], *a: Any, **kw: Any) -> Callable[[], Any]:
        future = pool.submit(fn, *a, **kw)

        @functools.cache
        def result() -> Any:
            try:
                return future.result()
            except BrokenProcessPool:  # the reader died (e.g. killed for memory): read it here
                return fn(*a, **kw)

        return result

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield submit


EMPTY_HINT = (
    "; nothing was written. Import data first, choose another centre, or pass --allow-empty to "
    "write an empty report"
)


def empty_selection_text(centre: str | None, source: str | None) -> str:
    """'no patients to analyse (centre SYN-Z, source cohort)'."""
    parts = [f"centre {centre}" if centre else "every centre"]
    parts.append(f"source {source}" if source else "every source")
    return (
        f"no patients to analyse ({', '.join(parts)}, with a JAK-inhibitor course by the cut-off)"
    )


@contextmanager
def gc_frozen() -> Iterator[None]:
    """Keep the analysed study out of garbage collection while the files are written.

    The snapshot and results are millions of long-lived objects; without this, every full
    collection triggered by matplotlib, the JSON encoder or WeasyPrint scans all of them again, so
    even the fixed-size PDF would take longer the larger the registry. They are handed back to the
    collector afterwards.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_demo(out: Path) -> ReportFiles:
    """Build a fresh SQLite database in `out` from the bundled synthetic example and report on it."""
    from jakreg.study import build_demo_database

    built = build_demo_database(out)
    db = out / "demo.db"
    files = write_report(built.url, out)
    return ReportFiles(
        out=files.out,
        html=files.html,
        pdf=files.pdf,
        results=files.results,
        tables=files.tables,
        figures=files.figures,
        database=db,
        timings=files.timings,
        n_patients=files.n_patients,
    )
