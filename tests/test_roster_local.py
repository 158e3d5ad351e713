"""The roster's bookkeeping on one node (memory bus): a user counts once however many sockets
watch, and a burst of joins is announced as one ``guests.changed``, not one per guest."""

from __future__ import annotations

import asyncio
import json

from chinwag.domain.ratelimit import TokenBucket
from chinwag.domain.settings import AppSettings
from chinwag.realtime import wire
from chinwag.realtime.bus import MemoryBroker, MemoryBus
from chinwag.realtime.connection import AsgiWriter, Connection, Watch
from chinwag.realtime.roster import LocalRosterStore, Roster
from chinwag.services.sessions import Session


async def _send(text: str) -> None:
    return None


def _watch(user_id: str, cid: str = "hall") -> Watch:
    conn = Connection(
        Session("app", user_id, AppSettings()),
        AsgiWriter(_send),
        10,
        TokenBucket(1, 1),
        lambda c: None,
    )
    return Watch(conn, "app", cid)


def test_a_burst_of_joins_is_one_event_and_users_count_once() -> None:
    async def scenario() -> None:
        bus = MemoryBus(MemoryBroker())
        heard: list[dict[str, object]] = []
        await bus.start(lambda channel, payload: heard.append(json.loads(wire.decode(payload)[1])))
        await bus.subscribe(wire.conversation_channel("app", "hall"))
        now = [1000]
        roster = Roster(bus, LocalRosterStore(), lambda: now[0])
        await roster.start()
        try:
            watches = [_watch(f"g{i}") for i in range(100)]
            twice = _watch("g0")
            for w in [*watches, twice]:
                roster.join(w)
                roster.join(w)  # joining again changes nothing
            await asyncio.sleep(0.1)
            assert heard == [
                {"type": "guests.changed", "conversationId": "hall", "position": None, "count": 100}
            ]
            assert await roster.count("app", "hall") == 100
            assert (await roster.guests("app", "hall"))[0].to_json() == {
                "userId": "g0",
                "since": 1000,
            }
            roster.leave(watches[0])  # g0 still watches on another socket
            assert await roster.count("app", "hall") == 100
            roster.leave(twice)
            for w in watches[1:50]:
                roster.leave(w)
            roster.leave(twice)  # leaving twice changes nothing
            await asyncio.sleep(0.5)
            assert [e["count"] for e in heard] == [100, 50]
            assert await roster.count("app", "elsewhere") == 0
        finally:
            await roster.close()
            await bus.close()

    asyncio.run(scenario())
