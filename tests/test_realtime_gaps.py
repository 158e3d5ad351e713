"""The bus is a hint, the database the record: a lost or reordered bus message makes the room
catch up from the database, and every watcher gets each change once, in position order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chinwag.realtime.node import RealtimeNode
from chinwag.schemas import ConversationPut, UserPut
from chinwag.services import apps, conversations, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import Client, live_server

Publish = Callable[[str, str], Any]


def _text(payload: str) -> str | None:
    event = json.loads(payload.partition("\n")[2])
    if event.get("type") == "message.created":
        text: str = event["message"]["text"]
        return text
    return None


@pytest.fixture
def setup(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[tuple[str, str, RealtimeNode]]:
    app_id = app_keys.app.id
    for uid in ("alice", "bob", "sup"):
        users.put_user(ctx, app_id, uid, UserPut(name=uid))
    # Two participants: a one-on-one, so guests need the policy set explicitly.
    conversations.put_conversation(
        ctx, app_id, "c", ConversationPut(participants=["alice", "bob"], guestAccess="ReadWrite")
    )
    app = create_app(ctx)
    node: RealtimeNode = app.app.state.realtime
    with live_server(app) as base:
        yield base, app_id, node


def _texts(client: Client) -> list[str]:
    client.drain()
    return [e["message"]["text"] for e in client.events if e["type"] == "message.created"]


def test_a_lost_bus_message_is_caught_up_from_the_database(
    setup: tuple[str, str, RealtimeNode],
) -> None:
    base, app_id, node = setup
    real: Publish = node.bus.publish

    async def lossy(channel: str, payload: str) -> None:
        if _text(payload) == "lost":
            return  # the broker dropped it
        await real(channel, payload)

    node.bus.publish = lossy
    with (
        Client.open(base, app_id, "alice") as alice,
        Client.open(base, app_id, "bob") as bob,
        Client.open(base, app_id, "sup") as sup,
    ):
        for c in (alice, bob):
            c.ok("SUBSCRIBE", "me/conversations/c")
        sup.ok("SUBSCRIBE", "me/conversations/c", {"asGuest": True})
        alice.ok("POST", "me/conversations/c/messages", {"text": "before"})
        alice.ok("POST", "me/conversations/c/messages", {"text": "lost"})
        alice.ok("POST", "me/conversations/c/messages", {"text": "found"})
        for c in (bob, sup, alice):
            c.wait_event(
                lambda e: e.get("type") == "message.created" and e["message"]["text"] == "found"
            )
            assert _texts(c) == ["before", "lost", "found"]
            positions = [e["position"] for e in c.events if e.get("position") is not None]
            assert positions == sorted(set(positions))


def test_reordered_bus_messages_arrive_in_position_order_once(
    setup: tuple[str, str, RealtimeNode],
) -> None:
    base, app_id, node = setup
    real: Publish = node.bus.publish
    held: list[tuple[str, str]] = []

    async def reordering(channel: str, payload: str) -> None:
        if _text(payload) == "first":
            held.append((channel, payload))  # delayed, as from a slower node
            return
        await real(channel, payload)
        if _text(payload) == "second":
            for item in held:
                await real(*item)

    node.bus.publish = reordering
    with Client.open(base, app_id, "alice") as alice, Client.open(base, app_id, "bob") as bob:
        for c in (alice, bob):
            c.ok("SUBSCRIBE", "me/conversations/c")
        alice.ok("POST", "me/conversations/c/messages", {"text": "first"})
        alice.ok("POST", "me/conversations/c/messages", {"text": "second"})
        alice.ok("POST", "me/conversations/c/messages", {"text": "third"})
        bob.wait_event(
            lambda e: e.get("type") == "message.created" and e["message"]["text"] == "third"
        )
        assert _texts(bob) == ["first", "second", "third"]


def test_presence_tells_notifications_who_is_viewing(setup: tuple[str, str, RealtimeNode]) -> None:
    base, app_id, node = setup
    hub = node.hub  # asked from this thread, as the notification worker does
    assert not hub.is_viewing(app_id, "bob", "c")
    with Client.open(base, app_id, "bob") as bob, Client.open(base, app_id, "sup") as sup:
        bob.ok("SUBSCRIBE", "me/conversations/c")
        sup.ok("SUBSCRIBE", "me/conversations/c", {"asGuest": True})
        assert hub.is_viewing(app_id, "bob", "c")
        assert not hub.is_viewing(app_id, "sup", "c")  # guests are never notified anyway
        assert not hub.is_viewing(app_id, "bob", "other")
        bob.ok("UNSUBSCRIBE", "me/conversations/c")
        assert not hub.is_viewing(app_id, "bob", "c")


def test_after_the_bus_reconnects_every_room_catches_up(
    setup: tuple[str, str, RealtimeNode],
) -> None:
    """What the Redis bus calls after a reconnect (messages published meanwhile are gone)."""
    base, app_id, node = setup
    real: Publish = node.bus.publish

    async def down(channel: str, payload: str) -> None:
        return None  # the broker is unreachable: nothing gets through

    with Client.open(base, app_id, "alice") as alice, Client.open(base, app_id, "bob") as bob:
        for c in (alice, bob):
            c.ok("SUBSCRIBE", "me/conversations/c")
        node.bus.publish = down
        alice.ok("POST", "me/conversations/c/messages", {"text": "while down"})
        node.bus.publish = real

        async def reconnected() -> None:
            node.hub.on_lost()

        assert node.loop is not None
        asyncio.run_coroutine_threadsafe(reconnected(), node.loop).result(timeout=10)
        bob.wait_event(
            lambda e: e.get("type") == "message.created" and e["message"]["text"] == "while down"
        )
        assert _texts(bob) == ["while down"]


def test_a_quiet_rooms_last_event_goes_out_once_publishing_works_again(
    setup: tuple[str, str, RealtimeNode],
) -> None:
    """The publish of the last message of a quiet conversation fails (the broker hiccups); no
    event follows it, yet its watchers get it once the broker answers again."""
    base, app_id, node = setup
    real: Publish = node.bus.publish
    failures = 3

    async def flaky(channel: str, payload: str) -> None:
        nonlocal failures
        if _text(payload) == "last" and failures > 0:
            failures -= 1
            raise ConnectionError("broker unreachable")
        await real(channel, payload)

    node.bus.publish = flaky
    with Client.open(base, app_id, "alice") as alice, Client.open(base, app_id, "bob") as bob:
        for c in (alice, bob):
            c.ok("SUBSCRIBE", "me/conversations/c")
        alice.ok("POST", "me/conversations/c/messages", {"text": "last"})
        bob.wait_event(
            lambda e: e.get("type") == "message.created" and e["message"]["text"] == "last",
            timeout=15,
        )
        assert failures == 0
