"""``chinwag serve`` as a subprocess on a loopback port, for tests that need the real process
(its logging, its signals, a proxy in front of it, a restart)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.test_cli import CHINWAG, clean_env, free_port


@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen[str]
    stdout: Path
    stderr: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.stderr.read_text()


def start(tmp_path: Path, name: str = "node", port: int | None = None, **env: str) -> Served:
    """Start ``chinwag serve`` with ``env`` (appending to its log files) and wait for /healthz."""
    port = port or free_port()
    out, err = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
    env.setdefault("CHINWAG_DATA_DIR", str(tmp_path / f"{name}-data"))
    with open(out, "a") as stdout, open(err, "a") as stderr:
        proc = subprocess.Popen(
            [*CHINWAG, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=clean_env(**env),
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    served = Served(f"http://127.0.0.1:{port}", port, proc, out, err, env)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"chinwag serve exited {proc.returncode}: {served.log()}")
        try:
            httpx.get(f"{served.url}/healthz", timeout=5).raise_for_status()
            return served
        except httpx.TransportError:
            if time.monotonic() > deadline:
                stop(served)
                raise AssertionError("chinwag serve is not healthy: " + served.log()) from None
            time.sleep(0.1)


def restart(tmp_path: Path, served: Served, name: str) -> Served:
    assert stop(served) == 0, served.log()
    return start(tmp_path, name, served.port, **served.env)


@contextmanager
def serve(
    tmp_path: Path, name: str = "node", port: int | None = None, **env: str
) -> Iterator[Served]:
    """Start ``chinwag serve``; SIGTERM it at the end."""
    served = start(tmp_path, name, port, **env)
    try:
        yield served
    finally:
        stop(served)


def stop(served: Served) -> int:
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGTERM)
        try:
            served.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when a test already failed
            served.proc.kill()
            served.proc.wait()
    return served.proc.returncode
