"""The roster's Redis store: each node sees the others' guests, a user on two nodes is listed
once with the earliest time, and a node whose heartbeat expired (it died without cleaning up)
drops out of every roster and its entries are pruned."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from chinwag.realtime.roster import RedisRosterStore
from tests.test_realtime_nodes import REDIS_URL


@contextlib.asynccontextmanager
async def two_nodes(prefix: str) -> AsyncIterator[tuple[RedisRosterStore, RedisRosterStore]]:
    """Two nodes' stores on one Redis, under a prefix of the test's own; closed at the end."""
    a, b = RedisRosterStore(REDIS_URL, prefix), RedisRosterStore(REDIS_URL, prefix)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def test_nodes_share_guests_and_dead_nodes_drop_out() -> None:
    redis = pytest.importorskip("redis.asyncio")
    prefix = f"chinwag-test-{uuid.uuid4().hex[:8]}:"
    key = ("app", "hall")

    async def scenario() -> None:
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        async with two_nodes(prefix) as (a, b):
            await a.write(key, {"ann": 10, "bob": 20})
            await b.write(key, {"bob": 15, "cy": 30})
            assert await b.read_others(key) == {"ann": 10, "bob": 20}
            assert await a.read_others(key) == {"bob": 15, "cy": 30}
            await a.write(key, {"bob": 20})  # ann left node a: only the change is written
            assert await b.read_others(key) == {"bob": 20}
            # Node a dies: its heartbeat expires; b stops counting a's guests and prunes them.
            await client.delete(f"{prefix}roster-node:{a.node_id}")
            assert await b.read_others(key) == {}
            fields = await client.hkeys(f"{prefix}roster:app:hall")
            assert sorted(fields) == [f"{b.node_id}|bob", f"{b.node_id}|cy"]
            # A node that closes cleanly leaves nothing behind.
            await b.close()
            assert await client.exists(f"{prefix}roster:app:hall") == 0
            assert await client.exists(f"{prefix}roster-node:{b.node_id}") == 0
        await client.aclose()

    asyncio.run(scenario())


def test_a_guest_who_joins_while_redis_answers_is_written_on_the_next_flush() -> None:
    """The roster hands the store its live guests (no copy per flush); the store must remember
    what it sent, not what the guests became while Redis answered, or a guest who joined in
    that moment would never be written."""
    pytest.importorskip("redis.asyncio")
    prefix = f"chinwag-test-{uuid.uuid4().hex[:8]}:"
    key = ("app", "hall")

    async def scenario() -> None:
        async with two_nodes(prefix) as (a, b):
            live = {"ann": 10}
            writing = asyncio.create_task(a.write(key, live))
            await asyncio.sleep(0)  # the write has started and waits for Redis
            live["dan"] = 40
            await writing
            assert await b.read_others(key) == {"ann": 10}
            await a.write(key, live)
            assert await b.read_others(key) == {"ann": 10, "dan": 40}

    asyncio.run(scenario())
