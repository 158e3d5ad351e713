"""Hostile frames over a real socket to a real server, on both transports: each one that cannot
be read closes the socket with a close frame (1007) and one log line, no traceback; those that
can be read are answered with an error, and the session goes on."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from chinwag.realtime import protocol
from chinwag.realtime.node import RealtimeNode
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import TRANSPORTS, Client, live_server


class Server:
    def __init__(self, base: str, node: RealtimeNode, app_id: str) -> None:
        self.base, self.node, self.app_id = base, node, app_id

    def client(self, user_id: str) -> Client:
        return Client.open(self.base, self.app_id, user_id)


@pytest.fixture(params=TRANSPORTS)
def server(
    ctx: Context, app_keys: apps.AppWithKeys, request: pytest.FixtureRequest
) -> Iterator[Server]:
    app = create_app(ctx)
    with live_server(app, request.param) as base:
        yield Server(base, app.app.state.realtime, app_keys.app.id)


UNREADABLE = [
    "[" * 100_000,  # nested deeper than any parser's stack
    "[" * 50_000 + "]" * 50_000,
    '[0, "GET", "me", {"a": ' + "[" * 60_000 + "]" * 60_000 + "}]",
    '[\u0661,"ACK"]',  # ARABIC-INDIC DIGIT ONE: a digit to str.isdigit, not to JSON
    '[\u00b2,"ACK"]',  # SUPERSCRIPT TWO: isdigit() is true, int() refuses it
    '[1\u0662,"ACK"]',
    '[\uff11,"ACK"]',  # FULLWIDTH DIGIT ONE
    '["\u0661","ACK"]',
]


@pytest.mark.parametrize("frame", UNREADABLE, ids=lambda f: f[:12].encode("unicode_escape"))
def test_unreadable_frames_close_with_1007_and_one_line(
    server: Server, frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with server.client("other") as other, server.client("alice") as c:
        assert c.ok("GET", "ping") == {}
        c.send_raw(frame)
        closed = c.wait_closed()
        assert closed.code == protocol.CLOSE_MALFORMED, closed
        assert other.ok("GET", "ping") == {}  # the others go on
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == []
    lines = [r for r in caplog.records if "1007" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert len(lines[0].getMessage()) < 300


READABLE = [
    ('[0, "GET", "\\ud800"]', 404),
    ('[0, "GET", "conversations/\\ud800"]', 404),
    ('[0, "\\ud800", "me"]', 400),
    ('[0, "GET", "me/conversations", {"\\ud800": 1}]', 400),
    ('[0, "GET", "me/conversations", {"limit": 5, "x": "\\u0000"}]', 400),
    ('[0, "PUT", "me", {"name": "\\udfff"}]', 400),
    ('[0, "GET", "me/conversations", {"a": ' + "[" * 900 + "]" * 900 + "}]", 400),
]


@pytest.mark.parametrize("frame,status", READABLE, ids=lambda f: str(f)[:24])
def test_readable_bad_frames_are_answered(server: Server, frame: str, status: int) -> None:
    with server.client("alice") as c:
        c.send_raw(frame)
        answer, body = c.reply_to(0)
        assert answer == status and set(body) == {"errorCode", "reasons"}, (answer, body)
        assert c.ok("GET", "ping") == {}


def test_a_nul_in_the_urls_app_id_is_a_bad_url(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL cannot look up an id holding NUL; the socket is told its URL is bad."""
    with Client.open(server.base, "a%00b", "alice") as c:
        assert c.wait_closed().code == 4400
    assert [r for r in caplog.records if r.exc_info] == []
