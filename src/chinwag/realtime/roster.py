"""The live guest roster: which users watch a conversation as guests, on every node.

Each node keeps its own guests per conversation, fed by the hub (a guest watch is activated, a
watch ends, a guest becomes a participant). A user watching from several sockets counts once;
``since`` is when their first socket here started watching.

Several nodes (``RedisRosterStore``): each node writes its guests into one Redis hash per
conversation, one field per (node, user), and keeps a heartbeat key alive with an expiry; a
reader ignores (and prunes) the fields of nodes whose heartbeat expired, so a node that dies
without cleaning up drops out of every roster within ``NODE_TTL_SECONDS``. With ``memory://``
the local guests are the whole roster (``LocalRosterStore``).

Changes are coalesced: a conversation whose guests changed is marked dirty, and one flush every
``FLUSH_SECONDS`` writes it to the store and publishes one ``guests.changed`` event with the
new count on the conversation's channel, which the hub pushes to participants only (never to
guests: a guest learns nothing about other guests). A join storm of thousands of guests thus
costs a few events a second, not one per guest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chinwag.realtime import wire
from chinwag.realtime.bus import Bus
from chinwag.realtime.connection import Watch
from chinwag.services.events import Event

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.2
NODE_TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10
#: Roster hashes outlive their last write by this long, so abandoned ones disappear.
HASH_TTL_SECONDS = 24 * 3600

Key = tuple[str, str]  # (app id, conversation id)


@dataclass(frozen=True)
class RosterGuest:
    user_id: str
    since: int  # ms since the epoch

    def to_json(self) -> dict[str, Any]:
        return {"userId": self.user_id, "since": self.since}


@dataclass
class _LocalGuest:
    since: int
    watches: set[Watch] = field(default_factory=set)


class RosterStore(Protocol):
    """Where every node's guests meet."""

    async def start(self) -> None: ...

    async def write(self, key: Key, guests: Mapping[str, int]) -> None:
        """Replace this node's guests of one conversation (user id -> since)."""
        ...

    async def read_others(self, key: Key) -> dict[str, int]:
        """The other live nodes' guests of one conversation (user id -> earliest since)."""
        ...

    async def close(self) -> None: ...


class LocalRosterStore:
    """One node: the local guests are the whole roster."""

    async def start(self) -> None:
        return None

    async def write(self, key: Key, guests: Mapping[str, int]) -> None:
        return None

    async def read_others(self, key: Key) -> dict[str, int]:
        return {}

    async def close(self) -> None:
        return None


