"""Formatted messages in Chromium against a real server: the server's content blocks rendered
as elements, links that open safely, mentions highlighted, and nothing from a message ever
reaching the DOM as markup."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

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
    server,
)


def test_markup_renders_safely(server: Server, pages: Pages, open_tab: Callable[..., Tab]) -> None:
    server.user("rita", "Rita Reader")
    server.user("sam", "Sam Sender")
    server.user("tom", "Tom Third")
    conversation = cid()
    server.conversation(conversation, ["rita", "sam", "tom"], subject="Formatting")
    hostile = (
        "*bold* _it_ ~gone~ `code <b>` see <https://example.com/docs|the docs> "
        "or https://example.org/x and <javascript:alert(1)|click> "
        '<img src=x onerror="window.__pwned=1"> hi <@rita> and <@tom>'
    )
    server.send(conversation, "sam", hostile)
    tab = open_tab(pages.sample(server.url, boot("rita", mount("chatbox", conversation))))
    text = tab.page.locator(".row[data-sender-id=sam] .text")
    expect(text.locator("strong")).to_have_text("bold")
    expect(text.locator("em")).to_have_text("it")
    expect(text.locator("s")).to_have_text("gone")
    expect(text.locator("code")).to_have_text("code <b>")
    links = text.locator("a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("the docs")
    for n in range(2):
        assert links.nth(n).get_attribute("target") == "_blank"
        assert links.nth(n).get_attribute("rel") == "noopener noreferrer"
    assert links.nth(0).get_attribute("href") == "https://example.com/docs"
    assert links.nth(1).get_attribute("href") == "https://example.org/x"
    # No element came from the message's own text: the img and the javascript: link are text.
    expect(text.locator("img")).to_have_count(0)
    expect(text).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(text).to_contain_text("<javascript:alert(1)|click>")
    assert tab.page.evaluate("window.__pwned") is None
    # Mentions show the name; the reader's own one stands out.
    expect(text.locator(".mention.me")).to_have_text("@Rita Reader")
    expect(text.locator(".mention:not(.me)")).to_have_text("@Tom Third")
