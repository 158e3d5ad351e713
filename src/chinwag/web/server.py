"""How Chinwag is served: uvicorn for HTTP, with the native realtime transport for WebSockets.

One place builds the uvicorn configuration, so ``chinwag serve`` and the tests' live servers run
the same stack. Rules kept by ``chinwag serve``:

- It takes its listening socket first (:func:`listen`), before it opens the database or writes
  anything, so a taken port stops it with one line and no app, password or migration made.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import uvicorn

from chinwag.realtime.transport import RealtimeProtocol

#: Connections the kernel queues before the server accepts them (uvicorn's default).
BACKLOG = 2048


class CannotListen(Exception):
    """The server cannot take its address; the message says why in one line."""


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn configuration for an app made by ``create_app``: WebSocket upgrades go to
    :class:`RealtimeProtocol` (the realtime URL natively, any other URL to the ASGI app)."""
    options.setdefault("proxy_headers", False)
    return uvicorn.Config(app, host=host, port=port, ws=RealtimeProtocol, **options)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening (connections wait in its backlog until the
    server runs). Port 0 takes a free port: read it from ``getsockname()``."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        why = f"unknown host ({exc.strerror})"
        raise CannotListen(f"cannot listen on {host}:{port}: {why}") from None
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restart need not wait for the old connections' TIME_WAIT. A port
        # another socket listens on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = " (another server is running there: stop it, or choose --port / CHINWAG_PORT)"
        elif exc.errno == errno.EACCES:
            hint = " (ports below 1024 need privileges: choose --port / CHINWAG_PORT)"
        raise CannotListen(f"cannot listen on {host}:{port}: {why.lower()}{hint}") from None
    return sock
