"""Positions: assigned in the storing transaction, unique and gap-free under concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chinwag.errors import ChinwagError
from chinwag.schemas import ConversationPut, UserMessageIn, UserPut
from chinwag.services import conversations, messages, users


def test_concurrent_senders_get_distinct_consecutive_positions(ctx, app_keys):
    app_id = app_keys.app.id
    for u in ["a", "b", "c", "d"]:
        users.put_user(ctx, app_id, u, UserPut(name=u))
    conversations.put_conversation(
        ctx, app_id, "busy", ConversationPut(participants=["a", "b", "c", "d"])
    )

    def burst(sender: str) -> list[int]:
        out = []
        for i in range(25):
            item = UserMessageIn(type="UserMessage", sender=sender, text=f"{sender}{i}")
            out += [m.position for m in messages.send_messages(ctx, app_id, "busy", [item])]
        return out

    with ThreadPoolExecutor(4) as pool:
        positions = [p for ps in pool.map(burst, ["a", "b", "c", "d"]) for p in ps]
    assert len(positions) == 100 and len(set(positions)) == 100
    assert max(positions) - min(positions) == 99  # no gaps between messages sent back to back
    page = messages.history(ctx, app_id, "busy", 100, None)
    assert [m["position"] for m in page] == sorted(positions, reverse=True)
    # Each sender's own messages keep their order.
    for sender in "abcd":
        mine = [m["text"] for m in reversed(page) if m["senderId"] == sender]
        assert mine == [f"{sender}{i}" for i in range(25)]


def test_events_are_published_after_commit_only(ctx, app_keys, sink):
    app_id = app_keys.app.id
    users.put_user(ctx, app_id, "a", UserPut(name="A"))
    conversations.put_conversation(ctx, app_id, "c", ConversationPut(participants=["a"]))
    before = len(sink.events)
    bad = UserMessageIn(type="UserMessage", sender="stranger", text="x")
    good = UserMessageIn(type="UserMessage", sender="a", text="y")
    with pytest.raises(ChinwagError):
        messages.send_messages(ctx, app_id, "c", [good, bad])
    assert len(sink.events) == before  # the failed batch published nothing
    messages.send_messages(ctx, app_id, "c", [good])
    [event] = sink.events[before:]
    assert event.type == "message.created" and event.position is not None
    assert event.data["message"]["text"] == "y"
