"""Run one part of an analysis in a forked child process while this one computes the rest.

A forked child inherits the loaded snapshot as it is in memory (copy-on-write), so nothing is copied
or read again up front; only the part's result travels back, pickled through a pipe. The analyses
are pure functions of the snapshot, so the result is the one computing it here would give (the
report tests compare the two). Whenever the child cannot give it — no ``fork`` on this platform, the
child failed, was killed (e.g. out of memory) or its result does not pickle — the part is computed
here instead, so a failure in the child costs time, never a result, and an error in the part is
raised here as it would be without the child.

The child is a bare ``os.fork``, not a multiprocessing process: it computes, writes its answer and
leaves with ``os._exit``, running none of the exit handlers it inherited. (A multiprocessing child
runs multiprocessing's finalizers on exit, and those reach into the parent's other pools: the
report's conduct reader broke when such a child ended before it.)
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _answer(part: Callable[[], object]) -> bytes:
    try:
        return pickle.dumps(("ok", part()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # any failure, unpicklable results too: the parent computes it
        return pickle.dumps(("failed", f"{type(exc).__name__}: {exc}"))


def in_background(part: Callable[[], T], *, enabled: bool = True) -> Callable[[], T]:
    """Start ``part()`` in a forked child; the function returned gives its result (waiting for it).

    Not ``enabled`` (or without fork), ``part()`` runs when the result is first asked for."""
    if not enabled or not hasattr(os, "fork"):
        return functools.cache(part)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, answer, leave (no exit handlers, no buffers of the parent)
        try:
            os.close(read_end)
            data = _answer(part)
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        finally:
            os._exit(0)
    os.close(write_end)

    @functools.cache
    def result() -> T:
        chunks = []
        try:
            while chunk := os.read(read_end, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(read_end)
            os.waitpid(pid, 0)
        try:
            # our own forked child over a pipe only we hold: not untrusted data
            status, value = pickle.loads(b"".join(chunks))  # noqa: S301
        except Exception:  # the child died before it answered (nothing, or half an answer)
            status, value = "failed", None
        if status == "ok":
            return value  # type: ignore[no-any-return]
        return part()

    return result
