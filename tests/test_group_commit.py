"""Group commit: concurrent sends share one transaction, and each still stands or falls alone.

A write that waits inside the only lane holds it, so the sends started meanwhile queue up and go
in one batch once it lets go. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from chinwag.clock import FakeClock
from chinwag.errors import ChinwagError
from chinwag.notifications import install as install_outbox
from chinwag.schemas import ConversationPut, ParticipantPatch, UserMessageIn, UserPut
from chinwag.services import apps, browser, conversations, messages, participants, users
from chinwag.services.audit import install as install_audit
from chinwag.services.browser import BrowserMessage
from chinwag.services.context import Context, Unit
from chinwag.services.events import RecordingSink
from chinwag.services.group_commit import GroupCommit
from chinwag.services.sessions import Session
from chinwag.storage import conversations as conv_store
from chinwag.storage.db import Database
from chinwag.webhooks import service as webhooks


@pytest.fixture
def gctx(db: Database, clock: FakeClock, sink: RecordingSink) -> Context:
    """As ``chinwag serve`` has it (outbox and audit hooks), with one lane."""
    ctx = install_outbox(Context(db=db, clock=clock, sink=sink, commits=GroupCommit(lanes=1)))
    return install_audit(ctx)


@pytest.fixture
def app_id(gctx: Context) -> str:
    app = apps.create_app(gctx, "group-commit").app
    for u in ["a", "b", "r"]:
        users.put_user(gctx, app.id, u, UserPut(name=u.upper()))
    conversations.put_conversation(gctx, app.id, "c", ConversationPut(participants=["a", "b", "r"]))
    conversations.put_conversation(gctx, app.id, "d", ConversationPut(participants=["a", "b"]))
    participants.patch_participant(gctx, app.id, "c", "r", ParticipantPatch(access="Read"))
    webhooks.create_webhook(gctx, app.id, "https://hooks.example/in", ["*"], True)
    return app.id


def say(sender: str, *texts: str) -> list[UserMessageIn]:
    return [UserMessageIn(type="UserMessage", sender=sender, text=t) for t in texts]


@contextlib.contextmanager
def one_batch(ctx: Context, count: int) -> Iterator[Callable[..., Future[Any]]]:
    """Start writes with the returned ``start(fn, *args)``; the ``count`` started inside the
    block are committed together, in one batch, when it ends."""
    entered, release = threading.Event(), threading.Event()

    def hold(unit: Unit) -> None:
        entered.set()
        release.wait(10)

    with ThreadPoolExecutor(count + 1) as pool:
        holder = pool.submit(ctx.write_grouped, hold)
        assert entered.wait(10)
        batches = ctx.commits.batches
        yield lambda fn, *args: pool.submit(fn, *args)
        deadline = time.monotonic() + 10
        while ctx.commits.queued() < count and time.monotonic() < deadline:
            time.sleep(0.005)
        assert ctx.commits.queued() == count
        release.set()
        holder.result(10)
    assert ctx.commits.batches == batches + 2  # the held write, then all of them at once


def outcome(future: Future[Any]) -> Any:
    try:
        return future.result(10)
    except ChinwagError as exc:
        return exc.code


def test_a_refused_send_fails_alone_and_leaves_nothing(
    gctx: Context, app_id: str, sink: RecordingSink
) -> None:
    seq = conv_store.current_seq
    with gctx.read() as tx:
        before = seq(tx, app_id, "c")
    published = len(sink.events)

    def send(conv: str, items: list[UserMessageIn]) -> list[str]:
        return [m.text for m in messages.send_messages(gctx, app_id, conv, items, origin="web")]

    with one_batch(gctx, 6) as start:
        one = start(send, "c", say("a", "one"))
        half = start(send, "c", say("b", "half") + say("r", "read-only"))  # 2nd item refused
        stranger = start(send, "c", say("nobody", "x"))
        missing = start(send, "nowhere", say("a", "y"))
        two = start(send, "c", say("b", "two"))
        other = start(send, "d", say("a", "elsewhere"))

    assert [outcome(f) for f in (one, half, stranger, missing, two, other)] == [
        ["one"],
        "NOT_ALLOWED_TO_WRITE",
        "NOT_A_PARTICIPANT",
        "CONVERSATION_NOT_FOUND",
        ["two"],
        ["elsewhere"],
    ]
    page = list(reversed(messages.history(gctx, app_id, "c", 50, None)))
    # Only the committed sends are stored, at the next positions, without a gap where "half"
    # took one before it was rolled back.
    assert [(m["text"], m["position"]) for m in page] == [("one", before + 1), ("two", before + 2)]
    stored = {m["id"] for m in page} | {
        m["id"] for m in messages.history(gctx, app_id, "d", 50, None)
    }
    created = [e for e in sink.events[published:] if e.type == "message.created"]
    assert {e.data["message"]["id"] for e in created} == stored
    assert [e.position for e in created if e.conversation_id == "c"] == [before + 1, before + 2]
    # One webhook row per committed message, and none for the rolled-back ones.
    with gctx.read() as tx:
        rows = tx.all(
            "SELECT payload FROM outbox WHERE app_id = ? AND event_type = 'message.sent'",
            (app_id,),
        )
    bodies = [json.loads(json.loads(r["payload"])["body"]) for r in rows]
    sent = [b["data"]["message"]["id"] for b in bodies]
    assert sorted(sent) == sorted(stored)


def test_an_unexpected_error_rolls_back_its_savepoint_and_is_retried_alone(
    gctx: Context, app_id: str, sink: RecordingSink
) -> None:
    runs = []

    def broken(unit: Unit) -> None:
        runs.append(unit.tx)
        conv_store.next_seq(unit.tx, app_id, "c")  # takes a position, then fails
        raise RuntimeError("boom")

    with gctx.read() as tx:
        before = conv_store.current_seq(tx, app_id, "c")
    with one_batch(gctx, 3) as start:
        first = start(messages.send_messages, gctx, app_id, "c", say("a", "first"))
        failing = start(gctx.write_grouped, broken)
        last = start(messages.send_messages, gctx, app_id, "c", say("b", "last"))

    with pytest.raises(RuntimeError, match="boom"):
        failing.result(10)
    assert len(runs) == 2  # in the batch, then alone in a transaction of its own
    assert [m.position for m in first.result(10) + last.result(10)] == [before + 1, before + 2]
    with gctx.read() as tx:
        assert conv_store.current_seq(tx, app_id, "c") == before + 2


def test_every_concurrent_send_lands_once_at_contiguous_positions(
    db: Database, clock: FakeClock, sink: RecordingSink
) -> None:
    """Many threads, few conversations, the database's own number of lanes."""
    ctx = install_audit(install_outbox(Context(db=db, clock=clock, sink=sink)))
    app_id = apps.create_app(ctx, "group-stress").app.id
    users.put_users(ctx, app_id, {f"u{i}": UserPut(name=f"U{i}") for i in range(8)})
    convs = ["x", "y", "z"]
    for conv in convs:
        conversations.put_conversation(
            ctx, app_id, conv, ConversationPut(participants=[f"u{i}" for i in range(8)])
        )
    with ctx.read() as tx:
        start = {conv: conv_store.current_seq(tx, app_id, conv) for conv in convs}

    def burst(i: int) -> list[tuple[str, int]]:
        out = []
        for k in range(30):
            conv = convs[(i + k) % 3]
            [m] = messages.send_messages(ctx, app_id, conv, say(f"u{i}", f"{i}-{k}"))
            out.append((conv, m.position))
        return out

    with ThreadPoolExecutor(8) as pool:
        sent = [p for ps in pool.map(burst, range(8)) for p in ps]
    assert len(sent) == 240
    for conv in convs:
        positions = sorted(p for c, p in sent if c == conv)
        assert positions == list(range(start[conv] + 1, start[conv] + 1 + len(positions)))
        page = messages.history(ctx, app_id, conv, 100, None)
        assert sorted(m["position"] for m in page) == positions
    assert ctx.commits.writes >= 240


