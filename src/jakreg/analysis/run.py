"""Run the study analysis on a database: load the selected rows, compute, and write results.json."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from jakreg.analysis.literature_side import CaseRecord
from jakreg.analysis.load import load_snapshot
from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.results import StudyResults, analyse_snapshot
from jakreg.store.db import open_session


def analyse(
    url: str | None = None,
    options: AnalysisOptions | None = None,
    *,
    literature_cases: Sequence[CaseRecord] | None = None,
    literature_source: str | None = None,
    background: bool = False,
) -> StudyResults:
    """The study results for the database at `url` (None: $JAKREG_DATABASE_URL, else ./jakreg.db).

    ``background``: part of the analysis in a forked child process (analyse_snapshot)."""
    opts = options or AnalysisOptions()
    with gc_paused():
        with open_session(url) as session:
            snapshot = load_snapshot(
                session,
                centre=opts.centre,
                source=opts.source,
                with_literature=opts.literature,
            )
        return analyse_snapshot(
            snapshot, opts, literature_cases=literature_cases, literature_source=literature_source,
            background=background,
        )  # fmt: skip


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the snapshot is built and analysed.

    Loading creates millions of small acyclic records (rows, dates, frozen dataclasses); each
    collection would scan all of them again, which costs more than the reading itself at registry
    size. Collection resumes afterwards as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def results_json(results: StudyResults) -> str:
    """results.json text: the documented contract (docs/results.md, results.schema.json)."""
    from jakreg.jsontext import dumps_readable

    text = dumps_readable(results.to_dict(), depth=3, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def write_results(results: StudyResults, path: Path) -> Path:
    path.write_text(results_json(results), encoding="utf-8")
    return path
