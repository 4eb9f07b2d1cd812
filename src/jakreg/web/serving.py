"""How the server runs under uvicorn: its HTTP protocol (with TCP_NODELAY) and the worker count.

uvicorn (up to at least 0.54) binds the listening socket itself when it starts several workers, and leaves
its ``proto`` at 0; asyncio then does not set TCP_NODELAY on the accepted connections, so Nagle's algorithm
holds back the end of every answer on a keep-alive connection until the client's delayed ACK: 40 ms more
for each request after the first (https://github.com/Kludex/uvicorn/issues/3149). ``HttpProtocol`` is
uvicorn's own protocol (httptools when installed, else h11) that sets TCP_NODELAY on every connection.

    jakreg serve --workers 4                      # uses it
    uvicorn jakreg.web.asgi:app --workers 4 --http jakreg.web.serving:HttpProtocol
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

HTTP_PROTOCOL = "jakreg.web.serving:HttpProtocol"


class HttpProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, with Nagle's algorithm off on every accepted TCP connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """Worker processes for `jakreg serve`: one per core, at most 8. A worker runs Python on one core at
    a time (the GIL); its threads ($JAKREG_THREADS) overlap the waits for the database, so more workers
    than cores add memory and contention, not throughput."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
