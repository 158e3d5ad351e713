"""REST under abuse: a chunked body over the limit is a 413 from a real server, and failed
authentication is throttled per source address with 429 and Retry-After (time is the
injected clock: nothing sleeps)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.domain import limits as L
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.realtime_support import live_server


def test_a_chunked_body_over_the_limit_is_413(ctx: Context, app_keys: apps.AppWithKeys) -> None:
    app_id, secret = app_keys.app.id, app_keys.secret_keys[0]
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def chunked(size: int) -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b'{"name": "A", "custom": {"k": "'
        for _ in range(size // 65_536):
            yield b"x" * 65_536
        yield b'"}}'

    with live_server(create_app(ctx)) as base:
        url = base.replace("ws://", "http://") + f"/v1/{app_id}/users/u"
        with httpx.Client(timeout=30) as client:
            response = client.put(url, content=chunked(L.MAX_BODY_BYTES + 65_536), headers=headers)
            assert response.status_code == 413, response.text
            assert response.json() == {
                "errorCode": "PAYLOAD_TOO_LARGE",
                "reasons": [f"the request body is over {L.MAX_BODY_BYTES} bytes"],
            }
            small = client.put(url, content=chunked(65_536), headers=headers)
            assert small.status_code == 400  # read in full: the custom value is too long
            assert small.json()["errorCode"] == "INVALID_REQUEST"
            assert client.get(url, headers=headers).status_code == 404  # nothing stored


def test_failed_authentication_is_throttled_per_address(
    ctx: Context, app_keys: apps.AppWithKeys, clock: FakeClock
) -> None:
    app = create_app(ctx)
    path = f"/v1/{app_keys.app.id}/users/u"
    good = {"Authorization": f"Bearer {app_keys.secret_keys[0]}"}
    backend = TestClient(app, client=("198.51.100.2", 40000))  # the lifespan runs once, below
    with TestClient(app, client=("203.0.113.7", 40000)) as attacker:
        assert backend.put(path, json={"name": "U"}, headers=good).status_code == 200
        for i in range(L.AUTH_FAILURE_BURST):
            wrong = {"Authorization": f"Bearer sk_guess_{i}"}
            assert attacker.get(path, headers=wrong).status_code == 401
        refused = attacker.get(path, headers={"Authorization": "Bearer sk_guess_x"})
        assert refused.status_code == 429
        assert refused.json()["errorCode"] == "RATE_LIMITED"
        assert int(refused.headers["Retry-After"]) >= 1
        # While the address has no failures left, even the right key gets no answer: guessing
        # learns nothing from the status.
        assert attacker.get(path, headers=good).status_code == 429
        # Other addresses are not affected, and successes never count.
        for _ in range(3 * L.AUTH_FAILURE_BURST):
            assert backend.get(path, headers=good).status_code == 200
        assert backend.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        # Time gives failures back, one a second.
        clock.advance(int(1000 / L.AUTH_FAILURE_RATE_PER_SECOND))
        assert attacker.get(path, headers=good).status_code == 200
        assert attacker.get(path, headers={"Authorization": "Bearer x"}).status_code == 401
        assert attacker.get(path, headers={"Authorization": "Bearer y"}).status_code == 429
