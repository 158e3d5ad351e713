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


def test_reply_quotes_the_original_and_leads_back_to_it(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("una", "Una Ask")
    server.user("vic", "Vic Answer")
    server.user("wes", "Wes Watch")
    conversation = cid()
    server.conversation(conversation, ["una", "vic", "wes"], subject="Replies")
    server.send(conversation, "una", "Is the preserve still available?\nAsking for a friend")
    for n in range(40):  # enough later messages to push the original out of the first page
        server.send(conversation, "wes", f"filler {n}")
    vic = open_tab(pages.sample(server.url, boot("vic", mount("chatbox", conversation))))
    expect(vic.log()).to_contain_text("filler 39")
    last = vic.page.locator(".row[data-sender-id=wes]").last
    last.hover()
    last.get_by_role("button", name="Reply to Wes Watch").click()
    expect(vic.page.locator(".reply-bar")).to_contain_text("Replying to Wes Watch: filler 39")
    vic.say("Yes, from Monday.")
    mine = vic.page.locator(".row.mine").last
    expect(mine.locator(".quote")).to_have_text("Wes Watch: filler 39")
    expect(vic.page.locator(".reply-bar")).to_be_hidden()
    stored = server.rest("GET", f"/conversations/{conversation}/messages?limit=1")["data"][0]
    assert stored["text"] == "Yes, from Monday." and stored["referencedMessageId"]

    # A reply to a message outside the loaded pages: the quote loads history to reach it.
    first = server.rest("GET", f"/conversations/{conversation}/messages?limit=100")["data"][-1]
    server.rest(
        "POST",
        f"/conversations/{conversation}/messages",
        [
            {
                "type": "UserMessage",
                "sender": "una",
                "text": "About my question",
                "referencedMessageId": first["id"],
            }
        ],
    )
    quote = vic.page.locator(".row[data-sender-id=una] .quote").last
    expect(quote).to_be_visible()
    quote.click()
    original = vic.page.locator(f'.row[data-message-id="{first["id"]}"]')
    expect(original).to_be_visible()
    expect(original).to_contain_text("Is the preserve still available?")
    expect(quote).to_have_text("Una Ask: Is the preserve still available?")


def test_at_offers_the_participants_and_sends_a_mention(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("xena", "Xena Writer")
    server.user("sebastian", "Sebastian Seller")
    server.user("sebald", "Sebald Second")
    server.user("zoe", "Zoe Zed")
    conversation = cid()
    server.conversation(conversation, ["xena", "sebastian", "sebald", "zoe"], subject="Mentions")
    tab = open_tab(pages.sample(server.url, boot("xena", mount("chatbox", conversation))))
    field = tab.field()
    expect(field).to_be_visible()
    field.press_sequentially("thanks @seb")
    options = tab.page.locator(".mention-list [role=option]")
    expect(options).to_have_count(2)
    expect(options).to_have_text(["Sebald Second", "Sebastian Seller"])
    for key in ("ArrowDown", "ArrowDown", "ArrowUp"):  # down, down (wraps round), up
        field.press(key)
    field.press("Enter")  # picks the active one; the message is not sent yet
    expect(tab.page.locator(".mention-list")).to_be_hidden()
    assert field.input_value() == "thanks @Sebastian Seller "
    field.press_sequentially("and @zo")
    field.press("Tab")
    field.press("Enter")
    stored = server.rest("GET", f"/conversations/{conversation}/messages?limit=1")["data"][0]
    assert stored["text"] == "thanks <@sebastian> and <@zoe>"
    text = tab.page.locator(".row.mine .text").last
    expect(text.locator(".mention")).to_have_text(["@Sebastian Seller", "@Zoe Zed"])


def test_reactions_show_as_chips_that_toggle(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("ria", "Ria React")
    server.user("sol", "Sol Sender")
    server.user("ted", "Ted Third")
    conversation = cid()
    server.conversation(conversation, ["ria", "sol", "ted"], subject="Reactions")
    server.send(conversation, "sol", "the preserve is yours")
    ria = open_tab(pages.sample(server.url, boot("ria", mount("chatbox", conversation))))
    ted = open_tab(pages.sample(server.url, boot("ted", mount("chatbox", conversation))))
    row = ria.page.locator(".row[data-sender-id=sol]").last
    expect(row).to_contain_text("the preserve is yours")
    row.hover()
    row.get_by_role("button", name="Add a reaction").click()
    ria.page.get_by_role("button", name="React with 🎉").click()
    chip = row.locator(".reactions .chip")
    expect(chip).to_have_text("🎉 1")
    assert chip.get_attribute("aria-pressed") == "true"
    other = ted.page.locator(".row[data-sender-id=sol] .reactions .chip")
    expect(other).to_have_text("🎉 1")  # live, on another page
    assert other.get_attribute("aria-pressed") == "false"
    other.click()  # Ted adds his
    expect(chip).to_have_text("🎉 2")
    chip.click()  # Ria takes hers back
    expect(other).to_have_text("🎉 1")
    stored = server.rest("GET", f"/conversations/{conversation}/messages?limit=1")["data"][0]
    assert stored["reactions"] == [{"emoji": "🎉", "count": 1, "users": ["ted"]}]


def test_a_run_of_messages_shows_its_time_once(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("una2", "Una Two")
    server.user("vic2", "Vic Two")
    server.user("wes2", "Wes Two")
    conversation = cid()
    server.conversation(conversation, ["una2", "vic2", "wes2"], subject="Runs")
    for text in ("one", "two", "three"):
        server.send(conversation, "vic2", text)
    server.send(conversation, "wes2", "four")
    tab = open_tab(pages.sample(server.url, boot("una2", mount("chatbox", conversation))))
    expect(tab.log()).to_contain_text("four")
    vic = tab.page.locator(".row[data-sender-id=vic2]")
    expect(vic).to_have_count(3)
    shown = [vic.nth(n).locator("time:not(.sr)").count() for n in range(3)]
    assert shown == [0, 0, 1]  # only the run's last bubble shows the time
    assert vic.nth(0).locator("time").count() == 1  # (still there for screen readers)
    assert vic.nth(0).locator(".bubble").get_attribute("title")  # the full time on hover
    expect(tab.page.locator(".row[data-sender-id=wes2] time:not(.sr)")).to_have_count(1)


def test_guest_access_switched_back_on_returns_without_a_reload(
    server: Server, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    server.user("host3", "Hal Host")
    server.user("gina3", "Gina Guest")
    conversation = cid()
    server.conversation(conversation, ["host3"], subject="Town hall")
    code = (
        "const box = session.createChatbox();\n"
        f"box.select({conversation!r}, {{asGuest: true}});\n"
        "box.mount(document.getElementById('chat'));"
    )
    guest = open_tab(pages.sample(server.url, boot("gina3", code)))
    expect(guest.field()).to_be_visible()
    server.rest("PUT", f"/conversations/{conversation}", {"guestAccess": "None"})
    expect(guest.page.locator(".title")).to_have_text("Guest access is not allowed")
    server.rest("PUT", f"/conversations/{conversation}", {"guestAccess": "ReadWrite"})
    server.send(conversation, "host3", "welcome back")
    expect(guest.field()).to_be_visible(timeout=30_000)
    expect(guest.log()).to_contain_text("welcome back")
    expect(guest.page.locator(".title")).to_have_text("Town hall")
