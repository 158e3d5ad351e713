"""The chat UI when the server goes away, in Chromium against a real ``chinwag serve``.

The server is killed (SIGKILL, as in a crash) mid-conversation and started again on the same port
and data directory. Every mounted UI says "Reconnecting…", then "Offline" with a Retry button, and
clears once reconnected and caught up; messages written meanwhile show at once as "Sending…" and
are delivered, in order and once each, after the restart. What each page shows is compared with
what REST has stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

from tests.browser_support import (  # noqa: F401 - fixtures
    Pages,
    Server,
    Tab,
    boot,
    browser,
    cid,
    mount,
    open_tab,
    pages,
    screenshot,
)


@pytest.fixture
def server_for_test(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def eventually(check: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (bounded), and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what or "condition never held"
        time.sleep(0.1)


def test_a_server_crash_is_shown_and_nothing_written_meanwhile_is_lost_or_doubled(
    tmp_path: Path, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server = Server(tmp_path)
    server.start()
    try:
        for uid, name in [("alice", "Alice"), ("sebastian", "Sebastian"), ("steve", "Steve")]:
            server.user(uid, name)
        conversation = cid()
        server.conversation(conversation, ["alice", "sebastian", "steve"], subject="Restart")
        alice = open_tab(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
        sebastian = open_tab(
            pages.sample(server.url, boot("sebastian", mount("inbox", conversation)))
        )
        steve = open_tab(
            pages.sample(
                server.url,
                "window.__show = false;\n" + boot("steve", mount("popup", conversation)),
            )
        )
        for tab in (alice, sebastian, steve):
            tab.wait_done()
        alice.say("one")
        expect(sebastian.log()).to_contain_text("one")
        sebastian.say("two")
        expect(alice.log()).to_contain_text("two")
        launcher_status = steve.page.locator(".launcher-status")
        expect(launcher_status).to_be_hidden()

        server.kill()
        # Within seconds every UI says so (the bound is generous; the socket closes at once).
        for tab in (alice, sebastian):
            banner = tab.page.locator(".connection-text")
            expect(banner).to_have_text("Reconnecting…", timeout=5_000)
        expect(launcher_status).to_have_text("Reconnecting…", timeout=5_000)
        state = "window.session.connectionState"
        assert alice.page.evaluate(state) in ("reconnecting", "offline")

        # Written while the server is down: shown at once, pending, in order; the field clears.
        alice.say("three, offline")
        alice.say("four, offline")
        sebastian.say("five, offline")
        expect(alice.pending()).to_have_count(2)
        expect(alice.pending().nth(0)).to_contain_text("three, offline")
        expect(alice.pending().nth(1)).to_contain_text("four, offline")
        expect(alice.pending().first).to_contain_text("Sending…")
        expect(alice.field()).to_have_value("")
        expect(sebastian.pending()).to_have_count(1)

        # After a while: "Offline", with a Retry button that tries at once (and fails: still down).
        for tab in (alice, sebastian):
            expect(tab.page.locator(".connection-text")).to_contain_text("Offline", timeout=30_000)
        expect(launcher_status).to_have_text("Offline")
        retry = alice.page.get_by_role("button", name="Retry")
        expect(retry).to_be_visible()
        screenshot(alice.page, "offline.png")
        retry.click()
        expect(alice.page.locator(".connection-text")).to_contain_text("Offline", timeout=30_000)
        expect(alice.pending()).to_have_count(2)

        server.start()
        for tab in (alice, sebastian, steve):
            tab.page.evaluate("window.session.reconnect()")  # what the Retry button does
        for tab in (alice, sebastian):
            expect(tab.page.locator(".connection")).to_be_hidden(timeout=30_000)
        expect(launcher_status).to_be_hidden(timeout=30_000)
        assert alice.page.evaluate(state) == "connected"

        stored = eventually(
            lambda: (t := server.stored_texts(conversation)) and len(t) >= 5 and t,
            what="the offline messages were never stored",
        )
        assert sorted(stored) == sorted(
            ["one", "two", "three, offline", "four, offline", "five, offline"]
        ), stored
        assert stored.index("three, offline") < stored.index("four, offline"), stored
        steve.page.get_by_role("button", name="Open chat").click()
        for tab in (alice, sebastian, steve):
            eventually(lambda tab=tab: tab.shown() == stored, what=f"{tab.shown()} != {stored}")
            expect(tab.pending()).to_have_count(0)

        # Live again, both ways.
        alice.say("six")
        expect(sebastian.log()).to_contain_text("six")
        assert server.stored_texts(conversation) == [*stored, "six"]
    finally:
        server.stop()


def test_a_send_whose_reply_is_lost_is_stored_once(
    tmp_path: Path, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The server stores the message but its reply never arrives (the socket drops first): the
    SDK sends it again with the same idempotency key after reconnecting, and it exists once."""
    server = Server(tmp_path)
    server.start()
    try:
        server.user("alice", "Alice")
        server.user("bob", "Bob")
        conversation = cid()
        server.conversation(conversation, ["alice", "bob"])
        sends: list[dict[str, Any]] = []
        dropped: list[int] = []

        def route(ws: WebSocketRoute) -> None:
            upstream = ws.connect_to_server()
            lost: set[int] = set()

            def from_page(message: str | bytes) -> None:
                frame = json.loads(message)
                if len(frame) > 3 and frame[1] == "POST" and isinstance(frame[3], dict):
                    sends.append(frame[3])
                    if frame[3].get("text") == "reply lost" and not dropped:
                        lost.add(frame[0])
                upstream.send(message)

            def from_server(message: str | bytes) -> None:
                frame = json.loads(message)
                if frame and frame[0] in lost and isinstance(frame[1], int):
                    dropped.append(frame[0])  # stored on the server; the page never hears so
                    lost.discard(frame[0])
                    ws.close(code=1011, reason="test: the reply is lost")
                    upstream.close()
                    return
                ws.send(message)

            ws.on_message(from_page)
            upstream.on_message(from_server)

        bob = open_tab(pages.sample(server.url, boot("bob", mount("chatbox", conversation))))
        tab = open_tab("about:blank")
        tab.page.route_web_socket(lambda url: "/realtime/" in url, route)
        tab.page.goto(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
        bob.wait_done()
        tab.wait_done()
        tab.say("before")
        expect(bob.log()).to_contain_text("before")
        tab.say("reply lost")
        tab.say("after")
        expect(bob.log()).to_contain_text("after", timeout=30_000)
        eventually(lambda: tab.shown() == ["before", "reply lost", "after"], what=str(tab.shown()))
        expect(tab.pending()).to_have_count(0)
        assert dropped, "the reply was never dropped"
        assert server.stored_texts(conversation) == ["before", "reply lost", "after"]
        assert bob.shown() == ["before", "reply lost", "after"]
        keys = [s["idempotencyKey"] for s in sends if s.get("text") == "reply lost"]
        assert len(keys) == 2 and keys[0] == keys[1], keys
    finally:
        server.stop()


def test_a_reconnect_refused_for_good_is_shown_and_fails_what_waited(
    tmp_path: Path, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Identity verification is switched on while the page is connected without a signature:
    after a restart its reconnect is refused, so the UI says it is disconnected and why, and the
    message written meanwhile is "Not sent" with that reason rather than waiting forever."""
    server = Server(tmp_path)
    server.start()
    try:
        server.user("alice", "Alice")
        server.user("bob", "Bob")
        conversation = cid()
        server.conversation(conversation, ["alice", "bob"])
        tab = open_tab(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
        tab.wait_done()
        tab.say("hello")
        expect(tab.page.locator(".row[data-message-id]")).to_have_count(1)
        server.rest("PATCH", "/settings", {"identityVerification": True})
        server.kill()
        expect(tab.page.locator(".connection-text")).to_have_text("Reconnecting…", timeout=5_000)
        tab.say("written while away")
        expect(tab.pending()).to_have_count(1)
        server.start()
        tab.page.evaluate("window.session.reconnect()")
        banner = tab.page.locator(".connection-text")
        expect(banner).to_contain_text("Disconnected from the chat", timeout=30_000)
        assert tab.page.evaluate("window.session.connectionState") == "closed"
        failed = tab.page.locator('.row[data-state="failed"]')
        expect(failed).to_contain_text("Not sent")
        assert server.stored_texts(conversation) == ["hello"]
    finally:
        server.stop()


def test_the_browser_going_offline_is_shown_at_once(
    server_for_test: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The network goes (the browser's own offline mode): the socket may not notice for long,
    but the browser does, so the UI says "Offline" at once; back online, the message written
    meanwhile goes, once."""
    server = server_for_test
    server.user("alice", "Alice")
    server.user("bob", "Bob")
    conversation = cid()
    server.conversation(conversation, ["alice", "bob"])
    tab = open_tab(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
    tab.wait_done()
    tab.say("online")
    expect(tab.page.locator(".row[data-message-id]")).to_have_count(1)
    tab.page.context.set_offline(True)
    expect(tab.page.locator(".connection-text")).to_contain_text("Offline", timeout=5_000)
    tab.say("no network")
    expect(tab.pending()).to_have_count(1)
    tab.page.context.set_offline(False)
    expect(tab.page.locator(".connection")).to_be_hidden(timeout=30_000)
    expect(tab.pending()).to_have_count(0)
    eventually(lambda: tab.shown() == ["online", "no network"], what=str(tab.shown()))
    assert server.stored_texts(conversation) == ["online", "no network"]


def test_a_socket_that_dies_silently_is_given_up(
    server_for_test: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Nothing arrives any more and nothing closes (a dead network path): the SDK's keepalive
    ping goes unanswered, so it gives the socket up and reconnects; what was written meanwhile
    is stored once. Waits for the keepalive (25 s of silence, then 10 s for the answer)."""
    server = server_for_test
    server.user("alice", "Alice")
    server.user("bob", "Bob")
    conversation = cid()
    server.conversation(conversation, ["alice", "bob"])
    sockets: list[dict[str, bool]] = []

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()
        link = {"dead": False}
        sockets.append(link)
        ws.on_message(lambda m: None if link["dead"] else upstream.send(m))
        upstream.on_message(lambda m: None if link["dead"] else ws.send(m))

    tab = open_tab("about:blank")
    tab.page.route_web_socket(lambda url: "/realtime/" in url, route)
    tab.page.goto(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
    tab.wait_done()
    tab.say("before")
    expect(tab.page.locator(".row[data-message-id]")).to_have_count(1)
    tab.page.evaluate(
        "window.__states = [];"
        "window.session.onConnectionChange((e) => window.__states.push(e.state))"
    )
    sockets[-1]["dead"] = True
    tab.say("into the void")  # its frame is swallowed: no reply, no close
    # The banner may show only briefly (the reconnect itself is quick): follow the states.
    tab.page.wait_for_function(
        "window.__states.join() === 'reconnecting,connected'", timeout=60_000
    )
    expect(tab.page.locator(".connection")).to_be_hidden()
    assert len(sockets) >= 2
    eventually(lambda: tab.shown() == ["before", "into the void"], what=str(tab.shown()))
    assert server.stored_texts(conversation) == ["before", "into the void"]
