"""One log record per HTTP request, with its request id; the client's address behind proxies.

Rules kept:

- Each request gets an id: the client's ``X-Request-Id`` when it is 1-64 characters of letters,
  digits, ``-`` and ``_`` (so a proxy's id joins the two logs), else a fresh one. The answer
  carries it back in ``X-Request-Id``.
- The record (logger ``chinwag.http``, at the end of the request) has the method, the path
  without its query string (queries may carry tokens), the status, the duration, the client's
  address, and the app id of a ``/v1`` path. Never a header, a body or a query.
- Behind trusted proxies (:mod:`chinwag.proxies`) the ASGI scope's ``client`` and
  ``scheme`` are the real client's, for every layer below.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from chinwag import ids
from chinwag.logs import fields
from chinwag.proxies import TrustedProxies

log = logging.getLogger("chinwag.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _header(scope: Any, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ", ".join(values) if values else None


class AccessLog:
    """The outermost layer: requests go to ``inner``; ``app`` is the FastAPI application under
    every wrapper (``create_app(...).app``, as callers and tests reach its state)."""

    def __init__(self, inner: Any, app: Any, proxies: TrustedProxies | None = None) -> None:
        self.inner = inner
        self.app = app
        self.proxies = proxies or TrustedProxies()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.inner(scope, receive, send)
            return
        peer = scope.get("client")
        if peer and self.proxies.trusts(peer[0]):
            host = self.proxies.client(peer[0], _header(scope, b"x-forwarded-for"))
            scheme = self.proxies.scheme(
                peer[0], _header(scope, b"x-forwarded-proto"), scope.get("scheme", "http")
            )
            scope = {**scope, "client": (host, 0), "scheme": scheme}
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else "req_" + ids.random_token(16)
        started = time.monotonic()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.inner(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            parts = path.split("/")
            client = scope.get("client")
            log.info(
                "http request",
                extra=fields(
                    requestId=request_id,
                    method=scope.get("method"),
                    path=path[:300],
                    status=status,
                    durationMs=round((time.monotonic() - started) * 1000, 1),
                    client=client[0] if client else None,
                    appId=parts[2] if len(parts) > 2 and parts[1] == "v1" else None,
                ),
            )
