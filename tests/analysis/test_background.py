"""A part of the analysis in a forked child: the same result as here, and computed here whenever the
child cannot give it (it failed, died, or its result does not pickle)."""

from __future__ import annotations

import os
import threading

import pytest

from jakreg.analysis.background import in_background
from jakreg.analysis.run import analyse, results_json

PARENT = os.getpid()


def test_the_child_computes_the_part() -> None:
    where = in_background(lambda: os.getpid())
    assert where() != PARENT
    assert where() == where()  # asked twice, computed once


def test_not_enabled_runs_here_when_asked() -> None:
    calls: list[int] = []
    result = in_background(lambda: calls.append(os.getpid()) or len(calls), enabled=False)
    assert calls == []
    assert result() == 1
    assert result() == 1
    assert calls == [PARENT]


def _dies_in_the_child() -> int:
    if os.getpid() != PARENT:
        os._exit(9)  # as if killed (e.g. out of memory)
    return 42


def test_a_child_that_dies_costs_time_not_the_result() -> None:
    assert in_background(_dies_in_the_child)() == 42


def test_an_error_in_the_part_is_raised_here() -> None:
    def fails() -> int:
        raise ValueError(f"bad data (in {'child' if os.getpid() != PARENT else 'parent'})")

    with pytest.raises(ValueError, match=r"bad data \(in parent\)"):
        in_background(fails)()


def test_a_result_that_does_not_pickle_is_computed_here() -> None:
    def lock() -> tuple[int, object]:
        return os.getpid(), threading.Lock()

    pid, _ = in_background(lock)()
    assert pid == PARENT


def test_the_study_results_are_the_same_with_the_child(example_url: str) -> None:
    assert results_json(analyse(example_url, background=True)) == results_json(analyse(example_url))


def test_a_child_leaves_the_parents_process_pool_alone() -> None:
    """A child ending while the parent's process pool works must not break that pool (a
    multiprocessing child ran the pool's finalizers on exit; the report's conduct reader broke)."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        slow = pool.submit(time.sleep, 2.0)
        assert in_background(os.getpid)() != PARENT
        assert slow.result() is None


def _exits_unless_in(pid: int) -> str:
    if os.getpid() != pid:
        os._exit(1)  # the conduct reader killed, e.g. for memory
    return "read here"


def test_a_dead_conduct_reader_costs_time_not_the_report() -> None:
    from jakreg.report.build import _conduct_reader

    with _conduct_reader(True) as submit:
        result = submit(_exits_unless_in, PARENT)
        assert result() == "read here"
