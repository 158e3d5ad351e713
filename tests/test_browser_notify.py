"""Desktop notifications and the Popup launcher in Chromium against a real server (issue 14).

Desktop notifications are off until the user turns them on from the Inbox, are shown only for
conversations the user is not looking at and never for what they watch as a guest, and a click
opens the conversation. The browser's permission is granted to the context; a spy around the
page's own ``Notification`` records what was shown (headless Chromium shows nothing on a
screen). The launcher's badge counts only what opening the Popup shows.
"""

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

SPY = """
window.__notes = [];
const Real = window.Notification;
class Spy extends Real {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: options && options.body, tag: options && options.tag });
    window.__last = this;
  }
}
Object.defineProperty(Spy, "permission", { get: () => Real.permission, configurable: true });
Spy.requestPermission = (...args) => Real.requestPermission(...args);
window.Notification = Spy;
"""


#: Wide enough for the Inbox to show its list beside the chat.
WIDE = '<div id="chat" style="max-width:none"></div>'


def notes(tab: Tab) -> list[dict[str, str]]:
    return list(tab.page.evaluate("window.__notes"))


def test_desktop_notifications_follow_the_toggle_and_what_the_user_looks_at(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("nina", "Nina Notified")
    server.user("otto", "Otto Other", photoUrl="https://example.com/otto.png")
    here, there, watched = cid(), cid(), cid()
    server.conversation(here, ["nina", "otto"], subject="Open here")
    server.conversation(there, ["nina", "otto"], subject="Elsewhere")
    server.conversation(watched, ["otto"], subject="Watched", guestAccess="Read")
    code = boot("nina", mount("inbox", here)) + (
        "const guest = session.createChatbox();\n"
        "window.guest = guest;\n"
        f"guest.select({watched!r}, {{asGuest: true}});\n"
    )
    tab = open_tab(
        pages.sample(server.url, code, WIDE),
        init=SPY,
        permissions=["notifications"],
    )
    page = tab.page
    toggle = page.get_by_role("button", name="Notifications off")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(f"window.box.currentConversation?.id === {here!r}")
    page.wait_for_function(f"window.guest.currentConversation?.id === {watched!r}")
    assert page.evaluate("document.hasFocus()")

    server.send(there, "otto", "before they are on")
    expect(page.locator(f'[data-conversation-id="{there}"]')).to_contain_text("before they are on")
    assert notes(tab) == []  # off until the user turns them on

    toggle.click()
    on = page.get_by_role("button", name="Notifications on")
    expect(on).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("session.desktopNotificationsEnabled") is True

    # Looking at it: nothing. Not looking at it: shown, with who, where and what.
    server.send(here, "otto", "you can see this one")
    expect(tab.log()).to_contain_text("you can see this one")
    server.send(watched, "otto", "a guest is never notified")
    server.send(there, "otto", "*see* the other chat")
    page.wait_for_function("window.__notes.length >= 1")
    page.wait_for_timeout(500)  # time for a wrong one to show up too
    assert notes(tab) == [
        {
            "title": "Otto Other in Elsewhere",
            "body": "see the other chat",
            "tag": f"chinwag:{there}",
        }
    ]

    # A click opens that conversation in the Inbox.
    page.evaluate("window.__last.dispatchEvent(new Event('click'))")
    page.wait_for_function(f"window.box.currentConversation?.id === {there!r}")
    expect(tab.log()).to_contain_text("see the other chat")

    # The choice is remembered in this browser; turned off, nothing more is shown.
    page.reload()
    tab.wait_done()
    expect(page.get_by_role("button", name="Notifications on")).to_be_visible()
    page.get_by_role("button", name="Notifications on").click()
    expect(page.get_by_role("button", name="Notifications off")).to_be_visible()
    server.send(here, "otto", "after they are off")
    page.wait_for_timeout(800)
    assert notes(tab) == []


def test_a_handler_decides_what_a_click_opens_and_a_refusal_is_reported(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("pia", "Pia Page")
    server.user("quin", "Quin Quick")
    conversation = cid()
    server.conversation(conversation, ["pia", "quin"], subject="Handled")
    code = boot("pia") + (
        "window.clicked = [];\n"
        "session.onDesktopNotificationClicked((e) => window.clicked.push(e.conversation.id));\n"
        "await session.setDesktopNotificationEnabled(true);\n"
    )
    tab = open_tab(pages.sample(server.url, code), init=SPY, permissions=["notifications"])
    tab.wait_done()
    page = tab.page
    page.wait_for_function("session.connectionState === 'connected'")
    server.send(conversation, "quin", "no box is open")
    page.wait_for_function("window.__notes.length === 1")
    page.evaluate("window.__last.dispatchEvent(new Event('click'))")
    assert page.evaluate("window.clicked") == [conversation]

    # Refused by the browser: the handler hears why, no alert, and they stay off.
    denied = open_tab(
        pages.sample(
            server.url,
            boot("pia") + "window.denied = [];\n"
            "session.onBrowserPermissionDenied((e) => window.denied.push(e.reason));\n"
            "await session.setDesktopNotificationEnabled(true, {alertOnFailure: false});\n",
        ),
        init=SPY + "Object.defineProperty(Spy, 'permission', { get: () => 'denied' });",
    )
    denied.wait_done()
    assert denied.page.evaluate("window.denied") == [
        "the browser's permission for notifications was refused"
    ]
    assert denied.page.evaluate("session.desktopNotificationsEnabled") is False


def test_the_launcher_badge_counts_what_it_opens(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("rosa", "Rosa Reader")
    server.user("saul", "Saul Sender")
    mine, other = cid(), cid()
    server.conversation(mine, ["rosa", "saul"], subject="In the popup")
    server.conversation(other, ["rosa", "saul"], subject="Elsewhere")
    code = boot("rosa", "window.__show = false;\n" + mount("popup", mine))
    tab = open_tab(pages.sample(server.url, code, ""))
    launcher = tab.page.locator(".launcher")
    expect(launcher).to_have_attribute("aria-label", "Open chat")
    server.send(other, "saul", "not in the popup")
    server.send(mine, "saul", "in the popup")
    badge = tab.page.locator(".launcher .count")
    expect(badge).to_have_text("1")  # only what opening it shows
    expect(launcher).to_have_attribute("aria-label", "Open chat, 1 unread")
    launcher.click()
    expect(tab.page.get_by_role("dialog")).to_contain_text("in the popup")
    expect(badge).to_be_hidden()  # read now, though "Elsewhere" still has one unread
