"""``chinwag serve`` starts clean and stops clean, as an operator sees it: a real server process.

- A taken port stops it before it writes anything: no data directory, no table, no app, no
  admin password printed; one line on stderr and a non-zero exit.
- SIGTERM and Ctrl+C (SIGINT) stop it gracefully: an open realtime socket gets a close frame
  with code 1001, the outbox worker logs that it stopped, the exit code is 0 and stderr holds no
  traceback.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.realtime_support import Client
from tests.test_cli import CHINWAG, clean_env, database_url  # noqa: F401 - a fixture


def test_a_taken_port_stops_serve_before_it_writes_anything(
    tmp_path: Path,
    database_url: str,  # noqa: F811
) -> None:
    data = tmp_path / "data"
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run(
            [*CHINWAG, "serve", "--port", str(port), "--data-dir", str(data)],
            env=clean_env(CHINWAG_DATABASE_URL=database_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stdout == ""  # no app id, no secret key, no admin password
    [line] = result.stderr.splitlines()
    assert line.startswith(f"chinwag: cannot listen on 127.0.0.1:{port}: address already in use")
    assert "--port" in line
    assert not data.exists()
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
        assert tables == (0,)


def test_an_unknown_host_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CHINWAG, "serve", "--host", "no-such-host.invalid", "--data-dir", str(tmp_path / "d")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("chinwag: cannot listen on no-such-host.invalid:8000: unknown host")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    stderr = tmp_path / "stderr.log"
    with open(stderr, "w") as err:
        proc = subprocess.Popen(
            # Port 0: the server takes a free port and prints it in its URLs.
            [*CHINWAG, "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
            env=clean_env(CHINWAG_LOG_LEVEL="info"),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        out = []
        for line in proc.stdout:
            out.append(line)
            if "Health:" in line:
                break
        printed = "".join(out)
        base = re.search(r"Health:\s+(http://127\.0\.0\.1:\d+)/healthz", printed)
        assert base, printed + stderr.read_text()
        url = base.group(1)
        assert not url.endswith(":0")
        app_id = re.search(r"App id:\s+(\S+)", printed).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz").raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.1)
        with Client.open(url.replace("http://", "ws://"), app_id, "alice") as client:
            client.ok("GET", "ping")
            proc.send_signal(stop)
            closed = client.wait_closed()
        assert closed.code == 1001, (closed.code, closed.reason)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:  # pragma: no cover - only when the test already failed
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    log = stderr.read_text()
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log
    assert re.search(r"outbox worker \S+ stopped", log), log
