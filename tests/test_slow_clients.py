"""Slow clients cannot hold the server (issue 11, finding 3): a `chinwag serve` limited to 256
open files, 300 sockets that never finish their request head, and another client who is still
answered; the slow ones are closed once the head deadline passes (web/http_guard.py)."""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chinwag.proxies import TrustedProxies, parse
from chinwag.services.context import Context
from chinwag.web import http_guard
from chinwag.web.app import create_app
from tests.cluster_support import start_node, stop_nodes
from tests.realtime_support import free_port, live_server

SLOW = 300


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    port = free_port()

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    env = {
        **os.environ,
        "CHINWAG_DATA_DIR": str(tmp_path),
        "CHINWAG_WORKER": "off",
        "CHINWAG_LOG_LEVEL": "warning",
    }
    with open(tmp_path / "serve.log", "wb") as log:
        proc = start_node(port, env, log, preexec_fn=few_files)
        try:
            yield port
        finally:
            stop_nodes([proc])


def half_request(port: int) -> socket.socket:
    """A socket from another loopback address that sends half a request head and stops."""
    sock = socket.socket()
    sock.bind(("127.0.0.2", 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed the socket (whatever it answered first): EOF, or a reset."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_slow_clients_do_not_stop_the_others(server: int) -> None:
    slow = [half_request(server) for _ in range(SLOW)]
    try:
        # Another client is answered while they hang on (generous timeout: no timing claim).
        for _ in range(3):
            r = httpx.get(f"http://127.0.0.1:{server}/healthz", timeout=10)
            assert r.status_code == 200
        # Past the per-address cap, the slow address's extra connections were closed at once;
        # the ones it holds are closed when the head deadline passes.
        time.sleep(http_guard.HEAD_SECONDS + 1)
        assert all(closed_by_server(s) for s in slow)
        assert httpx.get(f"http://127.0.0.1:{server}/healthz", timeout=10).status_code == 200
    finally:
        for s in slow:
            s.close()


def test_a_slow_body_is_cut_off_and_a_slow_upgrade_too(server: int) -> None:
    body = socket.create_connection(("127.0.0.1", server), timeout=5)
    body.sendall(b"POST /v1/x/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
    upgrade = socket.create_connection(("127.0.0.1", server), timeout=5)
    upgrade.sendall(b"GET /v1/x/realtime/u HTTP/1.1\r\nUpgrade: websocket\r\n")
    try:
        time.sleep(http_guard.HEAD_SECONDS + 1)
        assert closed_by_server(upgrade)
        time.sleep(http_guard.BODY_SECONDS - http_guard.HEAD_SECONDS + 1)
        assert closed_by_server(body)
    finally:
        body.close()
        upgrade.close()


def _opened(sockets: list[socket.socket]) -> list[bool]:
    """Which sockets the server still holds half a second after they sent half a head."""
    for s in sockets:
        s.settimeout(0.5)
    return [not closed_by_server(s) for s in sockets]


@pytest.mark.parametrize(
    ("serve", "held"),
    [
        ({"pending_per_address": 2}, [True, True, False]),  # the third is closed at once
        ({"pending_per_address": 0}, [True, True, True]),  # no cap
        # A trusted proxy carries everyone's requests: never capped.
        (
            {"pending_per_address": 2, "trusted": TrustedProxies(parse("127.0.0.2"))},
            [True, True, True],
        ),
    ],
)
def test_the_per_address_cap_is_set_by_the_operator_and_spares_trusted_proxies(
    ctx: Context, serve: dict[str, Any], held: list[bool]
) -> None:
    with live_server(create_app(ctx), **serve) as base:
        port = int(base.rsplit(":", 1)[1])
        slow = []
        try:
            for _ in held:
                slow.append(half_request(port))
                time.sleep(0.05)  # in order: the cap closes the newest
            assert _opened(slow) == held
        finally:
            for s in slow:
                s.close()
