"""Several `chinwag serve` processes on one PostgreSQL database and one Redis, for the tests
that cross nodes: start them, call REST on one, open sessions on another."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import make_pg_database
from tests.metrics_support import TOKEN, Samples, scrape
from tests.realtime_support import Client, free_port


class Cluster:
    def __init__(self, ports: list[int], app_id: str, secret: str) -> None:
        self.ports, self.app_id, self.secret = ports, app_id, secret

    def rest(self, node: int, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(
            method,
            f"http://127.0.0.1:{self.ports[node]}/v1/{self.app_id}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.secret}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def client(self, node: int, user_id: str) -> Client:
        return Client.open(f"ws://127.0.0.1:{self.ports[node]}", self.app_id, user_id)

    def metrics(self, node: int) -> Samples:
        """What the node's ``/metrics`` says now (each node counts its own)."""
        return scrape(f"http://127.0.0.1:{self.ports[node]}")


def start_node(port: int, env: dict[str, str], log: Any, **popen: Any) -> subprocess.Popen[bytes]:
    """``chinwag serve`` on ``port`` with ``env``, its output to ``log``; returns once its
    ``/healthz`` answers (``popen``: more arguments for :class:`subprocess.Popen`)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "chinwag", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "CHINWAG_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        **popen,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"node on port {port} did not start")
        time.sleep(0.1)


def stop_nodes(procs: list[subprocess.Popen[bytes]], timeout: float = 10) -> None:
    """SIGTERM to each, then SIGKILL to any still running after ``timeout``."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_cluster(tmp_path: Path, redis_url: str, nodes: int = 2) -> Iterator[Cluster]:
    """``nodes`` servers on a fresh PostgreSQL database and the Redis at ``redis_url``."""
    url, drop = make_pg_database("chinwag_nodes")
    app_id, secret = f"t{uuid.uuid4().hex[:8]}", "sk_test_" + uuid.uuid4().hex
    env = {
        **os.environ,
        "CHINWAG_DATABASE_URL": url,
        "CHINWAG_BROKER_URL": redis_url,
        "CHINWAG_APP_ID": app_id,
        "CHINWAG_SECRET_KEY": secret,
        "CHINWAG_DATA_DIR": str(tmp_path),
        "CHINWAG_LOG_LEVEL": "warning",
        "CHINWAG_WORKER": "off",
        "CHINWAG_METRICS_TOKEN": TOKEN,
    }
    procs: list[subprocess.Popen[bytes]] = []
    ports = [free_port() for _ in range(nodes)]
    with open(tmp_path / "nodes.log", "wb") as log:
        try:
            for port in ports:  # one after the other: the first creates the schema and app
                procs.append(start_node(port, env, log))
            yield Cluster(ports, app_id, secret)
        finally:
            stop_nodes(procs)
            drop()
