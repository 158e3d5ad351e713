"""This node's realtime side: the hub, the bus, the sink, and the loop serving one socket.

The socket loop only moves frames: :mod:`protocol` reads them, :mod:`routes` makes the one
service call, the connection sends the replies and pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chinwag.domain.access import View
from chinwag.domain.ratelimit import TokenBucket
from chinwag.domain.settings import AppSettings
from chinwag.errors import ChinwagError, InvalidRequest, RateLimited
from chinwag.proxies import TrustedProxies
from chinwag.realtime import offload, protocol, routes
from chinwag.realtime.bus import Bus, RedisBus
from chinwag.realtime.connection import AsgiWriter, Connection, Writer
from chinwag.realtime.hub import Hub
from chinwag.realtime.roster import LocalRosterStore, RedisRosterStore, Roster, RosterStore
from chinwag.realtime.session_log import SessionLog
from chinwag.realtime.sink import BusSink
from chinwag.services import sessions
from chinwag.services.context import Context
from chinwag.services.events import Event
from chinwag.services.sessions import GuestPass, Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Per-connection limits (docs/protocol.md, "Limits")."""

    max_frame_bytes: int = protocol.MAX_FRAME_BYTES
    #: Requests a second a connection may make, and how many it may save up.
    rate: float = 20.0
    burst: float = 60.0
    #: Refused (429) requests in a row after which the connection is closed with 4429.
    max_refused: int = 200
    #: Open connections per user on one node.
    max_connections_per_user: int = 20
    #: Undelivered events per connection before the resync policy applies.
    queue_limit: int = 2000
    #: Conversations one connection may watch at once.
    max_watches: int = 200
    #: Seconds between keepalive pings on native sockets (realtime/transport.py); a socket
    #: silent for a whole interval after a ping is dropped.
    ping_interval: float = 20.0


def _short(conn: Connection) -> str:
    """The connection's user id as a log may show it: short, escaped."""
    return conn.user_id[:64].encode("unicode_escape").decode()


