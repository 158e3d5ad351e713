"""One contract for every bus backend: two buses play two nodes (memory: one broker; Redis: one
real server at 127.0.0.1:6379)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chinwag.realtime.bus import Bus, MemoryBroker, MemoryBus, RedisBus, open_bus

REDIS_URL = os.environ.get("CHINWAG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Node:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.got: list[tuple[str, str]] = []
        self.lost = 0

    async def start(self) -> None:
        await self.bus.start(lambda c, p: self.got.append((c, p)), self._lost)

    def _lost(self) -> None:
        self.lost += 1


def _pair(kind: str) -> tuple[Bus, Bus]:
    if kind == "memory":
        broker = MemoryBroker()
        return MemoryBus(broker), MemoryBus(broker)
    prefix = f"chinwag-test-{uuid.uuid4().hex[:8]}:"
    return RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)


async def _until(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


def run(kind: str, scenario: Callable[[Node, Node], Awaitable[None]]) -> None:
    async def main() -> None:
        a, b = (Node(bus) for bus in _pair(kind))
        await a.start()
        await b.start()
        try:
            await scenario(a, b)
        finally:
            await a.bus.close()
            await b.bus.close()

    asyncio.run(main())


KINDS = ["memory", "redis"]


@pytest.mark.parametrize("kind", KINDS)
def test_delivers_to_every_subscribed_node_in_order(kind: str) -> None:
    async def scenario(a: Node, b: Node) -> None:
        await a.bus.subscribe("room")
        await b.bus.subscribe("room")
        for i in range(50):
            await a.bus.publish("room", f"m{i}\n{{}}")
        await _until(lambda: len(a.got) == 50 and len(b.got) == 50)
        assert a.got == b.got == [("room", f"m{i}\n{{}}") for i in range(50)]

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_only_subscribed_channels_and_unsubscribe_stops(kind: str) -> None:
    async def scenario(a: Node, b: Node) -> None:
        await b.bus.subscribe("one")
        await a.bus.publish("two", "not for b")
        await a.bus.publish("one", "for b")
        await _until(lambda: len(b.got) == 1)
        await b.bus.unsubscribe("one")
        await a.bus.publish("one", "after unsubscribe")
        await b.bus.subscribe("marker")
        await a.bus.publish("marker", "done")
        await _until(lambda: len(b.got) == 2)
        assert b.got == [("one", "for b"), ("marker", "done")]
        assert a.got == []

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_payloads_are_kept_exactly(kind: str) -> None:
    payload = '{"t":"x"}\n{"text":"héllo \\u2028 \U0001f600"}'

    async def scenario(a: Node, b: Node) -> None:
        await b.bus.subscribe("c:with:colons")
        await a.bus.publish("c:with:colons", payload)
        await _until(lambda: len(b.got) == 1)
        assert b.got == [("c:with:colons", payload)]

    run(kind, scenario)


def test_redis_holds_one_subscription_per_channel_per_node() -> None:
    """The hub subscribes once per watched conversation; the bus never adds more."""

    async def scenario(a: Node, b: Node) -> None:
        assert isinstance(a.bus, RedisBus)
        import redis.asyncio as redis

        await a.bus.subscribe("room")
        await b.bus.subscribe("room")
        client: Any = redis.Redis.from_url(REDIS_URL)
        try:
            counts = await client.pubsub_numsub(a.bus.prefix + "room")
            assert counts[0][1] == 2  # two nodes, one subscription each
        finally:
            await client.aclose()

    run("redis", scenario)


def test_open_bus_by_url() -> None:
    assert isinstance(open_bus("memory://"), MemoryBus)
    assert isinstance(open_bus("redis://127.0.0.1:6379/0"), RedisBus)
    with pytest.raises(ValueError):
        open_bus("kafka://x")
