"""Check the CSRF token of a multipart form before its body is parsed.

Parsing a multipart body spools every file it holds; a forged or stale post with a large body would cost
that work before being refused. jakreg's forms put the hidden ``csrf_token`` field before the file input,
and browsers send fields in page order, so the body is read only as far as the token: when it is missing,
wrong, or comes after a file, the request is refused with the rest of the body unread. Otherwise the bytes
read are replayed and the form parsed as usual.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request

from jakreg.web.security import same

FIRST_PART_MAX = (
    64 * 1024
)  # the first part (the token) is far shorter; read no further looking for it
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_CSRF_PART = re.compile(rb'^content-disposition:\s*form-data;\s*name="csrf_token"\s*$', re.I | re.M)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def token_before_files(head: bytes, boundary: bytes) -> bytes | bool | None:
    """The ``csrf_token`` value when it comes among the plain fields before the first file part;
    False when a file part (or the end) comes first; None when more of the body is needed to tell."""
    delimiter = b"--" + boundary
    at = head.find(delimiter)
    if at < 0:
        return None if len(head) < len(delimiter) + 2 else False
    while True:
        if head[at + len(delimiter) : at + len(delimiter) + 2] == b"--":
            return False  # the closing delimiter: no token
        headers_from = at + len(delimiter) + 2  # the CRLF after the delimiter
        headers_end = head.find(b"\r\n\r\n", headers_from)
        if headers_end < 0:
            return None
        headers = head[headers_from:headers_end]
        if b"filename=" in headers.lower():
            return False  # a file before the token: refused unread
        value_end = head.find(b"\r\n" + delimiter, headers_end + 4)
        if value_end < 0:
            return None
        if _CSRF_PART.search(headers):
            return head[headers_end + 4 : value_end]
        at = value_end + 2


async def multipart_form(request: Request, expected: str) -> FormData | None:
    """The parsed form when the session's CSRF token (``expected``) comes before any file; None, with
    the rest of the body unread, when it does not."""
    found = _BOUNDARY.search(request.headers.get("content-type", ""))
    if found is None:
        return None
    boundary = found.group(1).encode("latin-1")
    chunks: list[bytes] = []
    size = 0
    token: bytes | bool | None = None
    more = True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        more = bool(message.get("more_body", False))
        chunks.append(chunk)
        size += len(chunk)
        token = token_before_files(b"".join(chunks), boundary)
        if token is not None or size > FIRST_PART_MAX:
            break
    if not isinstance(token, bytes) or not same(token.decode("utf-8", "replace"), expected):
        return None
    read = b"".join(chunks)
    replayed = False

    async def receive() -> Any:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": read, "more_body": more}
        return await request.receive()

    replay = Request(request.scope, receive)
    form = await replay.form()
    request._form = form
    return form
