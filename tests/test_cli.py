"""The `chinwag` command as an operator uses it: a real server process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import make_pg_database

CHINWAG = [sys.executable, "-m", "chinwag"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env.update(extra)
    return env


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'chinwag.db'}"
    else:
        url, drop = make_pg_database("chinwag_cli")
        try:
            yield url
        finally:
            drop()


def start(tmp_path, database_url: str) -> tuple[subprocess.Popen[str], int, list[str]]:
    port = free_port()
    proc = subprocess.Popen(
        [*CHINWAG, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=clean_env(CHINWAG_DATABASE_URL=database_url, CHINWAG_LOG_LEVEL="warning"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Health:" in line:
            break
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc, port, lines
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start:\n" + "\n".join(lines))


def test_first_start_prints_credentials_and_a_newcomer_can_chat(tmp_path, database_url):
    proc, port, lines = start(tmp_path, database_url)
    try:
        out = "\n".join(lines)
        app_id = re.search(r"App id:\s+(\S+)", out).group(1)
        key = re.search(r"Secret key:\s+(\S+)", out).group(1)
        assert f"http://127.0.0.1:{port}/docs" in out
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/v1/{app_id}",
            headers={"Authorization": f"Bearer {key}"},
        )
        users = {u: {"name": u.title()} for u in ["alice", "sebastian", "steve", "dora"]}
        assert api.put("/users", json=users).status_code == 200
        body = {"subject": "Preserve", "participants": list(users)}
        assert api.put("/conversations/g", json=body).status_code == 200
        assert (
            api.put("/conversations/g/participants/steve", json={"access": "Read"}).status_code
            == 200
        )
        msg = [{"type": "UserMessage", "sender": "alice", "text": "hello"}]
        assert api.post("/conversations/g/messages", json=msg).status_code == 200
        assert api.delete("/conversations/g/participants/dora").status_code == 200
        msg = [{"type": "UserMessage", "sender": "steve", "text": "me?"}]
        assert api.post("/conversations/g/messages", json=msg).status_code == 403
        msg = [{"type": "UserMessage", "sender": "sebastian", "text": "later"}]
        assert api.post("/conversations/g/messages", json=msg).status_code == 200
        texts = [m["text"] for m in api.get("/conversations/g/messages").json()["data"]]
        assert texts == ["later", "hello"]
        [dora] = api.get("/users/dora/conversations").json()["data"]
        assert dora["lastMessage"]["text"] == "hello" and dora["isMember"] is False
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # Second start: the app is kept and its secret is not printed again.
    proc, _, lines = start(tmp_path, database_url)
    proc.terminate()
    proc.wait(timeout=15)
    out = "\n".join(lines)
    assert app_id in out and "Secret key" not in out


def test_env_app_is_ensured(tmp_path):
    port = free_port()
    env = clean_env(
        CHINWAG_APP_ID="myapp",
        CHINWAG_SECRET_KEY="sk_test_fixed_secret_0123456789",
        CHINWAG_LOG_LEVEL="warning",
    )
    proc = subprocess.Popen(
        [*CHINWAG, "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{port}/v1/myapp/settings",
                    headers={"Authorization": "Bearer sk_test_fixed_secret_0123456789"},
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["participantLimit"] == 50
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_apps_command(tmp_path):
    env = clean_env()
    created = subprocess.run(
        [*CHINWAG, "apps", "--data-dir", str(tmp_path), "create", "--name", "shop"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    app_id = re.search(r"app id: (\S+)", created).group(1)
    key = re.search(r"secret key: (\S+)", created).group(1)
    listed = subprocess.run(
        [*CHINWAG, "apps", "--data-dir", str(tmp_path), "list", "--secrets"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert app_id in listed and key in listed and "shop" in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "http"], "port must be a number"),
        (["--database-url", "mysql://x"], "database URL"),
        (["--broker-url", "kafka://x"], "broker URL"),
        (["--app-id", "lonely"], "together"),
    ],
)
def test_bad_configuration_stops_with_a_clear_message(tmp_path, args, message):
    result = subprocess.run(
        [*CHINWAG, "serve", "--data-dir", str(tmp_path), *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr
