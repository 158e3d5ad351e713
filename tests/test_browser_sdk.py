"""The browser SDK and UI in real Chromium, against ``chinwag serve`` started as a subprocess.

The integrator's pages are served from another origin (a second port) and load
``<script src="http://127.0.0.1:<chinwag port>/talk.js">``, as a page moving from the hosted
product would. The seeds' code samples are read from ``../shared/seeds/`` (or the copies in
:data:`SEED_SNIPPETS`, checked against the seed text) and run unchanged.

Chromium is Debian's ``/usr/bin/chromium`` (``make test`` installs it); without it these tests
skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_ID = "browsertest"
SECRET = "sk_test_browser_" + "x" * 24
ADMIN_PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CONTAINER = '<div id="talkjs-container"><i>Loading chat...</i></div>'

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


# --- the seeds' code samples -------------------------------------------------------------------

#: Snippets of the seeds written without line numbers, as they appear in the seed text.
SEED_SNIPPETS = {
    "000": (
        "const conversation = session.getOrCreateConversation('my_conversation_id');\n"
        "const chatbox = session.createChatbox();\n"
        "chatbox.select(conversation, { asGuest: true });"
    ),
    "004": (
        "const conversation = session.getOrCreateConversation('<CONVERSATION_ID>');\n"
        "conversation.setParticipant(me);\n"
        "conversation.setParticipant(other1, { access: 'Read' });\n"
        "conversation.setParticipant(other2);"
    ),
}


def seed_text(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    return matches[0].read_text(encoding="utf-8")


def numbered_blocks(text: str) -> list[str]:
    """The seed's line-numbered code samples, numbers stripped (``...`` lines left out)."""
    blocks: list[list[str]] = []
    expected = 1
    for line in text.splitlines():
        m = re.match(r"^(\d+)(.*)$", line)
        if m and int(m.group(1)) >= expected and int(m.group(1)) <= expected + 1:
            if int(m.group(1)) == 1:
                blocks.append([])
            expected = int(m.group(1)) + 1
            code = m.group(2)
            if code.strip() != "...":
                blocks[-1].append(code)
        elif m and int(m.group(1)) == 1:
            blocks.append([m.group(2)])
            expected = 2
    out = []
    for block in blocks:
        code = "\n".join(block)
        # A block cut out of a function ends with its closing brace: leave that out.
        while code.count("}") > code.count("{") and code.rstrip().endswith("}"):
            code = code.rstrip()[:-1]
        out.append(code)
    return out


def fill(code: str, conversation: str) -> str:
    """The seed's placeholders, replaced as the seed tells the reader to."""
    return code.replace("<APP_ID>", APP_ID).replace("<CONVERSATION_ID>", conversation)


def snippet(prefix: str) -> str:
    code = SEED_SNIPPETS[prefix]
    text = seed_text(prefix)
    for line in code.splitlines():
        assert line in text, f"seed {prefix} no longer contains {line!r}"
    return code


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Chinwag:
    url: str
    rest: httpx.Client
    log: Path
    data: Path

    def new_app(self, name: str) -> str:
        """Another app on the same server (through the CLI, as an operator would)."""
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "chinwag",
                "apps",
                "--data-dir",
                str(self.data),
                "create",
                "--name",
                name,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return re.search(r"app id: (\S+)", out).group(1)  # type: ignore[union-attr]

    def signature(self, user_id: str) -> str:
        return hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def settings(self, **changes: Any) -> Any:
        return self.ok(self.rest.patch(f"/v1/{APP_ID}/settings", json=changes))

    def user(self, user_id: str, name: str) -> None:
        self.ok(self.rest.put(f"/v1/{APP_ID}/users/{user_id}", json={"name": name}))

    def conversation(self, cid: str, participants: list[str], **fields: Any) -> None:
        body = {"participants": participants, **fields}
        self.ok(self.rest.put(f"/v1/{APP_ID}/conversations/{cid}", json=body))

    def send(self, cid: str, sender: str | None, text: str) -> None:
        item = (
            {"type": "UserMessage", "sender": sender, "text": text}
            if sender
            else {"type": "SystemMessage", "text": text}
        )
        self.ok(self.rest.post(f"/v1/{APP_ID}/conversations/{cid}/messages", json=[item]))


@pytest.fixture(scope="module")
def chinwag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chinwag]:
    data = tmp_path_factory.mktemp("chinwag")
    port = free_port()
    env = {
        **os.environ,
        "CHINWAG_APP_ID": APP_ID,
        "CHINWAG_SECRET_KEY": SECRET,
        "CHINWAG_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
    }
    log = data / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chinwag",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chinwag serve did not start:\n{log.read_text()}")
            time.sleep(0.1)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SECRET}"}) as rest:
            yield Chinwag(url, rest, log, data)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


