"""Tools from the npm registry for the tests of the ``talkjs`` package (esbuild, TypeScript).

Each tool is installed once, by npm, into ``.cache/npm-tools/<name>-<version>/`` of the
repository (``CHINWAG_NPM_TOOLS`` overrides the folder), so a fresh clone installs it on its first
run and later runs reuse it. The versions are pinned here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CHINWAG_NPM_TOOLS", ROOT / ".cache" / "npm-tools"))
VERSIONS = {"esbuild": "0.28.2", "typescript": "7.0.2"}
BINARIES = {"esbuild": "esbuild", "typescript": "tsc"}


def require_node() -> None:
    """Skip where Node or npm is missing, except in CI, where that is a failure."""
    missing = [name for name in ("node", "npm") if shutil.which(name) is None]
    if missing:
        message = f"{' and '.join(missing)} missing: install Node 20 or later"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def npm(*args: str, cwd: Path, timeout: float = 180) -> str:
    """Run npm quietly in ``cwd``; its output, or a failure that shows it."""
    done = subprocess.run(
        ["npm", *args, "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(f"npm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def tool(name: str) -> Path:
    """The path of the tool's command, installing it into the cache on first use."""
    require_node()
    version = VERSIONS[name]
    home = CACHE / f"{name}-{version}"
    binary = home / "node_modules" / ".bin" / BINARIES[name]
    if not binary.exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_text('{"name": "chinwag-test-tools", "private": true}\n')
        npm("install", f"{name}@{version}", cwd=home)
    return binary
