"""The chat UI fits the element it is mounted in, measured from element boxes in Chromium: it
fills the element exactly (down to 200 px tall) and scrolls inside it, and nothing overflows
sideways on a 375 px wide phone or from one long unbroken word."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (  # noqa: F401 - fixtures
    APP_ID,
    Pages,
    Server,
    Tab,
    boot,
    browser,
    cid,
    mount,
    open_tab,
    pages,
    server,
)

WORD = "Supercalifragilistic" * 25  # 500 characters, no break opportunity
BOXES = """(selector) => {
  const el = document.querySelector(selector);
  const host = el.querySelector(".chinwag-host");
  const frame = host.shadowRoot.querySelector(".frame");
  const list = host.shadowRoot.querySelector(".messages");
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height];
  };
  return {element: box(el), host: box(host), frame: box(frame),
          elementScroll: [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight],
          list: list && list.offsetParent
            ? [list.scrollHeight, list.clientHeight, list.scrollWidth, list.clientWidth] : null};
}"""
PAGE_WIDTH = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture(scope="module")
def long_chat(server: Server) -> str:
    server.user("lay", "Layla Out")
    server.user("other", "Otto " + WORD[:200])
    conversation = cid()
    server.conversation(conversation, ["lay", "other"], subject="Subject " + WORD[:240])
    for i in range(25):
        server.send(conversation, "other", f"message {i}")
    server.send(conversation, "other", WORD)
    server.send(conversation, "lay", WORD)
    server.rest(
        "POST",
        f"/conversations/{conversation}/messages",
        [{"type": "SystemMessage", "text": WORD}],
    )
    return conversation


def sized(kind: str, conversation: str, height: int) -> str:
    style = f"<style>#chat{{height:{height}px;width:100%;max-width:560px}}</style>"
    return f"{style}<div id='chat'></div><p id='below'>Below the chat</p>", mount(
        kind, conversation
    )


def assert_fills(page: Page) -> dict[str, Any]:
    b = page.evaluate(BOXES, "#chat")
    for part in ("host", "frame"):
        for got, want in zip(b[part], b["element"], strict=True):
            assert abs(got - want) <= 1, (part, b)
    scroll_w, client_w, scroll_h, client_h = b["elementScroll"]
    assert scroll_h <= client_h + 1 and scroll_w <= client_w + 1, b
    below = page.evaluate("document.getElementById('below').getBoundingClientRect().top")
    assert below >= b["element"][1] + b["element"][3] - 1, b
    return b


@pytest.mark.parametrize("kind", ["chatbox", "inbox"])
@pytest.mark.parametrize("height", [200, 320, 600])
def test_the_ui_fills_its_element_and_scrolls_inside(
    server: Server,
    pages: Pages,
    open_tab: Callable[..., Tab],
    long_chat: str,
    kind: str,
    height: int,
) -> None:
    body, code = sized(kind, long_chat, height)
    tab = open_tab(pages.sample(server.url, boot("lay", code), body=body), width=1000)
    expect(tab.log()).to_contain_text("message 24")
    b = assert_fills(tab.page)
    scroll_h, client_h, scroll_w, client_w = b["list"]
    assert scroll_h > client_h, b  # the messages scroll inside the list
    assert scroll_w <= client_w + 1, b  # the long word wraps
    assert tab.page.evaluate(PAGE_WIDTH)[0] <= 1000


@pytest.mark.parametrize("kind", ["chatbox", "inbox", "popup"])
def test_nothing_overflows_sideways_on_a_phone(
    server: Server, pages: Pages, open_tab: Callable[..., Tab], long_chat: str, kind: str
) -> None:
    code = mount(kind, long_chat)
    tab = open_tab(pages.sample(server.url, boot("lay", code)), width=375, height=700)
    expect(tab.log()).to_contain_text("message 24")
    scroll, client = tab.page.evaluate(PAGE_WIDTH)
    assert scroll <= client == 375
    # Inside the shadow root too: no element wider than the viewport, none scrolled sideways.
    wide = tab.page.evaluate(
        """() => [...document.querySelectorAll('.chinwag-host')].flatMap((host) =>
          [...host.shadowRoot.querySelectorAll('*')].filter((e) => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1
              && getComputedStyle(e).overflowX !== 'visible' && !['TEXTAREA'].includes(e.tagName)
              && !e.matches('.sr, .title, .subtitle, .name, .preview'));
          }).map((e) => e.className || e.tagName))"""
    )
    assert not wide, wide


def test_an_element_without_a_height_gets_a_usable_chat(
    server: Server, pages: Pages, open_tab: Callable[..., Tab], long_chat: str
) -> None:
    body = "<style>#chat{height:auto}</style><div id='chat'></div><p id='below'>Below the chat</p>"
    tab = open_tab(pages.sample(server.url, boot("lay", mount("chatbox", long_chat)), body=body))
    expect(tab.log()).to_contain_text("message 24")
    b = assert_fills(tab.page)
    assert b["element"][3] == pytest.approx(360, abs=1)
    assert any("has no height of its own" in line for line in tab.console), tab.console


def test_the_demo_fits_a_phone(server: Server, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(f"{server.url}/demo?app={APP_ID}", width=375, height=700)
    tab.page.locator(".person").first.click()
    expect(tab.field()).to_be_visible()
    widths = tab.page.evaluate(
        "[document.documentElement.scrollWidth, document.querySelector('.bar').scrollWidth]"
    )
    assert max(widths) <= 375, widths
    for chip in tab.page.locator(".chip").all():
        box = chip.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
