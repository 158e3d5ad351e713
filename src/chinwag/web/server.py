"""How Chinwag is served: uvicorn for HTTP, with the native realtime transport for WebSockets.

One place builds the uvicorn configuration, so ``chinwag serve`` and the tests' live servers run
the same stack. Rules kept by ``chinwag serve``:

- It takes its listening socket first (:func:`listen`), before it opens the database or writes
  anything, so a taken port stops it with one line and no app, password or migration made.
- SIGINT (Ctrl+C) and SIGTERM stop it gracefully and it exits 0 (:class:`Server`): open sockets
  get a close frame, requests in flight finish, the app's shutdown runs. A second SIGINT stops
  it at once. uvicorn's own server raises the signal again after stopping, which prints a
  ``KeyboardInterrupt`` traceback for SIGINT and exits by the signal for SIGTERM.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from chinwag.proxies import TrustedProxies
from chinwag.realtime.transport import RealtimeProtocol
from chinwag.web import http_guard

log = logging.getLogger("chinwag")

#: Connections the kernel queues before the server accepts them (uvicorn's default).
BACKLOG = 2048


class CannotListen(Exception):
    """The server cannot take its address; the message says why in one line."""


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    pending_per_address: int = http_guard.PER_ADDRESS,
    trusted: TrustedProxies | None = None,
    **options: Any,
) -> uvicorn.Config:
    """A uvicorn configuration for an app made by ``create_app``: WebSocket upgrades go to
    :class:`RealtimeProtocol` (the realtime URL natively, any other URL to the ASGI app).
    HTTP has deadlines for slow clients and a cap of ``pending_per_address`` heads in progress
    per address, trusted proxies exempt (web/http_guard.py)."""
    options.setdefault("proxy_headers", False)  # chinwag.proxies does it, for sockets too
    options.setdefault("http", http_guard.guarded(pending_per_address, trusted))
    # The process's logging (chinwag.logs) stays as it is; the app logs each request itself.
    options.setdefault("log_config", None)
    options.setdefault("access_log", False)
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


class Server(uvicorn.Server):
    """uvicorn's server, stopped by SIGINT and SIGTERM without raising the signal again."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:  # uvicorn says where it listens only for its own sockets
            host, port = sockets[0].getsockname()[:2]
            log.info("serving on %s:%d (Ctrl+C or SIGTERM stops)", host, port)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
