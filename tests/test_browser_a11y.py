"""axe-core (WCAG 2.1 A and AA) on the Chatbox, Inbox and Popup, open and closed, in Chromium
against a real server: no serious or critical violation, in the states a person meets (other
people's named messages, a system message, the composer's counter and error, offline with
messages waiting to be sent). axe-core comes from the npm registry, installed once into a cache
directory by the test itself (:func:`tests.browser_support.axe_source`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import (  # noqa: F401 - fixtures
    APP_ID,
    Pages,
    Server,
    Tab,
    axe_source,
    axe_violations,
    boot,
    browser,
    cid,
    mount,
    open_tab,
    pages,
    server,
)


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def group(server: Server) -> str:
    """A group where eight people wrote (every sender colour shows), and a system message."""
    people = [f"p{i}" for i in range(8)]
    names = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"]
    for uid, name in zip(people, names, strict=True):
        server.user(uid, f"{name} Example")
    server.user("me", "Mia Me")
    conversation = cid()
    server.conversation(conversation, ["me", *people], subject="Accessible group")
    server.rest(
        "POST",
        f"/conversations/{conversation}/messages",
        [{"type": "SystemMessage", "text": "The group was created."}],
    )
    for uid, name in zip(people, names, strict=True):
        server.send(conversation, uid, f"Hello from {name}")
    server.send(conversation, "me", "Hello, everyone")
    return conversation


def clean(page: Page, axe: str) -> None:
    found = axe_violations(page, axe)
    assert not found, "\n".join(found)


def test_chatbox(
    server: Server, pages: Pages, open_tab: Callable[..., Tab], axe: str, group: str
) -> None:
    tab = open_tab(pages.sample(server.url, boot("me", mount("chatbox", group))))
    expect(tab.log()).to_contain_text("Hello from Hal")
    clean(tab.page, axe)
    tab.field().fill("x" * 10_001)
    tab.field().press("Enter")
    expect(tab.page.locator(".composer-error")).to_be_visible()
    clean(tab.page, axe)


def test_inbox_wide_and_narrow(
    server: Server, pages: Pages, open_tab: Callable[..., Tab], axe: str, group: str
) -> None:
    tab = open_tab(pages.sample(server.url, boot("me", mount("inbox", group))))
    expect(tab.log()).to_contain_text("Hello from Hal")
    expect(tab.page.locator('.item[aria-current="true"]')).to_have_count(1)  # the open one
    clean(tab.page, axe)
    phone = open_tab(pages.sample(server.url, boot("me", mount("inbox"))), width=375, height=700)
    expect(phone.page.get_by_role("button", name="Accessible group")).to_be_visible()
    clean(phone.page, axe)


def test_popup_closed_and_open(
    server: Server, pages: Pages, open_tab: Callable[..., Tab], axe: str, group: str
) -> None:
    code = "window.__show = false;\n" + boot("me", mount("popup", group))
    tab = open_tab(pages.sample(server.url, code))
    launcher = tab.page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    clean(tab.page, axe)
    launcher.click()
    expect(tab.page.get_by_role("dialog")).to_contain_text("Hello from Hal")
    clean(tab.page, axe)


def test_offline_with_a_message_waiting(
    tmp_path: Path, pages: Pages, open_tab: Callable[..., Tab], axe: str
) -> None:
    own = Server(tmp_path)
    own.start()
    try:
        own.user("me", "Mia Me")
        own.user("you", "Yu You")
        conversation = cid()
        own.conversation(conversation, ["me", "you"])
        own.send(conversation, "you", "Are you there?")
        tab = open_tab(pages.sample(own.url, boot("me", mount("chatbox", conversation))))
        expect(tab.log()).to_contain_text("Are you there?")
        own.kill()
        expect(tab.page.locator(".connection-text")).to_contain_text("Offline", timeout=30_000)
        tab.say("Written while offline")
        expect(tab.pending()).to_contain_text("Sending…")
        clean(tab.page, axe)
    finally:
        own.stop()


def test_demo(server: Server, open_tab: Callable[..., Tab], axe: str) -> None:
    tab = open_tab(f"{server.url}/demo?app={APP_ID}")
    expect(tab.page.locator(".person").first).to_be_visible()
    clean(tab.page, axe)
    tab.page.locator(".person").first.click()
    expect(tab.field()).to_be_visible()
    clean(tab.page, axe)
