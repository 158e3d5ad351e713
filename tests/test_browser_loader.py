"""The two ways a frontend written for the hosted product loads the SDK, besides a plain script
tag, in real Chromium against ``chinwag serve``:

- the hosted product's async loader snippet (a placeholder ``window.Talk`` whose ``ready`` queues
  callbacks, and ``talk.js`` injected with ``async``), with only the script URL changed;
- the ``talkjs`` npm package, installed by npm from the server's ``/npm/talkjs.tgz``, imported
  with ``import Talk from "talkjs"`` and bundled by esbuild (from the npm registry, cached by
  ``tests/npm_tools.py``); its TypeScript types are checked by ``tsc`` on the same sample.

Each runs seed 002's sample (Alice's group chat in a Chatbox) to a message sent and shown.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.npm_tools import npm, tool
from tests.test_browser_sdk import (  # noqa: F401 - fixtures, used by name
    APP_ID,
    CONTAINER,
    Chinwag,
    Pages,
    Tab,
    browser,
    chinwag,
    cid,
    fill,
    numbered_blocks,
    open_tab,
    pages,
    seed_text,
)

ERRORS = (
    "window.__errors = []; window.addEventListener('unhandledrejection',"
    " (e) => window.__errors.push(String(e.reason && e.reason.message || e.reason)));"
)


def seed_group_chat(conversation: str) -> str:
    """Seed 002's first two samples, as written (they start with ``await Talk.ready``)."""
    users, group = numbered_blocks(seed_text("002"))[:2]
    return fill(users + "\n" + group, conversation)


def loader_snippet(src: str) -> str:
    """The async loader, shaped as the hosted product's docs give it: inject the script with
    ``async``, and leave a placeholder ``Talk`` whose ``ready.then``/``catch`` queue callbacks on
    ``ready.c`` and hand back promises that settle once the script ran them."""
    return (
        "(function (win, doc, queue) {\n"
        "  var tag = doc.createElement('script');\n"
        "  tag.async = true;\n"
        f"  tag.src = {json.dumps(src)};\n"
        "  doc.head.appendChild(tag);\n"
        "  function later(callback) {\n"
        "    return new Promise(function (resolve, reject) {\n"
        "      queue.push([callback, resolve, reject]);\n"
        "    });\n"
        "  }\n"
        "  var ready = {then: later, catch: function () { return later(); }, c: queue};\n"
        "  win.Talk = {v: 3, ready: ready};\n"
        "})(window, document, []);\n"
    )


def page(pages: Pages, head: str, body: str) -> str:
    path = f"/p/{uuid.uuid4().hex[:10]}.html"
    pages.html[path] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Integrator page</title>'
        f"{head}<style>#talkjs-container{{width:560px;height:560px}}</style></head>"
        f"<body>{CONTAINER}{body}</body></html>"
    )
    return pages.url + path


def chat_and_check(chinwag: Chinwag, tab: Tab, conversation: str, text: str) -> None:
    """The mounted Chatbox shows the group; a message typed in it is stored and shown."""
    tab.wait_done()
    expect(tab.page.locator(".title")).to_have_text("Beautiful steel preserve for rent!")
    expect(tab.page.locator(".subtitle")).to_have_text("You, Sebastian and Steve")
    tab.say(text)
    expect(tab.messages()).to_contain_text(text)  # at once, as "Sending…" until stored
    deadline = time.monotonic() + 10
    while True:
        url = f"/v1/{APP_ID}/conversations/{conversation}/messages"
        stored = [m["text"] for m in chinwag.ok(chinwag.rest.get(url))["data"]]
        if stored or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert stored == [text]
    assert tab.page.evaluate("window.__errors") == []
    # (Other console errors are the pages server's missing favicon and the seed's photo URL,
    # which is not reachable from here.)
    assert not [line for line in tab.console if "pageerror" in line or "[Chinwag]" in line]


# --- the async loader snippet --------------------------------------------------------------------


def test_snippet_queued_callbacks_run_in_order_once_the_script_loads(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The page's code runs before the script can (it is in the snippet's own script element):
    everything it queued runs in order, `await Talk.ready` works, and so does the sample."""
    conversation = cid()
    code = (
        loader_snippet(f"{chinwag.url}/talk.js") + ERRORS + "window.__order = [];\n"
        "window.__before = typeof Talk.Session;\n"
        "window.__held = Talk;\n"
        "window.__oldReady = Talk.ready;\n"
        "Talk.ready.then(() => { __order.push('first ' + typeof Talk.Session); return 42; })\n"
        "  .then((value) => __order.push('then ' + value));\n"
        "Talk.ready.then(() => __order.push('second'));\n"
        "Talk.ready.catch(() => __order.push('never'));\n"
        "(async () => {\n" + seed_group_chat(conversation) + "\nwindow.__done = true;\n})()"
        ".catch((e) => __errors.push(String(e && e.message || e)));\n"
    )
    tab = open_tab(page(pages, f"<script>{code}</script>", ""))
    chat_and_check(chinwag, tab, conversation, "Queued before the script came")
    got = tab.page.evaluate(
        "async () => { await window.__oldReady; const late = await window.__oldReady.then(() => 7);"
        " return [window.__before, window.__order, window.Talk === window.__held, late,"
        " window.Talk.v, typeof window.Talk.Session]; }"
    )
    assert got == [
        "undefined",
        ["first function", "second", "then 42"],
        True,
        7,
        3,
        "function",
    ]


def test_snippet_page_code_that_runs_after_the_script_loaded(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The script ran before the page's code (the code waits for the load event, which waits for
    the injected script): `Talk.ready` is then the SDK's own promise, and the sample runs."""
    conversation = cid()
    body = (
        f"<script>{ERRORS}\nwindow.addEventListener('load', () => {{\n"
        "window.__before = typeof Talk.Session;\n"
        "(async () => {\n" + seed_group_chat(conversation) + "\nwindow.__done = true;\n})()"
        ".catch((e) => __errors.push(String(e && e.message || e)));\n});</script>"
    )
    head = f"<script>{loader_snippet(f'{chinwag.url}/talk.js')}</script>"
    tab = open_tab(page(pages, head, body))
    chat_and_check(chinwag, tab, conversation, "The script came first")
    assert tab.page.evaluate("window.__before") == "function"


