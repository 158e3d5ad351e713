"""Emoji reactions over REST and the socket, on SQLite and PostgreSQL: who may react, what a
read shows toward whom, live events, and what a deleted message keeps (nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from chinwag.clock import FakeClock
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.conftest import Api
from tests.realtime_support import Node, live_server

THUMB = "👍"
T = quote(THUMB)


@pytest.fixture
def room(api: Api) -> Api:
    api.ok(api.put("/users", {u: {"name": u.title()} for u in ("ann", "ben", "cat", "dan")}))
    api.ok(api.put("/conversations/r", {"participants": ["ann", "ben", "cat", "dan"]}))
    api.ok(api.put("/conversations/r/participants/cat", {"access": "Read"}))
    api.ok(api.patch("/conversations/r/participants/dan", {"access": "None"}))
    return api


def send(api: Api, sender: str, text: str) -> str:
    [sent] = api.ok(
        api.post(
            "/conversations/r/messages", [{"type": "UserMessage", "sender": sender, "text": text}]
        )
    )
    message_id: str = sent["id"]
    return message_id


def test_rest_reactions(room: Api, clock: FakeClock) -> None:
    mid = send(room, "ann", "lunch?")
    for user in ("ben", "ann", "ben"):  # ben twice: once counts
        clock.advance(1)
        room.ok(room.put(f"/conversations/r/messages/{mid}/reactions/{T}/{user}"))
    clock.advance(1)
    room.ok(room.put(f"/conversations/r/messages/{mid}/reactions/{quote('🎉')}/ben"))
    got = room.ok(room.get(f"/conversations/r/messages/{mid}"))["reactions"]
    assert got == [
        {"emoji": THUMB, "count": 2, "users": ["ben", "ann"]},
        {"emoji": "🎉", "count": 1, "users": ["ben"]},
    ]
    room.ok(room.delete(f"/conversations/r/messages/{mid}/reactions/{T}/ben"))
    room.ok(room.delete(f"/conversations/r/messages/{mid}/reactions/{T}/ben"))  # not there: fine
    page = room.ok(room.get("/conversations/r/messages"))["data"]
    assert page[0]["reactions"][0] == {"emoji": THUMB, "count": 1, "users": ["ann"]}
    # Read and None participants, outsiders and bad emoji are refused, nothing stored.
    for user, code in (("cat", "NOT_ALLOWED_TO_WRITE"), ("dan", "NOT_ALLOWED_TO_WRITE")):
        r = room.put(f"/conversations/r/messages/{mid}/reactions/{T}/{user}")
        assert (r.status_code, r.json()["errorCode"]) == (403, code)
    r = room.put(f"/conversations/r/messages/{mid}/reactions/{T}/nobody")
    assert r.status_code == 403
    r = room.put(f"/conversations/r/messages/{mid}/reactions/{quote('a b')}/ann")
    assert r.status_code == 400
    r = room.put(f"/conversations/r/messages/msg_nope/reactions/{T}/ann")
    assert (r.status_code, r.json()["errorCode"]) == (404, "MESSAGE_NOT_FOUND")
    # A deleted message keeps no reactions.
    room.ok(room.delete(f"/conversations/r/messages/{mid}"))
    r = room.put(f"/conversations/r/messages/{mid}/reactions/{T}/ann")
    assert r.status_code == 404


@pytest.fixture
def node(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[Node]:
    with live_server(create_app(ctx)) as base:
        with httpx.Client(base_url=base.replace("ws://", "http://"), timeout=10) as http:
            n = Node(base, http, app_keys.app.id, app_keys.secret_keys[0])
            n.rest("PUT", "/users", {u: {"name": u.title()} for u in ("ann", "ben", "cat", "gus")})
            n.rest("PUT", "/conversations/r", {"participants": ["ann", "ben", "cat"]})
            n.rest("PUT", "/conversations/r/participants/cat", {"access": "Read"})
            yield n


def test_socket_reactions_and_events(node: Node) -> None:
    sent = node.rest(
        "POST",
        "/conversations/r/messages",
        [{"type": "UserMessage", "sender": "ann", "text": "hi"}],
    )
    mid = sent[0]["id"]
    path = f"conversations/r/messages/{mid}/reactions/{T}"
    with node.client("ann") as ann, node.client("ben") as ben, node.client("cat") as cat:
        ann.ok("SUBSCRIBE", "me/conversations/r")
        with node.client("gus") as gus:
            gus.ok("SUBSCRIBE", "me/conversations/r", {"asGuest": True})
            gus.ok("PUT", path)  # a guest who may write may react
        ben.ok("PUT", path)
        added = ann.wait_event("reaction.added")
        assert {k: added[k] for k in ("messageId", "emoji", "userId")} == {
            "messageId": mid,
            "emoji": THUMB,
            "userId": "gus",
        }
        ann.wait_event(lambda e: e.get("type") == "reaction.added" and e["userId"] == "ben")
        status, body = cat.request("PUT", path)
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")

        def mine(client: Any) -> Any:
            [message] = client.ok("GET", "me/conversations/r/messages")["data"]
            return message["reactions"]

        assert mine(ben) == [{"emoji": THUMB, "count": 2, "currentUserReacted": True}]
        assert mine(ann) == [{"emoji": THUMB, "count": 2, "currentUserReacted": False}]
        ben.ok("DELETE", path)
        ann.wait_event("reaction.removed")
        assert mine(ann) == [{"emoji": THUMB, "count": 1, "currentUserReacted": False}]
        status, body = ben.request(
            "PUT", f"conversations/r/messages/{mid}/reactions/{quote('x/y')}"
        )
        assert status in (400, 404)
