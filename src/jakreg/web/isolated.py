"""Run memory-hungry work (the study report) in a child process, and hand freed memory back.

A report loads every selected patient, matplotlib and WeasyPrint; in a long-lived server worker the
memory stays with the process after the request (CPython and glibc keep freed arenas), so a worker
grew from ~90 MB to ~500 MB over reports and exports. In a child process it all goes back to the
system when the child ends. The child is started with "spawn" (no copy of the worker's threads,
sockets or database connections) and runs one call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def run_isolated(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) in a fresh child process; its result or its exception comes back."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def write_report_in_child(
    db_url: str, out: Path, centre: str | None, *, allow_empty: bool = True
) -> tuple[Path, Path]:
    """The report folder and its results.json, written by a child process.

    Only this module is imported in the worker: the report's own modules (matplotlib, WeasyPrint,
    the analysis, ~150 MB once imported) are imported in the child alone, and what comes back is
    two paths, not a ReportFiles (whose unpickling would import them here)."""
    return run_isolated(_write_report, db_url, out, centre, allow_empty)


def _write_report(
    db_url: str, out: Path, centre: str | None, allow_empty: bool
) -> tuple[Path, Path]:
    from jakreg.report.build import write_report

    files = write_report(db_url, out, centre=centre, allow_empty=allow_empty)
    return files.out, files.results


def release_memory() -> None:
    """Collect garbage and ask glibc to return free heap pages to the system (no-op elsewhere)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        trim = getattr(libc, "malloc_trim", None)
        if trim is not None:
            trim(0)
    except OSError:
        return