@dataclass
class Pages:
    """The integrator's web server: another origin than Chinwag's."""

    url: str
    chinwag_url: str
    html: dict[str, str] = field(default_factory=dict)

    def add(self, body: str, head: str = "") -> str:
        path = f"/p/{uuid.uuid4().hex[:10]}.html"
        self.html[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Integrator page</title>"
            f'<script src="{self.chinwag_url}/talk.js"></script>{head}'
            "<style>body{margin:0;padding:16px;font-family:system-ui;background:#eef0f5}"
            "#talkjs-container{width:100%;max-width:560px;height:560px}</style>"
            f"</head><body>{body}</body></html>"
        )
        return self.url + path

    def sample(self, code: str, body: str = CONTAINER) -> str:
        """A page running ``code`` as the seeds show it (after ``await Talk.ready``)."""
        return self.add(
            body + "<script>window.__errors = []; window.addEventListener('unhandledrejection',"
            " (e) => window.__errors.push(String(e.reason && e.reason.message || e.reason)));"
            "</script>"
            f'<script type="module">\n{code}\nwindow.__done = true;\n</script>'
        )


@pytest.fixture(scope="module")
def pages(chinwag: Chinwag) -> Iterator[Pages]:
    store = Pages("", chinwag.url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            body = store.html.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    store.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield store
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    page: Page
    console: list[str]

    def chat(self, selector: str = ".chinwag-host") -> Any:
        return self.page.locator(selector)

    def field(self) -> Any:
        return self.page.locator("textarea[aria-label=Message]")

    def say(self, text: str) -> None:
        self.field().fill(text)
        self.field().press("Enter")

    def messages(self) -> Any:
        return self.page.locator("[role=log]")

    def wait_done(self) -> None:
        self.page.wait_for_function("window.__done === true", timeout=10_000)


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Callable[..., Tab]]:
    contexts: list[BrowserContext] = []

    def open_(url: str, width: int = 900, height: int = 760) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.goto(url)
        return Tab(page, console)

    yield open_
    for c in contexts:
        c.close()


def boot(app_id: str, user: dict[str, Any] | str, extra: str = "", **session: Any) -> str:
    """Code that starts a session as ``user`` (what an integrator writes around the samples)."""
    options = {"appId": app_id, **session}
    return (
        "await Talk.ready;\n"
        f"const me = new Talk.User({json.dumps(user)});\n"
        f"const session = new Talk.Session({{...{json.dumps(options)}, me}});\n"
        "window.session = session;\n" + extra
    )


def cid() -> str:
    return "c_" + uuid.uuid4().hex[:12]


# --- the tests ---------------------------------------------------------------------------------


