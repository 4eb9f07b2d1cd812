"""Run one part of an analysis in a forked child process while this one computes the rest.

A forked child inherits the loaded snapshot as it is in memory (copy-on-write), so nothing is copied
or read again up front; only the part's result travels back, pickled through a pipe. The analyses
are pure functions of the snapshot, so the result is the one computing it here would give (the
report tests compare the two). Whenever the child cannot give it — no ``fork`` on this platform, the
child failed, was killed (e.g. out of memory) or its result does not pickle — the part is computed
here instead, so a failure in the child costs time, never a result, and an error in the part is
raised here as it would be without the child.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _child(part: Callable[[], Any], conn: Any) -> None:
    try:
        conn.send(("ok", part()))
    except BaseException as exc:  # any failure: the parent computes the part itself
        with contextlib.suppress(Exception):  # the pipe itself may be gone: the parent sees EOF
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def in_background(part: Callable[[], T], *, enabled: bool = True) -> Callable[[], T]:
    """Start ``part()`` in a forked child; the function returned gives its result (waiting for it).

    Not ``enabled`` (or without fork), ``part()`` runs when the result is first asked for."""
    if (
        not enabled
        or "fork" not in multiprocessing.get_all_start_methods()
        or not hasattr(os, "fork")
    ):
        return functools.cache(part)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(part, send), daemon=True)
    child.start()
    send.close()

    @functools.cache
    def result() -> T:
        try:
            status, value = receive.recv()
        except (EOFError, OSError):  # the child died before it answered
            status, value = "failed", "no answer"
        finally:
            receive.close()
            child.join()
        if status == "ok":
            return value  # type: ignore[no-any-return]
        return part()

    return result
