"""Slow clients cannot hold the server: uvicorn's HTTP protocol with deadlines and a per-address
cap on requests in progress.

uvicorn waits forever for a request that never finishes arriving: a client that opens a socket
and sends half a header (or a body a byte a minute) keeps it, and a few hundred such sockets use
up the process's files, after which nobody is answered. Rules kept here, for every HTTP
connection (WebSocket upgrades included, until the upgrade request is complete):

- **Head deadline**: a request's line and headers must arrive within ``HEAD_SECONDS`` of the
  connection opening (or of the request's first byte, on a kept-alive connection); else the
  connection is closed.
- **Body deadline**: a request's whole body must arrive within ``BODY_SECONDS`` of its headers.
- **Per-address cap**: one client address may have at most ``PER_ADDRESS`` requests whose head
  has not arrived yet (``CHINWAG_HTTP_PENDING_PER_ADDRESS``; 0: no cap); a connection beyond
  that is closed at once. A well-behaved client sends a head in one packet, so it is never near
  the cap. A trusted reverse proxy (``CHINWAG_TRUSTED_PROXIES``) is not capped: it carries
  everyone's requests, and a reconnect storm through it opens thousands at once; guarding
  against slow clients is then the proxy's job (docs/deploy.md's nginx does it).

Idle kept-alive connections are uvicorn's own business (``timeout_keep_alive``, 5 s).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from chinwag.proxies import TrustedProxies

log = logging.getLogger(__name__)

HEAD_SECONDS = 10.0
BODY_SECONDS = 30.0
PER_ADDRESS = 64


class GuardedHttpProtocol(HttpToolsProtocol):
    #: Requests whose head is still arriving, per client address (one event loop per server).
    in_progress: ClassVar[dict[str, int]] = {}
    #: Heads one address may have in progress (0: no cap).
    per_address: ClassVar[int] = PER_ADDRESS
    #: Addresses exempt from the cap: the trusted proxies.
    exempt: ClassVar[TrustedProxies] = TrustedProxies()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._counted: str | None = None

    # -- the connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._count():
            log.warning(
                "http: %s has %d requests in progress; closing a new connection",
                self._address(),
                self.per_address,
            )
            transport.close()
            return
        self._arm(HEAD_SECONDS, "request head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._uncount()
        super().connection_lost(exc)

    # -- a request ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._counted is not None:
            return  # the connection's first request: counted and timed since it opened
        if not self._count():  # a kept-alive connection's next request, over the cap
            self.transport.close()
            return
        self._arm(HEAD_SECONDS, "request head")

    def on_headers_complete(self) -> None:
        self._uncount()
        self._disarm()
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(BODY_SECONDS, "request body")  # a WebSocket is the transport's from here

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # -- deadlines and counts ----------------------------------------------------------------

    def _address(self) -> str:
        return self.client[0] if self.client else ""

    def _count(self) -> bool:
        address = self._address()
        if self.per_address <= 0 or self.exempt.trusts(address):
            self._counted = ""  # timed, not counted
            return True
        held = self.in_progress.get(address, 0)
        if held >= self.per_address:
            return False
        self.in_progress[address] = held + 1
        self._counted = address
        return True

    def _uncount(self) -> None:
        address, self._counted = self._counted, None
        if not address:
            return
        left = self.in_progress.get(address, 1) - 1
        if left > 0:
            self.in_progress[address] = left
        else:
            self.in_progress.pop(address, None)

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, what: str) -> None:
        self._deadline = None
        log.info("http: closing %s: the %s did not arrive in time", self._address(), what)
        self._uncount()
        self.transport.close()


def guarded(
    per_address: int = PER_ADDRESS, trusted: TrustedProxies | None = None
) -> type[GuardedHttpProtocol]:
    """The protocol class for one server: its cap, its exempt addresses, and a count of its own
    (two servers in one process, as in the tests, never share one)."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "in_progress": {},
            "per_address": per_address,
            "exempt": trusted or TrustedProxies(),
        },
    )
