"""Who said it, in Chromium against a real server: a "Guest" tag on a guest's messages, the
sender's name in a group's Inbox preview, and initials where a photo URL fails to load."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401 - fixtures
    Pages,
    Server,
    Tab,
    boot,
    browser,
    cid,
    free_port,
    mount,
    open_tab,
    pages,
    server,
)


def test_a_guests_message_is_tagged(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("ann", "Ann Host")
    server.user("sup", "Sue Pervisor")
    conversation = cid()
    server.conversation(conversation, ["ann"], subject="Watched")
    ann = open_tab(pages.sample(server.url, boot("ann", mount("chatbox", conversation))))
    guest_code = (
        "const box = session.createChatbox();\nwindow.box = box;\n"
        f"box.select({json.dumps(conversation)}, {{asGuest: true}});\n"
        "box.mount(document.getElementById('chat'));"
    )
    sup = open_tab(pages.sample(server.url, boot("sup", guest_code)))
    expect(sup.field()).to_be_visible()
    ann.say("from the host")
    expect(sup.log()).to_contain_text("from the host")
    sup.say("from the guest")
    row = ann.page.locator(".row[data-sender-id=sup]")
    expect(row).to_contain_text("from the guest")
    expect(row.locator(".tag-guest")).to_have_text("Guest")
    expect(ann.page.locator(".row[data-sender-id=ann] .tag-guest")).to_have_count(0)
    expect(sup.page.locator(".row[data-sender-id=sup] .tag-guest")).to_have_text("Guest")


def test_group_previews_name_the_sender_and_a_failed_photo_shows_initials(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    broken = f"http://127.0.0.1:{free_port()}/nobody-listens.png"
    server.user("gia", "Gia Group")
    server.user("bob", "Bob Builder", photoUrl=broken)
    server.user("cy", "Cy Twombly")
    group, pair = cid(), cid()
    server.conversation(group, ["gia", "bob", "cy"], subject="Builders")
    server.conversation(pair, ["gia", "bob"])
    server.send(pair, "bob", "just us")
    server.send(group, "bob", "walls are up")
    tab = open_tab(pages.sample(server.url, boot("gia", mount("inbox", group))))
    items = tab.page.locator(".item")
    expect(items.filter(has_text="Builders").locator(".preview")).to_have_text(
        "Bob Builder: walls are up"
    )
    expect(items.filter(has_text="just us").locator(".preview")).to_have_text("just us")
    # Bob's photo URL fails: his avatars show "BB" and no broken image.
    face = items.filter(has_text="just us").locator(".avatar")
    expect(face).to_have_text("BB")
    expect(face.locator("img")).to_have_count(0)
    bubble_face = tab.page.locator(".row[data-sender-id=bob] .avatar")
    expect(bubble_face).to_have_text("BB")
    expect(bubble_face.locator("img")).to_have_count(0)


def test_a_one_on_one_with_a_subject_says_with_whom_and_previews_read_plainly(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("olga", "Olga Owner")
    server.user("pete", "Pete Pair")
    plain, ordered = cid(), cid()
    server.conversation(plain, ["olga", "pete"])
    server.conversation(ordered, ["olga", "pete"], subject="Order 17")
    server.send(plain, "pete", "hi <@olga>, *see* <https://example.com|this>")
    server.send(ordered, "pete", "shipped")
    tab = open_tab(pages.sample(server.url, boot("olga", mount("inbox", plain))))
    items = tab.page.locator(".item")
    expect(items.filter(has_text="Order 17").locator(".name")).to_contain_text(
        "Order 17 · Pete Pair"
    )
    expect(items.filter(has_text="hi @").locator(".name")).to_have_text("Pete Pair, 1 unread")
    expect(items.filter(has_text="hi @").locator(".preview")).to_have_text(
        "hi @Olga Owner, see this"
    )