def test_a_queued_send_is_called_back_once_committed(gctx: Context, app_id: str) -> None:
    """``send_queued`` (the event loop's way in): the reply comes after the commit, from a
    committing thread; a refusal comes back as the error, and nothing is stored for it."""
    app = apps.get_app(gctx, app_id)
    outcomes: queue.SimpleQueue[tuple[str, Any, Any, list[str]]] = queue.SimpleQueue()

    def then(name: str) -> Callable[[Any, BaseException | None], None]:
        def done(result: Any, error: BaseException | None) -> None:
            texts = [m["text"] for m in messages.history(gctx, app_id, "c", 50, None)]
            outcomes.put((name, result, error, texts))  # what a reader sees at that moment

        return done

    for name, user in [("member", "a"), ("reader", "r"), ("outsider", "nobody")]:
        browser.send_queued(
            gctx.acting(f"user:{user}"),
            Session(app_id, user, app.settings),
            "c",
            None,
            BrowserMessage(text=f"from {name}"),
            then(name),
        )
    got = {}
    for _ in range(3):
        name, result, error, texts = outcomes.get(timeout=10)
        got[name] = (result, error, texts)
    result, error, texts = got["member"]
    assert error is None and set(result) == {"id", "position"}
    assert "from member" in texts  # committed before the call back
    assert isinstance(got["reader"][1], ChinwagError)
    assert got["reader"][1].code == "NOT_ALLOWED_TO_WRITE"
    assert isinstance(got["outsider"][1], ChinwagError)
    stored = [m["text"] for m in messages.history(gctx, app_id, "c", 50, None)]
    assert stored == ["from member"]


