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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from chinwag.domain.ratelimit import TokenBucket
from chinwag.errors import ChinwagError, RateLimited
from chinwag.realtime import protocol, routes
from chinwag.realtime.bus import Bus, RedisBus
from chinwag.realtime.connection import Connection
from chinwag.realtime.hub import Hub
from chinwag.realtime.roster import LocalRosterStore, RedisRosterStore, Roster, RosterStore
from chinwag.realtime.sink import BusSink
from chinwag.services import sessions
from chinwag.services.context import Context
from chinwag.services.events import Event

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
        self.hub = Hub(bus, self._catch_up)
        store: RosterStore = (
            RedisRosterStore(bus.url, bus.prefix)
            if isinstance(bus, RedisBus)
            else LocalRosterStore()
        )
        self.roster = self.hub.roster = Roster(bus, store, ctx.clock.now_ms)
        self._publisher: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        _tune_gc()
        await self.bus.start(self.hub.on_message, self.hub.on_lost)
        self.sink.attach()
        await self.roster.start()
        self._publisher = asyncio.create_task(self.sink.run(self.bus), name="chinwag-publisher")

    async def stop(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        await self.hub.close()
        await self.roster.close()
        await self.bus.close()

    async def _catch_up(
        self, app_id: str, conversation_id: str, after: int
    ) -> tuple[list[Event], int] | None:
        return await run_in_threadpool(
            sessions.changes_since, self.ctx, app_id, conversation_id, after
        )

    # -- one socket ------------------------------------------------------------------------

    async def serve(
        self, ws: Socket, app_id: str, user_id: str, signature: str | None, token: str | None
    ) -> None:
        await ws.accept()
        try:
            session = await run_in_threadpool(
                sessions.authenticate, self.ctx, app_id, user_id, signature, token
            )
        except ChinwagError as exc:
            await ws.close(*protocol.close_reason(exc))
            return
        if len(self.hub.connections_of(app_id, user_id)) >= self.limits.max_connections_per_user:
            too_many = ChinwagError(
                f"at most {self.limits.max_connections_per_user} connections per user",
                code="TOO_MANY_CONNECTIONS",
            )
            await ws.close(*protocol.close_reason(too_many))
            return
        conn = Connection(
            session,
            ws.send_text,
            self.limits.queue_limit,
            TokenBucket(self.limits.rate, self.limits.burst),
            self.hub.resync,
        )
        await self.hub.add(conn)
        try:
            await self._read(ws, conn)
        finally:
            self.hub.remove(conn)

    async def _read(self, ws: Socket, conn: Connection) -> None:
        refused = 0
        while not conn.closed:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                text = message.get("bytes") or b""
            try:
                frame = protocol.parse(text, self.limits.max_frame_bytes)
            except protocol.ProtocolViolation as v:
                await ws.close(v.code, v.reason)
                return
            if isinstance(frame, protocol.Ack):
                conn.ack(frame.n)
                continue
            if isinstance(frame, protocol.BadRequest):
                conn.reply(protocol.error_reply(frame.seq, frame.error))
                continue
            wait = conn.bucket.take(self.monotonic())
            if wait > 0:
                refused += 1
                if refused > self.limits.max_refused:
                    await ws.close(4429, "RATE_LIMITED: too many refused requests in a row")
                    return
                limited = RateLimited(round(wait, 3), "too many requests on this connection")
                conn.reply(protocol.error_reply(frame.seq, limited))
                continue
            refused = 0
            await self._handle(conn, frame)

    async def _handle(self, conn: Connection, req: protocol.Request) -> None:
        try:
            handler, params = routes.resolve(req.method, req.path)
            body, then = await handler(
                routes.Call(self.ctx, self.hub, conn, params, req.data, self.limits.max_watches)
            )
        except ChinwagError as exc:
            conn.reply(protocol.error_reply(req.seq, exc))
            return
        except Exception:
            log.exception("realtime: %s %s failed", req.method, req.path[:200])
            error = {"errorCode": "INTERNAL_ERROR", "reasons": ["an unexpected error; see the log"]}
            conn.reply(protocol.reply(req.seq, 500, error))
            return
        conn.reply(protocol.reply(req.seq, 200, body))
        if then is not None:
            then()
