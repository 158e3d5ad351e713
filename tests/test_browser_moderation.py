"""The SDK's guest moderation in Chromium: a participant whose role is in the app's
``moderatorRoles`` mutes, unmutes and bans a guest from their page, and the guest's open chatbox
follows; a participant without that role is refused (NOT_A_MODERATOR)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import expect

from tests.test_browser_sdk import (  # noqa: F401 - the browser suite's fixtures
    ADMIN_PASSWORD,
    APP_ID,
    Chinwag,
    Pages,
    Tab,
    boot,
    browser,
    chinwag,
    cid,
    open_tab,
    pages,
)


def test_a_moderator_mutes_and_bans_a_guest_from_the_sdk(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:  # noqa: F811
    conversation = cid()
    suffix = uuid.uuid4().hex[:6]
    mod, plain, troll = f"mod-{suffix}", f"plain-{suffix}", f"troll-{suffix}"
    chinwag.ok(
        chinwag.rest.put(f"/v1/{APP_ID}/users/{mod}", json={"name": "Mona", "role": "moderator"})
    )
    chinwag.user(plain, "Pat")
    chinwag.user(troll, "Trev")
    chinwag.user(f"sam-{suffix}", "Sam")
    # Three participants: open to guests by default (a two-person chat would not be), and the
    # policy is left to the browser (one the backend set would stay as it is).
    chinwag.conversation(conversation, [mod, plain, f"sam-{suffix}"], subject="Town hall")
    chinwag.settings(moderatorRoles=["moderator"])
    try:
        guest = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    troll,
                    (
                        "const chatbox = session.createChatbox();\n"
                        f"chatbox.select('{conversation}', {{asGuest: true}});\n"
                        "chatbox.mount(document.getElementById('talkjs-container'));"
                    ),
                )
            )
        )
        expect(guest.field()).to_be_visible()
        moderate = (
            f"window.conversation = session.getOrCreateConversation('{conversation}');\n"
            "await window.conversation.synced; window.__done = true;"
        )
        mounted = moderate + (
            "\nconst chatbox = session.createChatbox();\n"
            "chatbox.select(window.conversation);\n"
            "chatbox.mount(document.getElementById('talkjs-container'));"
        )
        moderator = open_tab(pages.sample(boot(APP_ID, mod, mounted)))
        moderator.wait_done()
        assert moderator.page.evaluate("window.conversation.guestCount()") == 1
        # The participant's chatbox shows the live count; the guest's never does.
        watching = moderator.page.locator(".badge-watching")
        expect(watching).to_have_text("1 guest watching")
        expect(guest.page.locator(".badge-watching")).to_be_hidden()

        call = "(js) => eval(js).then(() => 'ok', (e) => e.errorCode || String(e))"
        assert (
            moderator.page.evaluate(
                call, f"window.conversation.muteGuest('{troll}', {{durationSeconds: 600}})"
            )
            == "ok"
        )
        expect(guest.field()).to_be_hidden()
        assert moderator.page.evaluate(call, f"window.conversation.unmuteGuest('{troll}')") == "ok"
        expect(guest.field()).to_be_visible()
        # The guest policy, from the SDK (conversation sync via the browser is allowed).
        set_policy = "window.conversation.setAttributes({guestAccess: '%s'})"
        assert moderator.page.evaluate(call, set_policy % "Read") == "ok"
        expect(guest.field()).to_be_hidden()
        assert moderator.page.evaluate(call, set_policy % "ReadWrite") == "ok"
        expect(guest.field()).to_be_visible()
        assert (
            moderator.page.evaluate(
                call, f"window.conversation.banGuest('{troll}', {{reason: 'trolling'}})"
            )
            == "ok"
        )
        expect(guest.field()).to_be_hidden()
        expect(watching).to_be_hidden()  # the banned guest was unlinked
        bans = chinwag.ok(
            chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}/guestRestrictions")
        )["data"]
        assert [(b["userId"], b["kind"], b["createdBy"]) for b in bans] == [
            (troll, "ban", f"user:{mod}")
        ]

        # A participant without the role is refused by the server.
        other = open_tab(pages.sample(boot(APP_ID, plain, moderate)))
        other.wait_done()
        assert (
            other.page.evaluate(call, f"window.conversation.unbanGuest('{troll}')")
            == "NOT_A_MODERATOR"
        )
    finally:
        chinwag.settings(moderatorRoles=[])


def test_the_dashboard_kicks_a_watching_guest(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:  # noqa: F811
    conversation = cid()
    viewer = "viewer-" + uuid.uuid4().hex[:6]
    chinwag.user("123456", "Alice")
    chinwag.user(viewer, "Vic")
    chinwag.conversation(conversation, ["123456"], subject="Watched")
    guest = open_tab(
        pages.sample(
            boot(
                APP_ID,
                viewer,
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}', {{asGuest: true}});\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    expect(guest.field()).to_be_visible()
    admin = open_tab(f"{chinwag.url}/dashboard")
    admin.page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    admin.page.get_by_role("button", name="Sign in").click()
    admin.page.goto(f"{chinwag.url}/dashboard/conversations/{conversation}/moderation?app={APP_ID}")
    expect(admin.page.locator("#roster")).to_contain_text(viewer)
    admin.page.get_by_role("button", name=f"Kick {viewer}").click()
    expect(admin.page.get_by_role("status")).to_have_text("Guest kicked.")
    expect(guest.page.locator(".title")).to_have_text("A moderator removed you from this chat")
    admin.page.reload()  # the guest was unlinked before it was told: the roster is empty now
    expect(admin.page.locator("#roster-empty")).to_be_visible()
