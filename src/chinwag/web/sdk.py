"""The browser side: ``/talk.js`` (classic script), ``/talk.mjs`` (ES module), the SDK's modules,
the ``talkjs`` npm package (``/npm/talkjs.tgz``, see ``npm.py``) and the ``/demo`` page.

The SDK is written as plain ES modules under ``static/sdk/``; no build step. ``/talk.mjs`` is the
entry module and imports the others by relative URL. ``/talk.js`` is the same code packed into one
classic script at first request: each module becomes a function whose imports are read from the
modules before it, so the integrator's ``<script src=".../talk.js">`` defines ``window.Talk``
synchronously, as the hosted product's script does. Loaded asynchronously by the hosted product's
loader snippet (or the ``talkjs`` npm package), it completes the placeholder ``window.Talk`` that
loader left and runs what was queued on its ``ready`` (``static/sdk/global.js``).

Everything here is served with ``Access-Control-Allow-Origin: *``: the integrator's pages live on
another origin, and module scripts loaded across origins need it.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from chinwag.services import dashboard
from chinwag.web import npm

router = APIRouter(tags=["browser"], include_in_schema=False)

#: The SDK's modules in dependency order (each imports only from modules listed before it).
MODULES = (
    "host.js",
    "errors.js",
    "sha1.js",
    "emitter.js",
    "connection.js",
    "routes.js",
    "user.js",
    "conversation.js",
    "feed.js",
    "unreads.js",
    "ui/styles.js",
    "ui/dom.js",
    "ui/format.js",
    "ui/content.js",
    "ui/box.js",
    "ui/view.js",
    "ui/chatbox.js",
    "ui/inbox.js",
    "ui/popup.js",
    "notify.js",
    "session.js",
    "index.js",
    "global.js",
)
CORS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";\s*$', re.M)
_EXPORT = re.compile(
    r"^export\s+(?:default\s+)?(?:async\s+)?(?:class|function\*?|const|let)\s+(\w+)", re.M
)
_EXPORT_LIST = re.compile(r"^export\s*\{([^}]*)\};?\s*$", re.M)


def _static(path: str) -> str:
    return resources.files("chinwag").joinpath("static", path).read_text(encoding="utf-8")


def _pack_module(name: str, source: str) -> str:
    """One ES module as a function of the modules before it (imports and exports rewritten)."""
    here = posixpath.dirname(name)

    def imported(m: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join(here, m.group(2)))
        names = ", ".join(
            part.strip().replace(" as ", ": ") for part in m.group(1).split(",") if part.strip()
        )
        return f"const {{ {names} }} = modules[{json.dumps(target)}];"

    exported = _EXPORT.findall(source)
    for listed in _EXPORT_LIST.findall(source):
        exported += [part.strip() for part in listed.split(",") if part.strip()]
    body = _IMPORT.sub(imported, source)
    body = _EXPORT_LIST.sub("", body)
    body = re.sub(r"^export\s+(?:default\s+)?", "", body, flags=re.M)
    body = body.replace("import.meta.url", "scriptUrl")
    return (
        f"modules[{json.dumps(name)}] = (function () {{\n{body}\n"
        f"return {{ {', '.join(exported)} }};\n}})();\n"
    )


@functools.cache
def classic_bundle() -> str:
    """The whole SDK as one classic script defining ``window.Talk``."""
    parts = [
        "/* Chinwag browser SDK: the Talk global. Source: the ES modules under /sdk/. */\n",
        "(function () {\n'use strict';\n",
        "const scriptUrl = (document.currentScript && document.currentScript.src)"
        " || location.href;\n",
        "const modules = {};\n",
    ]
    parts += [_pack_module(name, _static(f"sdk/{name}")) for name in MODULES]
    parts.append('modules["global.js"].installGlobal(window, modules["index.js"].Talk);\n})();\n')
    return "".join(parts)


@router.get("/talk.js")
def talk_js() -> Response:
    return Response(classic_bundle(), media_type="text/javascript", headers=CORS)


@router.get("/talk.mjs")
def talk_mjs() -> Response:
    source = 'export { Talk as default, Talk } from "./sdk/index.js";\n'
    return Response(source, media_type="text/javascript", headers=CORS)


def _public_base(request: Request) -> str:
    """The server's URL as the client reached it. A TLS proxy's ``X-Forwarded-Proto`` and
    ``X-Forwarded-Host`` are taken at their word: what is built from them is a function of the URL
    alone and goes back to the sender only, so a forged header changes nothing for anyone else."""
    url = request.base_url
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    if proto in ("http", "https"):
        url = url.replace(scheme=proto)
    if host:
        url = url.replace(netloc=host)
    return str(url).rstrip("/")


@router.get("/npm/talkjs.tgz")
def talkjs_package(request: Request) -> Response:
    """The ``talkjs`` npm package, loading the SDK from the URL it was downloaded from."""
    return Response(
        npm.tarball(_public_base(request)),
        media_type="application/gzip",
        headers={
            **CORS,
            "Content-Disposition": 'attachment; filename="talkjs.tgz"',
            "Vary": "Host, X-Forwarded-Proto, X-Forwarded-Host",  # a shared cache keeps them apart
        },
    )


@router.get("/sdk/{path:path}")
def sdk_module(path: str) -> Response:
    if path not in MODULES:
        return Response("not found", status_code=404, headers=CORS)
    return Response(_static(f"sdk/{path}"), media_type="text/javascript", headers=CORS)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    types = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    suffix = posixpath.splitext(name)[1]
    if suffix not in types or "/" in name or name.startswith("."):
        return Response("not found", status_code=404)
    try:
        body = _static(name)
    except FileNotFoundError:
        return Response("not found", status_code=404)
    return Response(body, media_type=types[suffix], headers=CORS)


@router.get("/favicon.ico")
def favicon() -> Response:
    icon = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
        '<circle cx="8" cy="8" r="7" fill="#4f46e5"/></svg>'
    )
    return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/demo")
def demo_page(request: Request) -> HTMLResponse:
    """Pick a user, chat in the demo group, open it as a guest (seeded on first visit)."""
    ctx = request.app.state.ctx
    info: dict[str, Any] = dashboard.prepare_demo(ctx, request.query_params.get("app"))
    html = _static("demo.html").replace("__DEMO__", json.dumps(info).replace("<", "\\u003c"))
    return HTMLResponse(html)


__all__ = ["classic_bundle", "router"]
