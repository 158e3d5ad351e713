"""The ``talkjs`` npm package, built for one Chinwag server (``GET /npm/talkjs.tgz``).

The package's files live in ``static/npm/talkjs/``. Its two entry points are made here from one
body, ``loader.js``, the way ``/talk.js`` is made from the SDK's modules: ``index.mjs`` (ES module)
and ``index.cjs`` (CommonJS) each get ``const SERVER = "<url>";`` above the body and their own
export statements below it. Everything else is copied as it is.

Rules kept:

- The server URL is the one the tarball was requested at (``request.base_url``), so an app that
  installs ``talkjs@http://<server>/npm/talkjs.tgz`` loads the SDK from that same address.
- The same URL gives the same bytes (fixed file times, no gzip timestamp): npm's integrity hash
  in the app's lockfile stays valid across server restarts until Chinwag's package changes.
- Tarballs are cached per URL, a few at most (the URL comes from the request's Host header).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import tarfile
from importlib import resources

#: Copied into the package as they are.
FILES = ("package.json", "README.md", "index.d.ts", "index.d.mts", "talk.d.ts")
#: File times in the tarball: npm's own fixed date for reproducible packs (1985-10-26T08:15:00Z).
MTIME = 499162500

_ESM_EXPORTS = "export default Talk;\nexport { Talk };\n"
_CJS_EXPORTS = (
    'Object.defineProperty(exports, "__esModule", { value: true });\n'
    "exports.default = Talk;\n"
    "exports.Talk = Talk;\n"
)


def _source(name: str) -> str:
    path = resources.files("chinwag").joinpath("static", "npm", "talkjs", name)
    return path.read_text(encoding="utf-8")


def entry_points(server_url: str) -> dict[str, str]:
    """``index.mjs`` and ``index.cjs`` for the server at ``server_url``."""
    head = f"const SERVER = {json.dumps(server_url.rstrip('/'))};\n\n"
    body = _source("loader.js")
    return {
        "index.mjs": head + body + "\n" + _ESM_EXPORTS,
        "index.cjs": '"use strict";\n' + head + body + "\n" + _CJS_EXPORTS,
    }


def package_files(server_url: str) -> dict[str, str]:
    """Every file of the package by its name in the package."""
    files = {name: _source(name) for name in FILES}
    manifest = json.loads(files["package.json"])
    manifest["chinwag"] = {"server": server_url.rstrip("/")}
    files["package.json"] = json.dumps(manifest, indent=2) + "\n"
    files.update(entry_points(server_url))
    return files


@functools.lru_cache(maxsize=8)
def tarball(server_url: str) -> bytes:
    """The package as npm expects it: a gzipped tar whose files are under ``package/``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in sorted(package_files(server_url).items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = MTIME
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


__all__ = ["entry_points", "package_files", "tarball"]
