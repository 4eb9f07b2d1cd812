"""The API's route class: an endpoint, its JSON answer and the end of its database work in one thread.

FastAPI runs a plain ``def`` endpoint in the worker's thread pool and then validates and serialises what
it returned in a second trip through that pool. Between the two the request's session still holds its
database connection, and under load the second trip waits behind other requests: the connection pool can
be emptied by requests that are only waiting to serialise, while the requests that hold the threads wait
for a connection (a deadlock that lasts until the pool's timeout). ``ApiRoute`` serialises the answer
(with the route's ``response_model``) inside the endpoint's own thread and closes the session there, so a
request holds a connection only while it runs.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from jakreg.web.scope import Scope

# SQLite has one writer at a time, and a connection that finds the database locked polls for it with
# growing sleeps (up to 100 ms each): under concurrent writes most of a write's time is that sleeping.
# The API's writes in one worker process therefore queue here, in order, and only the workers (a few)
# meet at SQLite's lock. Reads never wait for it; PostgreSQL queues writers itself.
SQLITE_WRITES = threading.Lock()
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        model: Any = kwargs.get("response_model")
        adapter = TypeAdapter(model) if isinstance(model, type) or _is_generic(model) else None
        status = kwargs.get("status_code")
        writes = not set(kwargs.get("methods") or ["GET"]) <= READ_METHODS
        super().__init__(path, _in_one_thread(endpoint, adapter, status or 200, writes), **kwargs)


def _is_generic(model: Any) -> bool:
    return getattr(model, "__origin__", None) is not None  # list[RecordOut] and the like


def _in_one_thread(
    endpoint: Callable[..., Any], adapter: TypeAdapter[Any] | None, status: int, writes: bool
) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters of the wrapped endpoint
    def run(*args: Any, **kwargs: Any) -> Any:
        scopes = [v for v in (*args, *kwargs.values()) if isinstance(v, Scope)]
        queue = writes and any(s.session.get_bind().dialect.name == "sqlite" for s in scopes)
        try:
            with SQLITE_WRITES if queue else contextlib.nullcontext():
                result = endpoint(*args, **kwargs)
            if adapter is None or isinstance(result, Response):
                return result
            return Response(adapter.dump_json(result), status, media_type="application/json")
        finally:
            for scope in scopes:
                scope.session.close()  # back to the pool now, not after another thread hop

    return run