def _tune_gc() -> None:
    """A node holds many long-lived objects (connections, watches) and makes many short-lived
    ones (frames): with the default thresholds the collector runs every few hundred frames and
    rescans the young generations; at 10,000 sockets that cost most of the fan-out time
    (docs/benchmarks.md). Collect less often; cycles still get collected."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 50_000), max(gen1, 50), max(gen2, 1_000))


class Socket(Protocol):
    """What the loop needs from a WebSocket (Starlette's fits)."""

    async def accept(self) -> None: ...

    async def receive(self) -> Any: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class RealtimeNode:
    def __init__(
        self,
        ctx: Context,
        bus: Bus,
        limits: Limits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.bus = bus
        self.limits = limits or Limits()
        self.monotonic = monotonic
        self.sink = BusSink()
        self.hub = Hub(bus, self._catch_up, self._recheck)
        store: RosterStore = (
            RedisRosterStore(bus.url, bus.prefix)
            if isinstance(bus, RedisBus)
            else LocalRosterStore()
        )
        self.roster = self.hub.roster = Roster(bus, store, ctx.clock.now_ms)
        self._publisher: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        #: Native sockets (realtime/transport.py), for the keepalive pings.
        self.sockets: set[Any] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Requests refused by a connection's rate limit since start (``/metrics`` reads it).
        self.refused_requests = 0
        #: Whose X-Forwarded-For a socket's client address is taken from (CHINWAG_TRUSTED_PROXIES).
        self.proxies = TrustedProxies()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        _tune_gc()
        await self.bus.start(self.hub.on_message, self.hub.on_lost)
        self.sink.attach()
        await self.roster.start()
        self._publisher = asyncio.create_task(self.sink.run(self.bus), name="chinwag-publisher")
        self._keepalive = asyncio.create_task(self.keepalive(), name="chinwag-keepalive")

    async def stop(self) -> None:
        for task in (self._publisher, self._keepalive):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.hub.close()
        await self.roster.close()
        await self.bus.close()

    async def keepalive(self) -> None:
        """Ping every native socket once per interval, from this one task."""
        while True:
            await asyncio.sleep(self.limits.ping_interval)
            for sock in list(self.sockets):
                sock.keepalive()

    async def _catch_up(
        self, app_id: str, conversation_id: str, after: int
    ) -> tuple[list[Event], int] | None:
        return await offload.call(
            sessions.changes_since, self.ctx, app_id, conversation_id, after
        )

    async def _recheck(
        self, app_id: str, conversation_id: str, watchers: list[tuple[str, GuestPass | None]]
    ) -> tuple[AppSettings, list[View | ChinwagError]]:
        return await offload.call(sessions.recheck, self.ctx, app_id, conversation_id, watchers)

    # -- one socket ------------------------------------------------------------------------
    # Both transports drive a socket the same way: admit (authenticate, in the thread pool),
    # connect, hand each text frame to on_text, disconnect. on_text answers ACKs, bad frames
    # and the rate limit at once; requests run one at a time, in order, in a task that exists
    # only while a connection has requests waiting.

    async def admit(
        self, app_id: str, user_id: str, signature: str | None, token: str | None
    ) -> Session:
        """Who the socket is; raises :class:`ChinwagError` when it may not connect."""
        if not app_id or "\x00" in app_id:  # PostgreSQL cannot even look such an id up
            raise InvalidRequest("the app id in the URL is not a valid id")
        session = await offload.call(
            sessions.authenticate, self.ctx, app_id, user_id, signature, token
        )
        if len(self.hub.connections_of(app_id, user_id)) >= self.limits.max_connections_per_user:
            raise ChinwagError(
                f"at most {self.limits.max_connections_per_user} connections per user",
                code="TOO_MANY_CONNECTIONS",
            )
        return session

    async def connect(self, session: Session, writer: Writer) -> Connection:
        conn = Connection(
            session,
            writer,
            self.limits.queue_limit,
            TokenBucket(self.limits.rate, self.limits.burst),
            self.hub.resync,
        )
        await self.hub.add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.hub.remove(conn)

    def on_text(self, conn: Connection, text: str | bytes) -> tuple[int, str] | None:
        """One frame from the client. Returns the close code and reason when the socket must
        close, else None. Never raises: whatever the frame, the socket gets a close frame."""
        try:
            return self._on_text(conn, text)
        except Exception:  # a bug, not the client's doing: close cleanly, keep the traceback
            log.exception("realtime: a frame from %s/%s failed", conn.session.app_id, _short(conn))
            return protocol.CLOSE_INTERNAL, "INTERNAL_ERROR"

    def _on_text(self, conn: Connection, text: str | bytes) -> tuple[int, str] | None:
        if type(text) is str and text.endswith(',"ACK"]'):  # the commonest frame, no JSON
            n = text[1:-7]
            # ASCII only: str.isdigit() also takes "\u0661" and "\u00b2", which JSON does not
            # (and int() refuses the second).
            if n.isascii() and n.isdigit() and len(n) < 17:
                conn.ack(int(n))
                return None
        try:
            frame = protocol.parse(text, self.limits.max_frame_bytes)
        except protocol.ProtocolViolation as v:
            log.info(
                "realtime: closed %s/%s with %d: %s",
                conn.session.app_id,
                _short(conn),
                v.code,
                v.reason,
            )
            return v.code, v.reason
        if isinstance(frame, protocol.Ack):
            conn.ack(frame.n)
            return None
        if isinstance(frame, protocol.BadRequest):
            conn.reply(protocol.error_reply(frame.seq, frame.error))
            return None
        wait = conn.bucket.take(self.monotonic())
        if wait > 0:
            conn.refused += 1
            self.refused_requests += 1
            if conn.refused > self.limits.max_refused:
                return 4429, "RATE_LIMITED: too many refused requests in a row"
            limited = RateLimited(round(wait, 3), "too many requests on this connection")
            conn.reply(protocol.error_reply(frame.seq, limited))
            return None
        conn.refused = 0
        if conn.requests is None:
            conn.requests = deque()
        conn.requests.append(frame)
        if conn.runner is None:
            conn.runner = asyncio.ensure_future(self._run(conn))
        return None

    async def _run(self, conn: Connection) -> None:
        try:
            while conn.requests:
                await self._handle(conn, conn.requests.popleft())
        finally:
            if conn.runner is asyncio.current_task():
                conn.runner = None
                conn.requests = None

    async def serve(
        self, ws: Socket, app_id: str, user_id: str, signature: str | None, token: str | None
    ) -> None:
        """Serve one ASGI WebSocket (the route in web/realtime.py; ``chinwag serve`` uses the
        native transport in realtime/transport.py instead)."""
        client = getattr(getattr(ws, "client", None), "host", None)
        record = SessionLog(app_id, user_id, client, "asgi")
        await ws.accept()
        try:
            session = await self.admit(app_id, user_id, signature, token)
        except ChinwagError as exc:
            code, reason = protocol.close_reason(exc)
            record.refused(code, exc.code, exc.reasons)
            await ws.close(code, reason)
            record.closed()
            return
        record.authenticated(session, signature, token)
        writer = AsgiWriter(ws.send_text)
        conn = writer.conn = await self.connect(session, writer)
        try:
            while not conn.closed:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    record.closing(message.get("code", 1000), message.get("reason") or "", "client")
                    return
                text = message.get("text")
                if text is None:
                    text = message.get("bytes") or b""
                close = self.on_text(conn, text)
                if close is not None:
                    record.closing(*close, "server")
                    await ws.close(*close)
                    return
        finally:
            self.disconnect(conn)
            record.closed()

    async def _handle(self, conn: Connection, req: protocol.Request) -> None:
        try:
            handler, params = routes.resolve(req.method, req.path)
            body, then = await handler(
                routes.Call(self.ctx, self.hub, conn, params, req.data, self.limits.max_watches)
            )
        except ChinwagError as exc:
            conn.reply(protocol.error_reply(req.seq, exc))
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("realtime: %s %s failed", req.method, req.path[:200])
            error = {"errorCode": "INTERNAL_ERROR", "reasons": ["an unexpected error; see the log"]}
            conn.reply(protocol.reply(req.seq, 500, error))
            return
        conn.reply(protocol.reply(req.seq, 200, body))
        if then is not None:
            then()
