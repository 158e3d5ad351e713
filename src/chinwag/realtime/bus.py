"""The broker between nodes: a small pub/sub interface with an in-process and a Redis backend.

A node subscribes once per channel it needs (one per watched conversation, plus one per app with
connected sessions), never once per socket; the hub counts its watchers. Delivery is a hint: the
database stays the record and a gap in positions makes the hub catch up from it. When a backend
loses messages (a Redis reconnect), it calls ``on_lost`` so the hub can catch up every room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

log = logging.getLogger(__name__)

#: Called on the event loop with (channel, payload) for each message on a subscribed channel.
Handler = Callable[[str, str], None]
LostHandler = Callable[[], None]


class Bus(Protocol):
    async def start(self, handler: Handler, on_lost: LostHandler | None = None) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, payload: str) -> None: ...

    async def close(self) -> None: ...


class MemoryBroker:
    """What several in-process buses share (one per process by default)."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[MemoryBus]] = {}


class MemoryBus:
    """In-process pub/sub; buses on the same broker behave like nodes on one Redis."""

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker or MemoryBroker()
        self._handler: Handler | None = None
        self.channels: set[str] = set()

    async def start(self, handler: Handler, on_lost: LostHandler | None = None) -> None:
        self._handler = handler

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        self.broker.subscribers.setdefault(channel, set()).add(self)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        subs = self.broker.subscribers.get(channel)
        if subs is not None:
            subs.discard(self)
            if not subs:
                del self.broker.subscribers[channel]

    async def publish(self, channel: str, payload: str) -> None:
        for bus in list(self.broker.subscribers.get(channel, ())):
            if bus._handler is not None:
                bus._handler(channel, payload)

    async def close(self) -> None:
        for channel in list(self.channels):
            await self.unsubscribe(channel)
        self._handler = None


class RedisBus:
    """Redis pub/sub: one connection publishes, one pub/sub connection holds every channel this
    node needs. Channels are namespaced with ``prefix``."""

    def __init__(self, url: str, prefix: str = "chinwag:") -> None:
        self.url = url
        self.prefix = prefix
        self._handler: Handler | None = None
        self._on_lost: LostHandler | None = None
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # A private channel keeps the pub/sub connection subscribed even with no rooms.
        self._control = f"{prefix}node:{uuid.uuid4().hex}"
        self.channels: set[str] = set()

    async def start(self, handler: Handler, on_lost: LostHandler | None = None) -> None:
        import redis.asyncio as redis

        self._handler, self._on_lost = handler, on_lost
        self._client = redis.Redis.from_url(self.url, decode_responses=True)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._control)
        self._reader = asyncio.create_task(self._read(), name="chinwag-redis-bus")

    async def _read(self) -> None:
        failing = False
        while True:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: redis-py resubscribes on retry
                if not failing:
                    log.warning("redis bus: %s; reconnecting", exc)
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                failing = False
                log.info("redis bus: reconnected; catching up from the database")
                if self._on_lost is not None:
                    self._on_lost()
            if msg is None or msg.get("type") != "message":
                continue
            channel = msg["channel"]
            if channel.startswith(self.prefix) and self._handler is not None:
                try:
                    self._handler(channel[len(self.prefix) :], msg["data"])
                except Exception:  # pragma: no cover - a bug in a handler must not stop the bus
                    log.exception("redis bus: handler failed")

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self.channels.add(channel)
            await self._pubsub.subscribe(self.prefix + channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self.channels.discard(channel)
            await self._pubsub.unsubscribe(self.prefix + channel)

    async def publish(self, channel: str, payload: str) -> None:
        await self._client.publish(self.prefix + channel, payload)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()


_DEFAULT_BROKER = MemoryBroker()


def open_bus(url: str) -> Bus:
    """``memory://`` (this process only) or ``redis://host:port/db``."""
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryBus(_DEFAULT_BROKER)
    if scheme in ("redis", "rediss"):
        return RedisBus(url)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")
