"""``chinwag.client`` against a live server (uvicorn on a free port, SQLite and PostgreSQL):
the sync and async clients, pagination, errors, retries that honour Retry-After (the server's
clock and the client's sleep are one fake clock), idempotency keys, and the webhook check."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest

from chinwag.client import ApiError, AsyncClient, Client, verify_webhook
from chinwag.clock import FakeClock
from chinwag.domain.ratelimit import RateLimiter
from chinwag.schemas import ConversationPut, ParticipantPut, UserMessageIn, UserPut
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import live_server


class Server:
    def __init__(self, url: str, app_id: str, secret: str, asgi: Any, clock: FakeClock) -> None:
        self.url, self.app_id, self.secret, self.asgi, self.clock = url, app_id, secret, asgi, clock
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        """The client's sleep: fake time, on the server's clock too."""
        self.slept.append(seconds)
        self.clock.advance(int(seconds * 1000))

    def client(self, **options: Any) -> Client:
        return Client(self.url, self.app_id, self.secret, sleep=self.sleep, **options)


@pytest.fixture
def server(db) -> Iterator[Server]:
    clock = FakeClock()
    ctx = Context(db=db, clock=clock)
    made = apps.create_app(ctx, "client")
    asgi = create_app(ctx)
    with live_server(asgi) as base:
        yield Server(
            base.replace("ws://", "http://"), made.app.id, made.secret_keys[0], asgi, clock
        )


def test_users_conversations_messages_and_pagination(server: Server) -> None:
    with server.client() as chat:
        chat.put_users({f"u{i:02}": UserPut(name=f"User {i}") for i in range(25)})
        chat.put_user("u00", {"role": "support"})
        assert chat.get_user("u00")["role"] == "support"
        ids = [u["id"] for u in chat.iter_users(page_size=10)]
        assert ids == [f"u{i:02}" for i in range(25)]  # three pages, nothing twice
        chat.put_conversation("c1", ConversationPut(participants=["u00", "u01"], subject="Hi"))
        sent = []
        for n in range(3):
            sent += chat.send_messages(
                "c1",
                [
                    UserMessageIn(type="UserMessage", sender="u00", text=f"m{n}-{k}")
                    for k in range(5)
                ],
            )
        texts = [m["text"] for m in chat.iter_messages("c1", page_size=4)]
        assert len(texts) == 15 and texts[0] == "m2-4" and texts[-1] == "m0-0"  # newest first
        assert chat.get_message("c1", sent[0])["text"] == "m0-0"
        assert chat.edit_message("c1", sent[0], {"text": "edited"})["text"] == "edited"
        assert [c["id"] for c in chat.iter_user_conversations("u01")] == ["c1"]
        assert chat.mark_read("c1", "u01") > 0
        assert len(chat.random_conversation_id()) == 32
        assert chat.patch_settings({"participantLimit": 20})["participantLimit"] == 20
        [[seq, status, body]] = chat.batch([[1, "GET", "/users/u00"]])
        assert (seq, status, body["id"]) == (1, 200, "u00")
        chat.put_participant("c1", "u02", ParticipantPut(access="Read"))
        chat.patch_participant("c1", "u02", {"access": "None"})
        assert [p["access"] for p in chat.list_participants("c1")][-1] == "None"
        chat.delete_participant("c1", "u02")
        chat.delete_message("c1", sent[1])
        assert len(list(chat.iter_messages("c1"))) == 14
        assert [c["id"] for c in chat.iter_conversations(page_size=1)] == ["c1"]
        chat.delete_conversation("c1")
        with pytest.raises(ApiError) as gone:
            chat.get_conversation("c1")
        assert gone.value.error_code == "CONVERSATION_NOT_FOUND"


def test_errors_are_raised_with_their_code(server: Server) -> None:
    with server.client() as chat:
        with pytest.raises(ApiError) as missing:
            chat.get_user("nobody")
        assert (missing.value.status, missing.value.error_code) == (404, "USER_NOT_FOUND")
    with Client(server.url, server.app_id, "wrong") as intruder:
        with pytest.raises(ApiError) as refused:
            intruder.iter_users().__next__()
        assert refused.value.error_code == "UNAUTHORIZED"
    assert server.slept == []  # neither is retried


def test_429_is_retried_after_retry_after(server: Server) -> None:
    server.asgi.app.state.rest_limiter = RateLimiter(rate=1, burst=2)
    with server.client() as chat:
        chat.put_user("alice", {"name": "Alice"})
        for _ in range(3):
            assert chat.get_user("alice")["name"] == "Alice"
    assert server.slept and all(s >= 1 for s in server.slept)  # the server's Retry-After
    server.asgi.app.state.rest_limiter = RateLimiter(rate=0.01, burst=1)
    with server.client(max_retries=0) as chat:  # no retries: the 429 is the caller's
        chat.get_settings()
        with pytest.raises(ApiError) as limited:
            chat.get_settings()
        assert limited.value.status == 429 and limited.value.retry_after == 100


def test_a_repeated_send_stores_one_message(server: Server) -> None:
    with server.client() as chat:
        chat.put_users({"a": {"name": "A"}, "b": {"name": "B"}})
        chat.put_conversation("c", {"participants": ["a", "b"]})
        message = {"type": "UserMessage", "sender": "a", "text": "once", "idempotencyKey": "k1"}
        first = chat.send_messages("c", [message])
        again = chat.send_messages("c", [message])  # as a retry after a lost answer would
        assert first == again and len(list(chat.iter_messages("c"))) == 1
        with pytest.raises(ApiError) as reused:
            chat.send_messages("c", [{**message, "text": "other"}])
        assert reused.value.error_code == "IDEMPOTENCY_KEY_REUSED"
        # Without a key the client makes one per message; a bad body fails before sending.
        with pytest.raises(Exception, match="text"):
            chat.send_messages("c", [{"type": "UserMessage", "sender": "a", "text": ""}])


def test_the_async_client_is_the_same_api(server: Server) -> None:
    async def sleep(seconds: float) -> None:
        server.sleep(seconds)

    async def scenario() -> list[str]:
        async with AsyncClient(server.url, server.app_id, server.secret, sleep=sleep) as chat:
            await chat.put_users({f"v{i}": {"name": f"V{i}"} for i in range(7)})
            await chat.put_conversation("ac", {"participants": ["v0", "v1"]})
            await chat.send_messages("ac", [{"type": "UserMessage", "sender": "v0", "text": "x"}])
            assert (await chat.get_conversation("ac"))["id"] == "ac"
            return [u["id"] async for u in chat.iter_users(page_size=3)]

    assert asyncio.run(scenario()) == [f"v{i}" for i in range(7)]


def test_webhook_signatures() -> None:
    body = b'{"type":"message.sent"}'
    ts = "1700000000000"
    good = hmac.new(b"sk", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    at = 1_700_000_010.0
    assert verify_webhook("sk", ts, body, good, now=lambda: at)
    assert verify_webhook("sk", ts, body, good.upper(), now=lambda: at)  # X-TalkJS-Signature
    assert not verify_webhook("sk", ts, body + b" ", good, now=lambda: at)
    assert not verify_webhook("other", ts, body, good, now=lambda: at)
    assert not verify_webhook("sk", ts, body, good, now=lambda: at + 3600)  # a replay


def test_a_lost_connection_is_retried_only_when_repeating_is_safe() -> None:
    import httpx

    from tests.test_cli import free_port

    slept: list[float] = []
    gone = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    with Client(gone, "app", "sk", sleep=slept.append, max_retries=3) as chat:
        with pytest.raises(httpx.ConnectError):
            chat.get_user("alice")
        assert slept == [0.2, 1.0, 3.0]  # a GET: retried with backoff
        slept.clear()
        with pytest.raises(httpx.ConnectError):
            chat.send_messages("c", [{"type": "SystemMessage", "text": "hi"}])
        assert len(slept) == 3  # messages carry idempotency keys: safe to repeat
        slept.clear()
        with pytest.raises(httpx.ConnectError):
            chat.mark_read("c", "alice")
        assert slept == []  # another POST: never repeated