def test_a_script_tag_then_the_snippet_keeps_one_sdk(
    chinwag: Chinwag, pages: Pages, open_tab: Callable[..., Tab]
) -> None:
    """The snippet on a page that already has the script tag: the second copy completes the new
    placeholder with the first copy's classes, so a `Talk.User` made earlier is still one."""
    head = (
        f'<script src="{chinwag.url}/talk.js"></script>'
        "<script>window.__first = new Talk.User({id: 'u1', name: 'U'}); window.__User = Talk.User;"
        f"{loader_snippet(f'{chinwag.url}/talk.js')}"
        "Talk.ready.then(() => { window.__same = [Talk.User === window.__User,"
        " window.__first instanceof Talk.User]; });</script>"
    )
    tab = open_tab(page(pages, head, ""))
    tab.page.wait_for_function("window.__same !== undefined")
    assert tab.page.evaluate("window.__same") == [True, True]


# --- the npm package -----------------------------------------------------------------------------

TYPED_EXTRA = """
// Beyond the sample: names the types must know, and the types they give.
const selected: Promise<void> = chatbox.select(conversation, { asGuest: false });
const mine: Talk.Session = session;
const sub: Talk.Subscription = mine.onMessage((m: Talk.Message) => console.log(m.body, m.isByMe));
sub.unsubscribe();
const id: string = Talk.oneOnOneId(me, other1);
const popup: Talk.Popup = session.createPopup(conversation, { keepOpen: false });
void [selected, id, popup, Talk.ErrorCode.ARGUMENT_INVALID];
"""

TYPE_ERRORS = """
import Talk from "talkjs";
await Talk.ready;
const session = new Talk.Session({ me: new Talk.User("u1") });
session.getOrCreateConversation("c1").setParticipant("u2", { access: "Sometimes" });
session.createChatbox().translate();
"""


@pytest.fixture(scope="module")
def app(chinwag: Chinwag, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app folder with talkjs installed by npm from the running server."""
    folder = tmp_path_factory.mktemp("app")
    manifest = {"name": "integrator-app", "private": True, "type": "module"}
    (folder / "package.json").write_text(json.dumps(manifest))
    npm("install", f"talkjs@{chinwag.url}/npm/talkjs.tgz", cwd=folder)
    return folder


def test_npm_install_from_the_server_gives_a_package_for_it(chinwag: Chinwag, app: Path) -> None:
    installed = json.loads((app / "node_modules" / "talkjs" / "package.json").read_text())
    assert installed["name"] == "talkjs"
    assert installed["chinwag"]["server"] == chinwag.url
    dependency = json.loads((app / "package.json").read_text())["dependencies"]["talkjs"]
    assert dependency == f"{chinwag.url}/npm/talkjs.tgz"


def test_a_bundled_app_importing_talkjs_runs_the_seed_sample(
    chinwag: Chinwag, pages: Pages, app: Path, open_tab: Callable[..., Tab]
) -> None:
    conversation = cid()
    source = app / f"main-{conversation}.js"
    source.write_text(
        'import Talk from "talkjs";\n' + seed_group_chat(conversation) + "\nwindow.__done = true;\n"
    )
    bundle = app / f"out-{conversation}.js"
    subprocess.run(
        [str(tool("esbuild")), source.name, "--bundle", "--format=esm", f"--outfile={bundle.name}"],
        cwd=app,
        check=True,
        capture_output=True,
        timeout=60,
    )
    code = bundle.read_text()
    assert "/talk.js" in code and chinwag.url in code
    body = f'<script>{ERRORS}</script><script type="module">{code}</script>'
    tab = open_tab(page(pages, "", body))
    chat_and_check(chinwag, tab, conversation, "Bundled with esbuild")
    scripts = tab.page.evaluate("[...document.scripts].map((s) => s.src).filter(Boolean)")
    assert scripts == [f"{chinwag.url}/talk.js"]


def test_the_types_accept_the_seed_sample_and_refuse_what_chinwag_lacks(app: Path) -> None:
    (app / "typed.ts").write_text(
        'import Talk from "talkjs";\n' + seed_group_chat("c1") + "\n" + TYPED_EXTRA
    )
    (app / "required.cts").write_text(
        'import talkjs = require("talkjs");\nconst Talk = talkjs.default;\n'
        "const ready: Promise<void> = Talk.ready;\n"
        "void [ready, talkjs.Talk.oneOnOneId('a', 'b')];\n"
    )
    (app / "wrong.ts").write_text(TYPE_ERRORS)
    tsc = str(tool("typescript"))
    common = ["--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom"]
    bundler = ["--module", "esnext", "--moduleResolution", "bundler"]
    for module in (bundler, ["--module", "nodenext"]):
        files = ["typed.ts"] + (["required.cts"] if module is not bundler else [])
        done = subprocess.run(
            [tsc, *common, *module, *files], cwd=app, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [tsc, *common, *bundler, "wrong.ts"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = done.stdout
    assert "appId" in errors  # a session needs it
    assert '"Sometimes"' in errors  # not an access
    assert "translate" in errors  # not implemented, so not typed
