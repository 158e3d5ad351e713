"""``chinwag serve`` starts clean, as an operator sees it: a real server process.

A taken port stops it before it writes anything: no data directory, no table, no app, no admin
password printed; one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import psycopg

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
