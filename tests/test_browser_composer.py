"""Refused sends are visible next to the message field, in Chromium against a real server.

Too long is refused in the page before anything is sent (the field keeps its text, a counter
shows near the limit). The server's own refusals (not allowed, rate limited with its wait) are
the server's reply frames, replaced on the way for one send each (Playwright routes the
page's WebSocket), so each is reached every run; a muted guest is muted for real over REST.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
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
    server,
)

LIMIT = 10_000

#: Texts whose first send gets this error reply instead of the server's.
REFUSALS: dict[str, dict[str, Any]] = {
    "Can I still post here?": {
        "errorCode": "NOT_ALLOWED_TO_WRITE",
        "reasons": ["the user's access (Read) does not allow writing"],
    },
    "Never mind, discard this": {
        "errorCode": "NOT_ALLOWED_TO_WRITE",
        "reasons": ["the user's access (Read) does not allow writing"],
    },
    "Quick one": {
        "errorCode": "RATE_LIMITED",
        "reasons": ["too many requests on this connection"],
        "retryAfter": 3,
    },
}
STATUS = {"NOT_ALLOWED_TO_WRITE": 403, "RATE_LIMITED": 429}


@pytest.fixture
def chat(server: Server, pages: Pages, open_tab: Callable[..., Tab]) -> Iterator[tuple[Tab, str]]:
    server.user("alice", "Alice")
    server.user("bob", "Bob")
    conversation = cid()
    server.conversation(conversation, ["alice", "bob"], subject="Composer")
    refused: set[str] = set()

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            data = frame[3] if len(frame) > 3 and isinstance(frame[3], dict) else {}
            text = data.get("text")
            if frame[1] == "POST" and text in REFUSALS and text not in refused:
                refused.add(text)
                body = REFUSALS[text]
                ws.send(json.dumps([frame[0], STATUS[body["errorCode"]], body]))
                return
            upstream.send(message)

        ws.on_message(from_page)
        upstream.on_message(lambda message: ws.send(message))

    tab = open_tab("about:blank")
    tab.page.route_web_socket(lambda url: "/realtime/" in url, route)
    tab.page.goto(pages.sample(server.url, boot("alice", mount("chatbox", conversation))))
    tab.wait_done()
    expect(tab.field()).to_be_visible()
    yield tab, conversation


def test_too_long_is_refused_in_the_page_and_the_field_keeps_the_text(
    chat: tuple[Tab, str], server: Server
) -> None:
    tab, conversation = chat
    counter = tab.page.locator(".counter")
    error = tab.page.locator(".composer-error")
    tab.field().fill("a" * 100)
    expect(counter).to_be_hidden()
    tab.field().fill("a" * 9_500)
    expect(counter).to_have_text("9,500 / 10,000")
    long_text = "b" * (LIMIT + 1)
    tab.field().fill(long_text)
    expect(counter).to_have_text("10,001 / 10,000")
    expect(counter).to_have_class("counter over")
    tab.field().press("Enter")
    expect(error).to_be_visible()
    expect(error).to_contain_text("10,001 characters long; the limit is 10,000")
    expect(tab.field()).to_have_value(long_text)
    expect(tab.pending()).to_have_count(0)
    # Shortened to the limit, it goes (once), and the error and the counter go with it.
    tab.field().press("Backspace")
    expect(error).to_be_hidden()
    tab.field().press("Enter")
    expect(tab.page.locator(".row[data-message-id]")).to_have_count(1)
    expect(tab.field()).to_have_value("")
    expect(counter).to_be_hidden()
    assert server.stored_texts(conversation) == ["b" * LIMIT]


def test_a_refused_send_says_why_and_retry_sends_it_once(
    chat: tuple[Tab, str], server: Server
) -> None:
    tab, conversation = chat
    tab.say("Can I still post here?")
    failed = tab.page.locator('.row[data-state="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Not sent · Retry")
    expect(failed).to_contain_text("does not allow writing")
    error = tab.page.locator(".composer-error")
    expect(error).to_contain_text("Not sent: You can't write in this conversation")
    screenshot(tab.page, "failed-send.png")
    assert server.stored_texts(conversation) == []
    failed.get_by_role("button", name="Retry").click()
    expect(tab.page.locator(".row[data-message-id]")).to_have_count(1)
    expect(tab.pending()).to_have_count(0)
    expect(error).to_be_hidden()
    assert server.stored_texts(conversation) == ["Can I still post here?"]
    # Discard drops a failed message without sending it.
    tab.say("Never mind, discard this")
    expect(failed).to_have_count(1)
    failed.get_by_role("button", name="Discard").click()
    expect(tab.pending()).to_have_count(0)
    expect(error).to_be_hidden()
    assert server.stored_texts(conversation) == ["Can I still post here?"]


def test_rate_limited_shows_the_wait_and_sends_after_it(
    chat: tuple[Tab, str], server: Server
) -> None:
    tab, conversation = chat
    tab.say("Quick one")
    tab.say("next in line")
    error = tab.page.locator(".composer-error")
    expect(error).to_have_text(
        re.compile(r"You are sending messages too fast; sending again in [123] s\.")
    )
    expect(tab.pending().first).to_contain_text("Waiting to send…")
    expect(tab.pending()).to_have_count(2)
    expect(tab.page.locator(".row[data-message-id]")).to_have_count(2, timeout=15_000)
    expect(error).to_be_hidden()
    assert tab.shown() == ["Quick one", "next in line"]
    assert server.stored_texts(conversation) == ["Quick one", "next in line"]


def test_a_muted_guest_is_told_so(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("host", "Hanna")
    server.user("visitor", "Vic")
    conversation = cid()
    server.conversation(conversation, ["host"], subject="Town hall")
    tab = open_tab(
        pages.sample(
            server.url,
            boot(
                "visitor",
                f"const box = session.createChatbox();\nwindow.box = box;\n"
                f"box.select({json.dumps(conversation)}, {{asGuest: true}});\n"
                "box.mount(document.getElementById('chat'));",
            ),
        )
    )
    expect(tab.field()).to_be_visible()
    server.rest("PUT", f"/conversations/{conversation}/guests/visitor/mute", {})
    expect(tab.field()).to_be_hidden()
    expect(tab.page.locator(".readonly")).to_contain_text("You are muted")