class RedisRosterStore:
    """Several nodes on one Redis: a hash per conversation, a field per (node, user)."""

    def __init__(self, url: str, prefix: str = "chinwag:") -> None:
        self.url = url
        self.prefix = prefix
        self.node_id = uuid.uuid4().hex
        self._client: Any = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._written: dict[Key, dict[str, int]] = {}

    def _hash(self, key: Key) -> str:
        return f"{self.prefix}roster:{key[0]}:{key[1]}"

    def _node_key(self, node_id: str) -> str:
        return f"{self.prefix}roster-node:{node_id}"

    async def start(self) -> None:
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(self.url, decode_responses=True)
        await self._client.set(self._node_key(self.node_id), "1", ex=NODE_TTL_SECONDS)
        self._heartbeat = asyncio.create_task(self._beat(), name="chinwag-roster-heartbeat")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._client.set(self._node_key(self.node_id), "1", ex=NODE_TTL_SECONDS)
            except Exception as exc:  # Redis is away: the roster is a hint; keep trying
                log.warning("roster: heartbeat failed: %s", exc)

    async def write(self, key: Key, guests: Mapping[str, int]) -> None:
        """Only the difference from what this node wrote last goes to Redis."""
        guests = dict(guests)  # as of now: the hub may change its guests while Redis answers
        name = self._hash(key)
        old = self._written.get(key, {})
        gone = [f"{self.node_id}|{u}" for u in old.keys() - guests.keys()]
        new = {f"{self.node_id}|{u}": s for u, s in guests.items() if old.get(u) != s}
        pipe = self._client.pipeline(transaction=True)
        if gone:
            pipe.hdel(name, *gone)
        if new:
            pipe.hset(name, mapping=new)
        if guests:
            pipe.expire(name, HASH_TTL_SECONDS)
        await pipe.execute()
        if guests:
            self._written[key] = guests
        else:
            self._written.pop(key, None)

    async def read_others(self, key: Key) -> dict[str, int]:
        fields: dict[str, str] = await self._client.hgetall(self._hash(key))
        nodes = sorted({f.partition("|")[0] for f in fields} - {self.node_id})
        alive = await self._client.mget([self._node_key(n) for n in nodes]) if nodes else []
        live = {n for n, a in zip(nodes, alive, strict=True) if a is not None}
        out: dict[str, int] = {}
        dead: list[str] = []
        for f, since in fields.items():
            node, _, user_id = f.partition("|")
            if node == self.node_id:
                continue
            if node not in live:
                dead.append(f)
                continue
            out[user_id] = min(int(since), out.get(user_id, int(since)))
        if dead:
            await self._client.hdel(self._hash(key), *dead)
        return out

    async def close(self) -> None:
        """Remove this node's traces and disconnect; closing again does nothing."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._client is None:
            return
        with contextlib.suppress(Exception):  # leave no trace; the expiry covers a failure
            for key in list(self._written):
                await self.write(key, {})
            await self._client.delete(self._node_key(self.node_id))
        client, self._client = self._client, None
        await client.aclose()


def guests_changed_payload(key: Key, count: int) -> str:
    """The bus envelope of a ``guests.changed`` event (no position: it is not a change to the
    conversation's record), built by the one envelope builder (realtime/wire.py)."""
    app_id, cid = key
    [(_, payload)] = wire.envelopes(Event("guests.changed", app_id, {"count": count}, cid))
    return payload


class _Since(Mapping[str, int]):
    """User id -> since of this node's guests, read through (a flush with one node copies
    nothing; a super group's roster is flushed several times a second during a join storm)."""

    __slots__ = ("_guests",)

    def __init__(self, guests: dict[str, _LocalGuest]) -> None:
        self._guests = guests

    def __getitem__(self, user_id: str) -> int:
        return self._guests[user_id].since

    def __iter__(self) -> Iterator[str]:
        return iter(self._guests)

    def __len__(self) -> int:
        return len(self._guests)


def _count(local: dict[str, _LocalGuest], others: dict[str, int]) -> int:
    """Users watching here or on another node, each once (without copying this node's)."""
    return len(local) + sum(1 for u in others if u not in local)


class Roster:
    """This node's guests, fed by the hub, flushed to the store and announced on the bus."""

    def __init__(self, bus: Bus, store: RosterStore, now_ms: Callable[[], int]) -> None:
        self.bus = bus
        self.store = store
        self.now_ms = now_ms
        self.local: dict[Key, dict[str, _LocalGuest]] = {}
        self._joined: dict[Watch, Key] = {}
        self._dirty: set[Key] = set()
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.store.start()
        self._flusher = asyncio.create_task(self._run(), name="chinwag-roster")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.store.close()

    # -- fed by the hub (on the event loop, never awaiting) ---------------------------------

    def join(self, w: Watch) -> None:
        if w in self._joined:
            return
        key = (w.app_id, w.conversation_id)
        self._joined[w] = key
        guests = self.local.setdefault(key, {})
        guest = guests.get(w.conn.user_id)
        if guest is None:
            guest = guests[w.conn.user_id] = _LocalGuest(self.now_ms())
            self._mark(key)
        guest.watches.add(w)

    def leave(self, w: Watch) -> None:
        key = self._joined.pop(w, None)
        if key is None:
            return
        guests = self.local.get(key, {})
        guest = guests.get(w.conn.user_id)
        if guest is None:
            return
        guest.watches.discard(w)
        if not guest.watches:
            del guests[w.conn.user_id]
            if not guests:
                del self.local[key]
            self._mark(key)

    def _mark(self, key: Key) -> None:
        self._dirty.add(key)
        self._wake.set()

    # -- asked by REST, the dashboard and participants --------------------------------------

    async def guests(self, app_id: str, conversation_id: str) -> list[RosterGuest]:
        """Every node's guests of the conversation, longest watching first (this node's own
        are known first-hand, even before the next flush)."""
        key = (app_id, conversation_id)
        found = self._merge(key, await self.store.read_others(key))
        return sorted(
            (RosterGuest(u, s) for u, s in found.items()), key=lambda g: (g.since, g.user_id)
        )

    async def count(self, app_id: str, conversation_id: str) -> int:
        key = (app_id, conversation_id)
        return _count(self.local.get(key, {}), await self.store.read_others(key))

    def _merge(self, key: Key, others: dict[str, int]) -> dict[str, int]:
        for user_id, guest in self.local.get(key, {}).items():
            others[user_id] = min(guest.since, others.get(user_id, guest.since))
        return others

    # -- flushing ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # the store is away: keep the roster local and retry
                log.warning("roster: flush failed: %s; retrying", exc)
                await asyncio.sleep(1.0)
            await asyncio.sleep(FLUSH_SECONDS)

    async def flush(self) -> None:
        """Write and announce every conversation whose guests changed; what fails stays dirty
        and is retried on the next pass."""
        dirty, self._dirty = self._dirty, set()
        failed: Exception | None = None
        for key in dirty:
            local = self.local.get(key, {})
            try:
                await self.store.write(key, _Since(local))
                count = _count(local, await self.store.read_others(key))
                channel = wire.conversation_channel(*key)
                await self.bus.publish(channel, guests_changed_payload(key, count))
            except Exception as exc:
                self._dirty.add(key)
                failed = exc
        if failed is not None:
            self._wake.set()
            raise failed
