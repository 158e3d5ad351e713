"""The ``talkjs`` npm package the server builds (``GET /npm/talkjs.tgz``): its files, its two entry
points in Node, and its loader's rules against a stand-in page (``tests/test_browser_loader.py``
runs it for real: npm, esbuild and Chromium).
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chinwag.services.context import Context
from chinwag.storage.db import open_database
from chinwag.web import npm
from chinwag.web.app import create_app
from tests.npm_tools import require_node

SOURCE = Path(npm.__file__).resolve().parent.parent / "static" / "npm" / "talkjs"
GLOBAL_JS = SOURCE.parent.parent / "sdk" / "global.js"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    db = open_database("sqlite:///:memory:")
    with TestClient(create_app(Context(db=db)), base_url="http://chat.example.com:8000") as c:
        yield c
    db.close()


def unpack(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        assert all(m.isfile() and m.name.startswith("package/") for m in members)
        return {m.name[len("package/") :]: tar.extractfile(m).read().decode() for m in members}  # type: ignore[union-attr]


def install(tmp_path: Path, files: dict[str, str]) -> Path:
    """An app folder with the package unpacked into ``node_modules/talkjs``."""
    package = tmp_path / "node_modules" / "talkjs"
    package.mkdir(parents=True)
    for name, text in files.items():
        (package / name).write_text(text)
    return tmp_path


def node(app: Path, code: str, module: bool = False) -> str:
    args = ["node", "--input-type=module", "-e", code] if module else ["node", "-e", code]
    done = subprocess.run(args, cwd=app, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_tarball_is_a_package_named_talkjs_for_this_server(client: TestClient) -> None:
    r = client.get("/npm/talkjs.tgz")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/gzip"
    assert r.headers["access-control-allow-origin"] == "*"
    assert "X-Forwarded-Host" in r.headers["vary"]
    files = unpack(r.content)
    manifest = json.loads(files["package.json"])
    assert manifest["name"] == "talkjs"
    assert manifest["version"].startswith("0.46.")
    assert manifest["chinwag"] == {"server": "http://chat.example.com:8000"}
    assert sorted(files) == sorted(["package.json", *manifest["files"]])
    entry = manifest["exports"]["."]
    named = [manifest["main"], manifest["module"], manifest["types"]]
    named += [entry[kind][key] for kind in ("import", "require") for key in ("types", "default")]
    assert all(path.removeprefix("./") in files for path in named)
    for name in ("index.mjs", "index.cjs"):
        assert 'const SERVER = "http://chat.example.com:8000";' in files[name]
    assert "export default Talk;" in files["index.mjs"]
    assert "exports.default = Talk;" in files["index.cjs"]


def test_the_same_url_gets_the_same_bytes_and_another_url_its_own(client: TestClient) -> None:
    first = client.get("/npm/talkjs.tgz").content
    npm.tarball.cache_clear()
    assert client.get("/npm/talkjs.tgz").content == first  # rebuilt: byte for byte the same
    other = client.get("http://127.0.0.1:9000/npm/talkjs.tgz").content
    assert other != first
    assert json.loads(unpack(other)["package.json"])["chinwag"]["server"] == "http://127.0.0.1:9000"


def test_behind_a_tls_proxy_the_package_points_at_the_public_url(client: TestClient) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example.com"}
    files = unpack(client.get("/npm/talkjs.tgz", headers=headers).content)
    assert 'const SERVER = "https://chat.example.com";' in files["index.mjs"]
    assert json.loads(files["package.json"])["chinwag"]["server"] == "https://chat.example.com"


def test_the_server_url_is_a_string_literal_whatever_the_host_says() -> None:
    files = npm.package_files('http://evil";alert(1);"')
    assert 'const SERVER = "http://evil\\";alert(1);\\"";' in files["index.mjs"]


def test_both_entry_points_export_talk_and_ready_throws_without_window(tmp_path: Path) -> None:
    require_node()
    app = install(tmp_path, npm.package_files("http://127.0.0.1:9"))
    cjs = node(
        app,
        "const m = require('talkjs');"
        "let error; try { m.default.ready } catch (e) { error = e.message }"
        "console.log(JSON.stringify([m.default === m.Talk, m.__esModule, error]))",
    )
    same, flag, error = json.loads(cjs)
    assert same is True and flag is True
    assert "window" in error and "Talk.ready" in error
    esm = node(
        app,
        "import Talk, { Talk as Named } from 'talkjs';"
        "let error; try { Talk.ready } catch (e) { error = e.message }"
        "console.log(JSON.stringify([Talk === Named, typeof Talk.Session, error]))",
        module=True,
    )
    assert json.loads(esm) == [True, "undefined", error]


# A stand-in page in Node: enough of `window` and `document` for the loader, and /talk.js played
# by global.js (the module that completes the placeholder) with a stand-in SDK namespace.
PAGE = """
import { installGlobal } from "./global.mjs";
const injected = [];
globalThis.window = globalThis;
globalThis.document = {
  head: { appendChild: (script) => injected.push(script) },
  createElement: () => ({}),
};
const Talk = (await import("talkjs")).default;
const again = (await import("talkjs/package.json", { with: { type: "json" } })).default;
const shape = [window.Talk.v, typeof window.Talk.ready.then, Array.isArray(window.Talk.ready.c)];
const script = injected[0];
const sdk = { ready: Promise.resolve(), Session: class Session {}, User: class User {} };
if (process.argv[2] === "fail") script.onerror();
else installGlobal(window, sdk);
let outcome;
try {
  await Talk.ready;
  const mine = sdk.Session;
  outcome = [typeof Talk.Session, Talk.Session === mine, window.Talk.Session === mine];
} catch (error) {
  outcome = error.message;
}
console.log(JSON.stringify({
  injected: injected.map((s) => [s.src, s.async]), shape, outcome, server: again.chinwag.server,
}));
"""


@pytest.mark.parametrize("fail", [False, True])
def test_the_loader_injects_the_servers_script_once_and_adopts_it(
    tmp_path: Path, fail: bool
) -> None:
    require_node()
    app = install(tmp_path, npm.package_files("http://127.0.0.1:9"))
    (app / "global.mjs").write_text(GLOBAL_JS.read_text())
    (app / "page.mjs").write_text(PAGE)
    done = subprocess.run(
        ["node", "page.mjs", "fail" if fail else "load"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["injected"] == [["http://127.0.0.1:9/talk.js", True]]
    assert got["shape"] == [3, "function", True]
    assert got["server"] == "http://127.0.0.1:9"
    if fail:
        assert "could not load http://127.0.0.1:9/talk.js" in got["outcome"]
    else:
        assert got["outcome"] == ["function", True, True]
