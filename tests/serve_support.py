"""``chinwag serve`` as a subprocess on a free loopback port, for tests that need the real
process (its logging, its signals, a proxy in front of it)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

    def log(self) -> str:
        return self.stderr.read_text()


@contextmanager
def serve(
    tmp_path: Path, name: str = "node", port: int | None = None, **env: str
) -> Iterator[Served]:
    """Start ``chinwag serve`` with ``env``; wait for /healthz; SIGTERM it at the end."""
    port = port or free_port()
    out, err = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
    env.setdefault("CHINWAG_DATA_DIR", str(tmp_path / f"{name}-data"))
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(
            [*CHINWAG, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=clean_env(**env),
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    served = Served(f"http://127.0.0.1:{port}", port, proc, out, err)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, served.log()
            try:
                httpx.get(f"{served.url}/healthz", timeout=5).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, served.log()
                time.sleep(0.1)
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