def test_waiting_and_queued_writes_share_a_batch(gctx: Context, app_id: str) -> None:
    outcomes: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()

    def store(text: str) -> Callable[[Unit], list[Any]]:
        return lambda unit: messages.store_messages(unit, app_id, "d", say("a", text), "web", None)

    with one_batch(gctx, 2) as start:
        waiting = start(gctx.write_grouped, store("waited"))
        deadline = time.monotonic() + 10
        while gctx.commits.queued() < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        gctx.commits.submit(gctx, store("queued"), "k", lambda r, e: outcomes.put((r, e)))
    [waited] = waiting.result(10)
    result, error = outcomes.get(timeout=10)
    assert error is None and [m.position for m in result] == [waited.position + 1]


def test_a_database_error_in_a_batch_spoils_only_its_own_savepoint(
    gctx: Context, app_id: str
) -> None:
    """A statement that fails in the database (PostgreSQL then refuses every statement until
    the savepoint is rolled back) takes nothing else down."""

    def duplicate(unit: Unit) -> None:
        unit.tx.execute(
            "INSERT INTO conversations (app_id, id, custom, guest_access, seq, created_at) "
            "VALUES (?, 'c', '{}', 'ReadWrite', 0, 0)",
            (app_id,),
        )

    with gctx.read() as tx:
        before = conv_store.current_seq(tx, app_id, "d")
    with one_batch(gctx, 3) as start:
        first = start(messages.send_messages, gctx, app_id, "d", say("a", "first"))
        failing = start(gctx.write_grouped, duplicate, "0")  # runs first in the batch
        last = start(messages.send_messages, gctx, app_id, "d", say("b", "last"))

    with pytest.raises(Exception) as caught:
        failing.result(10)
    assert not isinstance(caught.value, ChinwagError)  # the database's own error
    assert [m.position for m in first.result(10) + last.result(10)] == [before + 1, before + 2]