def test_talk_js_is_a_classic_script_and_an_es_module(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    r = httpx.get(f"{chinwag.url}/talk.js")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert "javascript" in r.headers["content-type"]
    url = pages.add(
        f'<script type="module">import Talk from "{chinwag.url}/talk.mjs";'
        "window.__mjs = [typeof Talk.Session, Talk.oneOnOneId('b', 'a')];</script>"
    )
    tab = open_tab(url)
    tab.page.wait_for_function("window.__mjs !== undefined")
    got = tab.page.evaluate(
        "() => [typeof Talk.User, typeof Talk.Session, Talk.oneOnOneId('123456', '654321'),"
        " Talk.oneOnOneId(new Talk.User({id: 'x', name: 'X'}), 'y'), Talk.randomConversationId(),"
        " window.__mjs]"
    )
    assert got[:2] == ["function", "function"]
    for (a, b), value in ((("123456", "654321"), got[2]), (("x", "y"), got[3])):
        pair = json.dumps(sorted([a, b]), separators=(",", ":"))
        assert value == hashlib.sha1(pair.encode()).hexdigest()[:20]
    assert re.fullmatch(r"[0-9a-f]{32}", got[4])
    assert got[5] == ["function", hashlib.sha1(b'["a","b"]').hexdigest()[:20]]


def test_seed_group_chat_sample_runs_unchanged(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Seed 002: define Alice, Sebastian and Steve, create the group, mount a chatbox."""
    users, group, _guest = numbered_blocks(seed_text("002"))[:3]
    conversation = cid()
    code = fill(users + "\n" + group, conversation)
    tab = open_tab(pages.sample(code))
    tab.wait_done()
    header = tab.page.locator(".title")
    expect(header).to_have_text("Beautiful steel preserve for rent!")
    expect(tab.page.locator(".subtitle")).to_have_text("You, Sebastian and Steve")
    tab.say("Is it still available?")
    expect(tab.messages()).to_contain_text("Is it still available?")
    data = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}"))
    assert data["subject"] == "Beautiful steel preserve for rent!"
    assert data["photoUrl"] == "https://talkjs.com/docs/steel-preserve.jpg"
    assert set(data["participants"]) == {"123456", "654321", "456789"}
    page = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}/messages"))
    assert [m["text"] for m in page["data"]] == ["Is it still available?"]
    assert tab.page.evaluate("window.__errors") == []


def test_seed_guest_samples_run_unchanged(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Seeds 000 and 002: a user who is not a participant opens the group as a guest, follows
    it live and writes; the participants never see the guest in the header."""
    users, group, guest = numbered_blocks(seed_text("002"))[:3]
    conversation = cid()
    alice = open_tab(pages.sample(fill(users + "\n" + group, conversation)))
    alice.wait_done()
    expect(alice.page.locator(".title")).to_have_text("Beautiful steel preserve for rent!")

    supervisor = {"id": "guest-" + uuid.uuid4().hex[:6], "name": "Grace Guest"}
    guest_code = boot(
        APP_ID,
        supervisor,
        guest.replace("<CONVERSATION_ID>", conversation)
        + "\nchatbox.mount(document.getElementById('talkjs-container'));",
    )
    grace = open_tab(pages.sample(guest_code))
    grace.wait_done()
    expect(grace.page.locator(".badge-guest")).to_be_visible()
    expect(grace.page.locator(".subtitle")).to_have_text("Alice, Sebastian and Steve")
    alice.say("Welcome, whoever is watching")
    expect(grace.messages()).to_contain_text("Welcome, whoever is watching")
    grace.say("Hello from a guest")
    expect(alice.messages()).to_contain_text("Hello from a guest")
    expect(alice.page.locator(".subtitle")).to_have_text("You, Sebastian and Steve")
    inbox = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/users/{supervisor['id']}/conversations"))
    assert inbox["data"] == []

    # Seed 000 as written: `session` is a guest's session; the conversation id is its own.
    mine = snippet("000").replace("my_conversation_id", conversation)
    other = {"id": "guest-" + uuid.uuid4().hex[:6], "name": "Gil"}
    mount = "\nchatbox.mount(document.getElementById('talkjs-container'));"
    gil = open_tab(pages.sample(boot(APP_ID, other, mine + mount)))
    gil.wait_done()
    expect(gil.messages()).to_contain_text("Hello from a guest")
    expect(gil.page.locator(".badge-guest")).to_be_visible()


def test_seed_read_only_participant_has_no_field(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Seed 004: Sebastian joins with access Read: he reads live and has no message field."""
    users = numbered_blocks(seed_text("002"))[0].replace("<APP_ID>", APP_ID)
    conversation = cid()
    code = (
        users
        + "\n"
        + snippet("004").replace("<CONVERSATION_ID>", conversation)
        + (
            "\nconst chatbox = session.createChatbox();\nchatbox.select(conversation);\n"
            "chatbox.mount(document.getElementById('talkjs-container'));"
        )
    )
    alice = open_tab(pages.sample(code))
    alice.wait_done()
    expect(alice.field()).to_be_visible()
    sebastian = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": "654321", "name": "Sebastian"},
                (
                    f"const chatbox = session.createChatbox();\nawait chatbox.select('{conversation}');\n"  # noqa: E501
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    sebastian.wait_done()
    expect(sebastian.page.locator(".readonly")).to_have_text(
        "You can read this conversation but not write in it."
    )
    expect(sebastian.field()).to_be_hidden()
    alice.say("Only I can write here")
    expect(sebastian.messages()).to_contain_text("Only I can write here")
    participants = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}"))
    assert participants["participants"]["654321"]["access"] == "Read"


def test_three_users_chat_in_real_time(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    for uid, name in (("123456", "Alice"), ("654321", "Sebastian"), ("456789", "Steve")):
        chinwag.user(uid, name)
    chinwag.conversation(conversation, ["123456", "654321", "456789"], subject="Trio")
    tabs = {}
    for uid, name in (("123456", "Alice"), ("654321", "Sebastian"), ("456789", "Steve")):
        tabs[name] = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    {"id": uid, "name": name},
                    (
                        "const chatbox = session.createChatbox();\n"
                        f"chatbox.select(session.getOrCreateConversation('{conversation}'));\n"
                        "chatbox.mount(document.getElementById('talkjs-container'));"
                    ),
                )
            )
        )
    for tab in tabs.values():
        expect(tab.page.locator(".title")).to_have_text("Trio")
    tabs["Alice"].field().type("Hi all")
    expect(tabs["Steve"].page.locator(".typing")).to_contain_text("Alice is typing")
    tabs["Alice"].field().press("Enter")
    tabs["Sebastian"].say("Hi Alice")
    tabs["Steve"].say("Hey both")
    for tab in tabs.values():
        for text in ("Hi all", "Hi Alice", "Hey both"):
            expect(tab.messages()).to_contain_text(text)
    expect(tabs["Steve"].page.locator(".typing")).to_have_text("")
    # Everyone has the chat open, so Steve's message is read by the others.
    expect(tabs["Steve"].page.locator(".receipt")).to_contain_text("Read")
    # Edit and delete one's own message; the others see both.
    row = tabs["Sebastian"].page.locator(".row.mine", has_text="Hi Alice")
    row.hover()
    row.get_by_role("button", name="Edit message").click()
    editor = tabs["Sebastian"].page.locator("textarea[aria-label='Edit message']")
    editor.fill("Hi Alice, and Steve")
    editor.press("Enter")
    expect(tabs["Alice"].messages()).to_contain_text("Hi Alice, and Steve")
    edited = tabs["Alice"].page.locator(".row", has_text="Hi Alice, and Steve")
    expect(edited).to_contain_text("edited")
    row = tabs["Steve"].page.locator(".row.mine", has_text="Hey both")
    row.hover()
    row.get_by_role("button", name="Delete message").click()
    row.get_by_role("button", name="Confirm delete").click()
    expect(tabs["Alice"].messages()).not_to_contain_text("Hey both")
    # Others' messages have no edit or delete buttons (reply and react they have).
    others = tabs["Alice"].page.locator(".row:not(.mine) .actions")
    assert others.get_by_role("button", name="Edit message").count() == 0
    assert others.get_by_role("button", name="Delete message").count() == 0


def test_access_withdrawn_and_restored_updates_the_open_chatbox(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, ["123456", "654321"], subject="Access")
    chinwag.send(conversation, "123456", "before")
    sebastian = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": "654321", "name": "Sebastian"},
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}');\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    expect(sebastian.messages()).to_contain_text("before")
    expect(sebastian.field()).to_be_visible()
    part = f"/v1/{APP_ID}/conversations/{conversation}/participants/654321"
    chinwag.ok(chinwag.rest.patch(part, json={"access": "None"}))
    expect(sebastian.page.locator(".notice")).to_have_text(
        "You are not part of this conversation anymore."
    )
    expect(sebastian.field()).to_be_hidden()
    chinwag.send(conversation, "123456", "while away")
    time.sleep(0.5)
    expect(sebastian.messages()).not_to_contain_text("while away")
    chinwag.ok(chinwag.rest.patch(part, json={"access": "ReadWrite"}))
    expect(sebastian.messages()).to_contain_text("while away")
    expect(sebastian.field()).to_be_visible()
    expect(sebastian.page.locator(".notice")).to_have_count(0)
    # Removed (REST DELETE): frozen history and the same notice.
    chinwag.ok(chinwag.rest.delete(part))
    expect(sebastian.page.locator(".notice")).to_have_text(
        "You are not part of this conversation anymore."
    )
    expect(sebastian.messages()).to_contain_text("while away")


def test_guest_access_disappears_when_browser_sync_is_disallowed_in_the_dashboard(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.conversation(conversation, ["123456"], subject="Watched")
    chinwag.send(conversation, "123456", "visible to guests")
    watcher = {"id": "watcher-" + uuid.uuid4().hex[:6], "name": "Wanda"}
    guest_code = boot(
        APP_ID,
        watcher,
        (
            "const chatbox = session.createChatbox();\n"
            f"chatbox.select('{conversation}', {{asGuest: true}});\n"
            "chatbox.mount(document.getElementById('talkjs-container'));"
        ),
    )
    wanda = open_tab(pages.sample(guest_code))
    expect(wanda.messages()).to_contain_text("visible to guests")

    admin = open_tab(f"{chinwag.url}/dashboard")
    admin.page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    admin.page.get_by_role("button", name="Sign in").click()
    # Supervisor inspection: any conversation, opened live as a guest from the dashboard.
    admin.page.goto(f"{chinwag.url}/dashboard/conversations/{conversation}?app={APP_ID}")
    expect(admin.page.locator(".transcript")).to_contain_text("visible to guests")
    live = admin.page.locator("#live")
    expect(live.locator(".badge-guest")).to_be_visible()
    expect(live.locator("[role=log]")).to_contain_text("visible to guests")
    expect(live.locator(".subtitle")).to_have_text("Alice")
    admin.page.locator("textarea[aria-label=Message]").fill("Supervisor checking in")
    admin.page.locator("textarea[aria-label=Message]").press("Enter")
    expect(wanda.messages()).to_contain_text("Supervisor checking in")
    admin.page.goto(f"{chinwag.url}/dashboard?app={APP_ID}")
    box = admin.page.get_by_label("Disallow user synchronization via the browser")
    expect(box).not_to_be_checked()
    expect(admin.page.locator("[data-for=disallowUserSync]")).to_be_visible()
    try:
        box.check()
        admin.page.get_by_role("button", name="Save settings").click()
        expect(admin.page.get_by_role("status")).to_have_text("Settings saved.")
        expect(admin.page.locator("#guest-note")).to_contain_text("Guest access is off")
        settings = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/settings"))
        assert settings["allowUserSyncViaBrowser"] is False
        expect(wanda.page.locator(".title")).to_have_text("Guest access is not allowed")
        expect(wanda.field()).to_be_hidden()
        # A new guest is refused, with a rejected promise and a console error saying what to change.
        again = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    watcher["id"],
                    (
                        "const chatbox = session.createChatbox();\n"
                        f"window.__select = await chatbox.select('{conversation}', {{asGuest: true}})"  # noqa: E501
                        ".then(() => 'ok', (e) => e.message);"
                    ),
                )
            )
        )
        again.wait_done()
        message = again.page.evaluate("window.__select")
        assert "GUEST_ACCESS_NOT_ALLOWED" in message and "Disallow user synchronization" in message
        assert any("GUEST_ACCESS_NOT_ALLOWED" in line for line in again.console)
    finally:
        chinwag.settings(allowUserSyncViaBrowser=True)


def test_identity_verification_refuses_a_forged_session(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.conversation(conversation, ["123456"], subject="Verified")
    chinwag.settings(identityVerification=True)
    try:
        forged = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    {"id": "123456", "name": "Alice"},
                    (
                        "const chatbox = session.createChatbox();\n"
                        "chatbox.mount(document.getElementById('talkjs-container'));\n"
                        f"window.__select = await chatbox.select('{conversation}')"
                        ".then(() => 'ok', (e) => e.message);"
                    ),
                    signature="0" * 64,
                )
            )
        )
        forged.wait_done()
        message = forged.page.evaluate("window.__select")
        assert message.startswith("UNAUTHORIZED") and "signature" in message
        assert any("UNAUTHORIZED" in line for line in forged.console)
        expect(forged.page.locator(".title")).to_have_text("Could not sign in")
        real = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    {"id": "123456", "name": "Alice"},
                    (
                        "const chatbox = session.createChatbox();\n"
                        f"chatbox.select('{conversation}');\n"
                        "chatbox.mount(document.getElementById('talkjs-container'));"
                    ),
                    signature=chinwag.signature("123456"),
                )
            )
        )
        expect(real.page.locator(".title")).to_have_text("Verified")
        real.say("signed and sent")
        expect(real.messages()).to_contain_text("signed and sent")
        # A user token (JWT) from a tokenFetcher works; an expired one is refused.
        claims = {"tokenType": "user", "iss": APP_ID, "sub": "123456"}
        fresh = jwt.encode({**claims, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
        stale = jwt.encode({**claims, "exp": int(time.time()) - 10}, SECRET, algorithm="HS256")
        fetched = open_tab(
            pages.sample(
                "await Talk.ready;\n"
                "const me = new Talk.User('123456');\n"
                f"const session = new Talk.Session({{appId: '{APP_ID}', me,"
                f" tokenFetcher: async () => '{fresh}'}});\n"
                "const chatbox = session.createChatbox();\n"
                f"chatbox.select('{conversation}');\n"
                "chatbox.mount(document.getElementById('talkjs-container'));"
            )
        )
        expect(fetched.messages()).to_contain_text("signed and sent")
        expired = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    "123456",
                    ("window.__ready = await session.ready.then(() => 'ok', (e) => e.message);"),
                    token=stale,
                )
            )
        )
        expired.wait_done()
        refusal = expired.page.evaluate("window.__ready")
        assert refusal.startswith("UNAUTHORIZED: the token has expired")
    finally:
        chinwag.settings(identityVerification=False)


def test_refused_sync_is_a_rejected_promise_and_a_console_error(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    chinwag.settings(allowConversationSyncViaBrowser=False)
    try:
        tab = open_tab(
            pages.sample(
                boot(
                    APP_ID,
                    {"id": "123456", "name": "Alice"},
                    (
                        f"const conversation = session.getOrCreateConversation('{cid()}');\n"
                        "window.__result = await conversation.setParticipant(me)"
                        ".then(() => 'ok', (e) => e.message);"
                    ),
                )
            )
        )
        tab.wait_done()
        result = tab.page.evaluate("window.__result")
        assert result.startswith("SYNC_NOT_ALLOWED") and "REST API" in result
        assert any("SYNC_NOT_ALLOWED" in line for line in tab.console)
    finally:
        chinwag.settings(allowConversationSyncViaBrowser=True)


def test_older_history_loads_on_scroll_and_inbox_orders_by_activity(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    old, new = cid(), cid()
    me = "inboxer-" + uuid.uuid4().hex[:6]
    chinwag.user(me, "Ines")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(old, [me, "654321"], subject="Long history")
    chinwag.conversation(new, [me, "654321"], subject="Fresh")
    for i in range(45):
        chinwag.send(old, "654321", f"history {i:02d}")
    chinwag.send(new, "654321", "newest activity")
    tab = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": me, "name": "Ines"},
                (
                    "const inbox = session.createInbox();\n"
                    "inbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        ),
        width=1000,
    )
    items = tab.page.locator("button.item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Fresh")
    expect(items.nth(1)).to_contain_text("Long history")
    expect(items.nth(1).locator(".count")).to_have_text("45")
    items.nth(1).click()
    expect(tab.messages()).to_contain_text("history 44")
    expect(items.nth(1).locator(".count")).to_have_count(0)
    log = tab.messages()
    for _ in range(10):
        log.evaluate("el => { el.scrollTop = 0; }")
        if "history 00" in log.inner_text():
            break
        tab.page.wait_for_timeout(200)
    expect(log).to_contain_text("history 00")
    expect(log).to_contain_text("This is the start of the conversation.")
    chinwag.send(old, "654321", "live into the inbox")
    expect(items.nth(0)).to_contain_text("Long history")


def test_popup_opens_and_closes(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    me = "popper-" + uuid.uuid4().hex[:6]  # a user with no other unread conversations
    chinwag.user(me, "Polly")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, [me, "654321"], subject="Popup chat")
    tab = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": me, "name": "Polly"},
                (
                    f"const popup = session.createPopup(session.getOrCreateConversation('{conversation}'));\n"  # noqa: E501
                    "popup.mount({show: false});"
                ),
            )
        )
    )
    launcher = tab.page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    chinwag.send(conversation, "654321", "ping from Sebastian")
    expect(tab.page.locator(".launcher .count")).to_have_text("1")
    launcher.click()
    dialog = tab.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("ping from Sebastian")
    tab.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_screenshots(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    """The Chatbox, Inbox, Popup, demo and dashboard render; with CHINWAG_SCREENSHOTS=1 the
    pictures go to docs/screenshots/ (the README shows them)."""
    out = SCREENSHOTS if os.environ.get("CHINWAG_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    app = chinwag.new_app("Demo")
    demo = open_tab(f"{chinwag.url}/demo?app={app}", width=1100, height=720)
    expect(demo.page.get_by_role("link", name="Sebastian").first).to_be_visible()
    demo.page.screenshot(path=str(out / "demo.png"))
    names = {"123456": "Alice", "654321": "Sebastian", "456789": "Steve"}
    tabs = {
        uid: open_tab(f"{chinwag.url}/demo?app={app}&user={uid}", width=1100, height=720)
        for uid in names
    }
    conversation = "demo-steel-preserve"
    lines = [
        ("654321", "Hi! Is the steel preserve still for rent?"),
        ("123456", "It is. Available from next Monday."),
        ("456789", "Can I come and have a look on Saturday?"),
        ("123456", "Sure, 10am works. I'll send the address."),
    ]
    for uid, text in lines:
        tabs[uid].say(text)
        expect(tabs["123456"].messages()).to_contain_text(text)
    guest = open_tab(f"{chinwag.url}/demo?app={app}&user=supervisor", width=1100, height=720)
    expect(guest.messages()).to_contain_text("I'll send the address.")
    guest.say("Supervisor here: all good, carry on.")
    expect(tabs["123456"].messages()).to_contain_text("Supervisor here")
    tabs["456789"].field().type("See you")
    expect(tabs["123456"].page.locator(".typing")).to_contain_text("Steve is typing")
    tabs["123456"].page.screenshot(path=str(out / "inbox.png"))
    guest.page.screenshot(path=str(out / "guest.png"))
    chatbox = open_tab(
        pages.sample(
            boot(
                app,
                {"id": "654321", "name": "Sebastian"},
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}');\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        ),
        width=600,
        height=600,
    )
    expect(chatbox.messages()).to_contain_text("Supervisor here")
    chatbox.page.screenshot(path=str(out / "chatbox.png"))
    phone = open_tab(
        pages.sample(
            boot(
                app,
                {"id": "456789", "name": "Steve"},
                (
                    f"const popup = session.createPopup('{conversation}');\n"
                    "popup.mount({show: true});"
                ),
            )
        ),
        width=390,
        height=740,
    )
    expect(phone.page.get_by_role("dialog")).to_contain_text("Supervisor here")
    phone.page.screenshot(path=str(out / "popup-phone.png"))
    shop = (
        '<main style="max-width:640px;margin:40px auto;font:16px/1.6 system-ui">'
        "<h1>Steel preserve, 12 m², to rent</h1><p>Dry, lockable, with power and light. "
        "Ask the owner anything in the chat.</p></main>"
    )
    desk = open_tab(
        pages.sample(
            boot(
                app,
                {"id": "654321", "name": "Sebastian"},
                (
                    f"const popup = session.createPopup('{conversation}');\n"
                    "popup.mount({show: true});"
                ),
            ),
            body=shop,
        ),
        width=1100,
        height=760,
    )
    expect(desk.page.get_by_role("dialog")).to_contain_text("Supervisor here")
    desk.page.screenshot(path=str(out / "popup.png"))
    admin = open_tab(f"{chinwag.url}/dashboard?app={app}", width=1100, height=900)
    admin.page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    admin.page.get_by_role("button", name="Sign in").click()
    expect(admin.page.get_by_text("Security settings")).to_be_visible()
    expect(admin.page.locator("#app-id")).to_have_text(app)  # signing in kept the app
    admin.page.screenshot(path=str(out / "dashboard.png"), full_page=True)
    for name in ("demo", "inbox", "guest", "chatbox", "popup-phone", "popup", "dashboard"):
        assert (out / f"{name}.png").stat().st_size > 10_000


def test_on_message_on_send_message_and_unreads(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, ["123456", "654321"], subject="Hooks")
    tab = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": "123456", "name": "Alice"},
                (
                    "window.__messages = []; window.__unreads = [];\n"
                    "session.onMessage((m) => window.__messages.push([m.body, m.isByMe, m.senderId,"
                    " m.conversation.id, m.sender && m.sender.name]));\n"
                    "session.unreads.onChange((u) => window.__unreads.push("
                    "u.map((x) => x.conversation.id)));\n"
                    "const chatbox = session.createChatbox({messageField: {placeholder: 'Ask Sebastian'}});\n"  # noqa: E501
                    "chatbox.onSendMessage((e) => e.message.text.includes('secret')"
                    " ? e.override({cancel: true}) : e.override({text: e.message.text + '!',"
                    " custom: {via: 'hook'}}));\n"
                    f"chatbox.select('{conversation}');\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    expect(tab.page.get_by_placeholder("Ask Sebastian")).to_be_visible()
    tab.say("hello")
    expect(tab.messages()).to_contain_text("hello!")
    tab.say("my secret")
    tab.page.wait_for_timeout(300)
    expect(tab.messages()).not_to_contain_text("my secret")
    chinwag.send(conversation, "654321", "from the backend")
    tab.page.wait_for_function("window.__messages.length >= 2")
    got = tab.page.evaluate("window.__messages")
    assert got[0] == ["hello!", True, "123456", conversation, "Alice"]
    assert got[1] == ["from the backend", False, "654321", conversation, "Sebastian"]
    stored = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}/messages"))
    assert [m["text"] for m in stored["data"]] == ["from the backend", "hello!"]
    assert stored["data"][1]["custom"] == {"via": "hook"}
    # The chatbox is open and the page visible: what arrives is read at once.
    tab.page.wait_for_function(
        f"window.__unreads.length > 0 && !window.__unreads.at(-1).includes('{conversation}')"
    )


def test_inbox_on_a_phone_shows_one_pane_at_a_time(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    me = "phone-" + uuid.uuid4().hex[:6]
    chinwag.user(me, "Pia")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, [me, "654321"])
    chinwag.send(conversation, "654321", "hi on the phone")
    tab = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": me, "name": "Pia"},
                (
                    "const inbox = session.createInbox();\n"
                    "inbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        ),
        width=380,
        height=700,
    )
    item = tab.page.get_by_role("button", name="Sebastian, 1 unread")
    expect(item).to_be_visible()
    expect(tab.messages()).to_be_hidden()
    item.click()
    expect(tab.messages()).to_contain_text("hi on the phone")
    expect(tab.page.locator(".title")).to_have_text("Sebastian")
    expect(item).to_be_hidden()
    tab.page.get_by_role("button", name="Back to conversations").click()
    expect(tab.page.get_by_role("button", name="Sebastian")).to_be_visible()
    expect(tab.messages()).to_be_hidden()


def test_sessions_reconnect_and_catch_up_after_a_server_restart(
    tmp_path: Path, pages: Pages, browser: Browser
) -> None:
    """The server stops and starts again on the same port: open chatboxes reconnect, show what
    was sent meanwhile, and go on live."""
    port = free_port()
    env = {
        **os.environ,
        "CHINWAG_APP_ID": APP_ID,
        "CHINWAG_SECRET_KEY": SECRET,
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
    }
    cmd = [
        sys.executable,
        "-m",
        "chinwag",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path),
    ]
    url = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

    proc = start()
    context = browser.new_context()
    try:
        rest = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SECRET}"})
        server = Chinwag(url, rest, tmp_path / "none.log", tmp_path)
        server.user("123456", "Alice")
        server.user("654321", "Sebastian")
        server.conversation("again", ["123456", "654321"], subject="Again")
        server.send("again", "654321", "before the restart")
        page = context.new_page()
        sent: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
        sample = Pages(pages.url, url, pages.html)
        page.goto(
            sample.sample(
                boot(
                    APP_ID,
                    {"id": "123456", "name": "Alice"},
                    (
                        "const chatbox = session.createChatbox();\nchatbox.select('again');\n"
                        "chatbox.mount(document.getElementById('talkjs-container'));"
                    ),
                )
            )
        )
        log = page.locator("[role=log]")
        expect(log).to_contain_text("before the restart")
        proc.terminate()
        proc.wait(10)
        proc = start()
        server.send("again", "654321", "while Alice was away")
        expect(log).to_contain_text("while Alice was away", timeout=15_000)
        # It resumed from the last position it saw rather than reloading everything.
        assert any('"SUBSCRIBE"' in f and '"after"' in f for f in sent), sent
        server.send("again", "654321", "live again")
        expect(log).to_contain_text("live again")
        page.locator("textarea[aria-label=Message]").fill("back online")
        page.locator("textarea[aria-label=Message]").press("Enter")
        expect(log).to_contain_text("back online")
        rest.close()
    finally:
        context.close()
        proc.terminate()
        proc.wait(10)


def test_read_only_guests_and_theming(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """guestAccess "Read" (a Chinwag extension): guests follow live but get no field; the
    page themes the UI with CSS custom properties."""
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.conversation(conversation, ["123456"], subject="Broadcast", guestAccess="Read")
    chinwag.send(conversation, "123456", "announcement one")
    viewer = {"id": "viewer-" + uuid.uuid4().hex[:6], "name": "Vic"}
    theme = "<style>:root { --chinwag-accent: rgb(15, 118, 110); }</style>"
    tab = open_tab(
        pages.add(
            CONTAINER
            + '<script type="module">'
            + boot(
                APP_ID,
                viewer,
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}', {{asGuest: true}});\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
            + "</script>",
            head=theme,
        )
    )
    expect(tab.messages()).to_contain_text("announcement one")
    expect(tab.field()).to_be_hidden()
    expect(tab.page.locator(".readonly")).to_contain_text("as a guest (read only)")
    chinwag.send(conversation, "123456", "announcement two")
    expect(tab.messages()).to_contain_text("announcement two")
    badge = tab.page.locator(".badge-guest")
    expect(badge).to_have_css("color", "rgb(15, 118, 110)")
    # Opened for writing: the open view gets its field.
    chinwag.ok(
        chinwag.rest.put(
            f"/v1/{APP_ID}/conversations/{conversation}", json={"guestAccess": "ReadWrite"}
        )
    )
    expect(tab.field()).to_be_visible()
    expect(tab.page.locator("button.send")).to_have_css("background-color", "rgb(15, 118, 110)")


def test_guest_mute_kick_and_invite_reach_the_open_chatbox(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """Chinwag's guest moderation (REST) shows in the guest's open view; an invite token admits
    a guest to a conversation closed to guests."""
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.conversation(conversation, ["123456"], subject="Moderated")
    chinwag.send(conversation, "123456", "house rules apply")
    guest = "noisy-" + uuid.uuid4().hex[:6]
    select = (
        "const chatbox = session.createChatbox();\n"
        f"chatbox.select('{conversation}', {{asGuest: true}});\n"
        "chatbox.mount(document.getElementById('talkjs-container'));"
    )
    tab = open_tab(pages.sample(boot(APP_ID, {"id": guest, "name": "Nick"}, select)))
    expect(tab.field()).to_be_visible()
    base = f"/v1/{APP_ID}/conversations/{conversation}/guests/{guest}"
    chinwag.ok(chinwag.rest.put(f"{base}/mute", json={"reason": "calm down"}))
    expect(tab.field()).to_be_hidden()
    chinwag.ok(chinwag.rest.delete(f"{base}/mute"))
    expect(tab.field()).to_be_visible()
    chinwag.ok(chinwag.rest.post(f"{base}/kick", json={}))
    expect(tab.page.locator(".title")).to_have_text("A moderator removed you from this chat")
    expect(tab.field()).to_be_hidden()

    chinwag.conversation(conversation, [], guestAccess="None")
    invite = chinwag.ok(
        chinwag.rest.post(
            f"/v1/{APP_ID}/conversations/{conversation}/invites", json={"access": "Read"}
        )
    )
    invited = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": "invited-" + uuid.uuid4().hex[:6], "name": "Ivy"},
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}', {{invite: '{invite['token']}'}});\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    expect(invited.messages()).to_contain_text("house rules apply")
    expect(invited.page.locator(".badge-guest")).to_be_visible()
    expect(invited.field()).to_be_hidden()


def test_leave_select_null_and_destroy(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    me = "leaver-" + uuid.uuid4().hex[:6]
    chinwag.user(me, "Lee")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, [me, "654321"], subject="Leaving")
    chinwag.send(conversation, "654321", "last words")
    tab = open_tab(
        pages.sample(
            boot(
                APP_ID,
                {"id": me, "name": "Lee"},
                (
                    "const conversation = session.getOrCreateConversation("
                    f"'{conversation}');\n"
                    "const chatbox = session.createChatbox();\n"
                    "window.chatbox = chatbox; window.conversation = conversation;\n"
                    "await chatbox.select(conversation);\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    tab.wait_done()
    expect(tab.messages()).to_contain_text("last words")
    assert tab.page.evaluate("window.conversation.leave()") is True
    expect(tab.page.locator(".notice")).to_have_text(
        "You are not part of this conversation anymore."
    )
    conv = chinwag.ok(chinwag.rest.get(f"/v1/{APP_ID}/conversations/{conversation}"))
    assert me not in conv["participants"]
    tab.page.evaluate("window.chatbox.select(null)")
    expect(tab.page.get_by_text("No conversation selected")).to_be_visible()
    tab.page.evaluate("window.chatbox.destroy()")
    expect(tab.page.locator(".chinwag-host")).to_have_count(0)
    assert tab.page.evaluate("window.chatbox.isAlive") is False
    assert tab.page.evaluate("window.session.getChatboxes().length") == 0
    tab.page.evaluate("window.session.destroy()")
    assert tab.page.evaluate("window.session.isAlive") is False


def test_pushes_are_acknowledged_once_per_burst(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The SDK sends one cumulative ACK for a burst of pushes (docs/protocol.md), not one each."""
    conversation = cid()
    chinwag.user("123456", "Alice")
    chinwag.user("654321", "Sebastian")
    chinwag.conversation(conversation, ["123456", "654321"], subject="Burst")
    spy = (
        "window.__acks = []; window.__pushes = [];\n"
        "const realSend = WebSocket.prototype.send;\n"
        "WebSocket.prototype.send = function (data) {\n"
        "  if (!this.__spied) { this.__spied = true; this.addEventListener('message', (m) => {\n"
        "    const f = JSON.parse(m.data);\n"
        "    if (f[1] === 'PUBLISH') window.__pushes.push(f[0]); }); }\n"
        "  const f = JSON.parse(data); if (f[1] === 'ACK') window.__acks.push(f[0]);\n"
        "  return realSend.call(this, data);\n"
        "};\n"
    )
    tab = open_tab(
        pages.sample(
            spy
            + boot(
                APP_ID,
                {"id": "123456", "name": "Alice"},
                (
                    "const chatbox = session.createChatbox();\n"
                    f"chatbox.select('{conversation}');\n"
                    "chatbox.mount(document.getElementById('talkjs-container'));"
                ),
            )
        )
    )
    expect(tab.page.locator(".title")).to_have_text("Burst")
    for i in range(10):  # one push each (sent together they would share one PUBLISH frame)
        chinwag.send(conversation, "654321", f"m{i}")
    expect(tab.messages()).to_contain_text("m9")
    tab.page.wait_for_timeout(1300)  # past the SDK's ACK delay
    pushes = tab.page.evaluate("window.__pushes")
    acks = tab.page.evaluate("window.__acks")
    assert len(pushes) >= 6
    assert 1 <= len(acks) < len(pushes) // 2
    assert acks == sorted(acks) and acks[-1] == max(pushes)
