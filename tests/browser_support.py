"""What the chat UI's browser tests share: a ``chinwag serve`` subprocess that a test may kill
and start again on the same port and data directory, the integrator's pages on another origin,
and Chromium.

Test modules import the fixtures from here (this module imports no test module). Chromium is
Debian's ``/usr/bin/chromium`` (``make test`` installs it); without it the tests skip locally and
fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_ID = "uitest"
SECRET = "sk_test_ui_" + "y" * 28
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
CONTAINER = '<div id="chat"><i>Loading chat...</i></div>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``chinwag serve`` on a fixed port and data directory, killed and started at will."""

    data: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "CHINWAG_APP_ID": APP_ID,
            "CHINWAG_SECRET_KEY": SECRET,
            "CHINWAG_LOG_LEVEL": "warning",
            "CHINWAG_WORKER": "off",
        }
        cmd = [sys.executable, "-m", "chinwag", "serve", "--port", str(self.port)]
        log = open(self.data / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [*cmd, "--data-dir", str(self.data)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chinwag serve did not start:\n{self.log()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash; its sockets close with it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- REST, as the integrator's backend --------------------------------------------------

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/v1/{APP_ID}{path}",
            json=body,
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def user(self, user_id: str, name: str, **fields: Any) -> None:
        self.rest("PUT", f"/users/{user_id}", {"name": name, **fields})

    def conversation(self, cid: str, participants: list[str], **fields: Any) -> None:
        self.rest("PUT", f"/conversations/{cid}", {"participants": participants, **fields})

    def send(self, cid: str, sender: str, text: str) -> None:
        item = {"type": "UserMessage", "sender": sender, "text": text}
        self.rest("POST", f"/conversations/{cid}/messages", [item])

    def stored_texts(self, cid: str) -> list[str]:
        """Every message of the conversation, oldest first, as REST has it (paged)."""
        texts: list[str] = []
        after: str | None = None
        while True:
            query = f"?limit=100{f'&startingAfter={after}' if after else ''}"
            page = self.rest("GET", f"/conversations/{cid}/messages{query}")["data"]
            texts += [m["text"] for m in page]
            if len(page) < 100:
                return texts[::-1]
            after = page[-1]["id"]


@contextmanager
def running_server(data: Path) -> Iterator[Server]:
    server = Server(data)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Pages:
    """The integrator's web server: another origin than Chinwag's."""

    url: str = ""
    html: dict[str, str] = field(default_factory=dict)

    def add(self, chinwag_url: str, body: str, head: str = "") -> str:
        path = f"/p/{uuid.uuid4().hex[:10]}.html"
        self.html[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Integrator page</title>"
            f'<script src="{chinwag_url}/talk.js"></script>{head}'
            "<style>body{margin:0;padding:16px;font-family:system-ui;background:#eef0f5}"
            "#chat{width:100%;max-width:560px;height:520px}</style>"
            f"</head><body>{body}</body></html>"
        )
        return self.url + path

    def sample(self, chinwag_url: str, code: str, body: str = CONTAINER, head: str = "") -> str:
        """A page running ``code`` in a module script; ``window.__done`` once it ran."""
        return self.add(
            chinwag_url,
            body + f'<script type="module">\n{code}\nwindow.__done = true;\n</script>',
            head,
        )


@contextmanager
def serving_pages() -> Iterator[Pages]:
    store = Pages()

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
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()


def boot(user: dict[str, Any] | str, extra: str = "", **session: Any) -> str:
    """Code that starts a session as ``user`` (``window.session``), then runs ``extra``."""
    options = {"appId": APP_ID, **session}
    return (
        "await Talk.ready;\n"
        f"const me = new Talk.User({json.dumps(user)});\n"
        f"const session = new Talk.Session({{...{json.dumps(options)}, me}});\n"
        "window.session = session;\n" + extra
    )


def mount(kind: str, conversation: str | None = None, **options: Any) -> str:
    """Code that creates a Chatbox, Inbox or Popup (``window.box``) and mounts it."""
    opts = json.dumps(options)
    if kind == "inbox":
        create = f"session.createInbox({{...{opts}{f', selected: {json.dumps(conversation)}' if conversation else ''}}})"  # noqa: E501
    elif kind == "popup":
        create = f"session.createPopup({json.dumps(conversation)}, {opts})"
    else:
        create = f"session.createChatbox({opts})"
    code = f"const box = {create};\nwindow.box = box;\n"
    if kind == "chatbox" and conversation:
        code += f"box.select({json.dumps(conversation)});\n"
    if kind == "popup":
        return code + "box.mount({show: window.__show !== false});\n"
    return code + "box.mount(document.getElementById('chat'));\n"


def cid() -> str:
    return "c_" + uuid.uuid4().hex[:12]


# --- fixtures ----------------------------------------------------------------------------------


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _need_chromium()
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    with serving_pages() as store:
        yield store


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("chinwag-ui")) as s:
        yield s


@dataclass
class Tab:
    page: Page
    console: list[str]

    def field(self) -> Any:
        return self.page.locator("textarea[aria-label=Message]")

    def say(self, text: str) -> None:
        self.field().fill(text)
        self.field().press("Enter")

    def log(self) -> Any:
        return self.page.locator("[role=log]")

    def shown(self) -> list[str]:
        """The texts of the messages the page shows as stored, in order."""
        return list(self.page.locator(".row[data-message-id] .text").all_inner_texts())

    def pending(self) -> Any:
        return self.page.locator(".row[data-pending-key]")

    def wait_done(self) -> None:
        self.page.wait_for_function("window.__done === true", timeout=15_000)


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def open_(
        url: str, width: int = 900, height: int = 700, init: str | None = None, **context: Any
    ) -> Tab:
        """A page in a context of its own; ``init``: a script run before the page's own."""
        ctx = browser.new_context(viewport={"width": width, "height": height}, **context)
        contexts.append(ctx)
        if init:
            ctx.add_init_script(init)
        page = ctx.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.goto(url)
        return Tab(page, console)

    yield open_
    for c in contexts:
        c.close()


# --- axe-core --------------------------------------------------------------------------------

AXE_VERSION = "4.14.1"
#: Where axe-core is installed once from the npm registry and reused (CHINWAG_TEST_CACHE moves it).
AXE_CACHE = (
    Path(os.environ.get("CHINWAG_TEST_CACHE", Path.home() / ".cache" / "chinwag-tests"))
    / f"axe-core-{AXE_VERSION}"
)


def axe_source() -> str:
    """axe-core's browser script, installed with npm into :data:`AXE_CACHE` on first use."""
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists() and shutil.which("npm") is None:
        message = "npm is missing: it installs axe-core (apt-get install npm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not script.exists():
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(AXE_CACHE),
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not script.exists():
            message = f"npm could not install axe-core@{AXE_VERSION}:\n{done.stderr}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return script.read_text(encoding="utf-8")


def axe_violations(
    page: Page, source: str, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations of these impacts on the page, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]});
          return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => [JSON.stringify(n.target), n.failureSummary].join(" "))}));
        }"""
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {node}"
        for v in results
        if v["impact"] in impacts
        for node in v["nodes"]
    ]


def screenshot(page: Page, name: str) -> None:
    """With CHINWAG_SCREENSHOTS=1, save the page as docs/screenshots/<name> (the README shows
    them); otherwise take it anyway (rendering must work) and drop it."""
    data = page.screenshot()
    assert data
    if os.environ.get("CHINWAG_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / name).write_bytes(data)
