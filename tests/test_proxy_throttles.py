"""Behind a trusted proxy, the throttles key on the client the proxy names, not on the proxy:
one client's failures never lock out another, and without trust a forged ``X-Forwarded-For``
escapes nothing. REST authentication and the dashboard's sign-in, through the whole app stack
(the access-log layer that applies ``CHINWAG_TRUSTED_PROXIES``); time is the injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.domain import limits as L
from chinwag.proxies import TrustedProxies, parse
from chinwag.services import admin, apps
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests import dashboard_support

PROXY = ("10.0.0.5", 40000)  # the TCP peer every request comes from: the proxy
PASSWORD = "open sesame"


@contextmanager
def behind_proxy(ctx: Context, trusted: str, login: admin.Admin) -> Iterator[TestClient]:
    proxies = TrustedProxies(parse(trusted)) if trusted else None
    app = create_app(ctx, admin=login, trusted_proxies=proxies)
    with TestClient(app, client=PROXY, follow_redirects=False) as client:
        yield client


@pytest.fixture
def login(clock: FakeClock) -> admin.Admin:
    made, _ = admin.prepare(None, PASSWORD, clock)
    return made


def forwarded(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


def test_rest_auth_failures_count_per_forwarded_client(
    ctx: Context, app_keys: apps.AppWithKeys, login: admin.Admin
) -> None:
    path = f"/v1/{app_keys.app.id}/users/u"
    good = f"Bearer {app_keys.secret_keys[0]}"
    with behind_proxy(ctx, "10.0.0.0/8", login) as client:
        for i in range(L.AUTH_FAILURE_BURST):
            wrong = forwarded("203.0.113.7", Authorization=f"Bearer sk_guess_{i}")
            assert client.get(path, headers=wrong).status_code == 401
        attacker = forwarded("203.0.113.7", Authorization=good)
        assert client.get(path, headers=attacker).status_code == 429
        # Another client behind the same proxy is not held up, right key or wrong.
        other = forwarded("198.51.100.2", Authorization=good)
        assert client.get(path, headers=other).status_code == 404  # authenticated: no user yet
        wrong = forwarded("198.51.100.2", Authorization="Bearer nope")
        assert client.get(path, headers=wrong).status_code == 401


def test_without_trust_a_forged_forwarded_for_changes_nothing(
    ctx: Context, app_keys: apps.AppWithKeys, login: admin.Admin
) -> None:
    path = f"/v1/{app_keys.app.id}/users/u"
    with behind_proxy(ctx, "", login) as client:
        for i in range(L.AUTH_FAILURE_BURST):
            # A new "client" each time: it is still the same peer, so it is still throttled.
            wrong = forwarded(f"203.0.113.{i + 1}", Authorization=f"Bearer sk_guess_{i}")
            assert client.get(path, headers=wrong).status_code == 401
        again = forwarded("192.0.2.99", Authorization="Bearer sk_guess_x")
        assert client.get(path, headers=again).status_code == 429


def test_dashboard_sign_in_limits_the_client_not_the_proxy(
    ctx: Context, login: admin.Admin, clock: FakeClock
) -> None:
    with behind_proxy(ctx, "10.0.0.5", login) as client:
        client.headers.update(forwarded("203.0.113.7"))
        statuses = [dashboard_support.sign_in(client, "wrong").status_code for _ in range(11)]
        assert statuses[:10] == [401] * 10 and statuses[10] == 429, statuses
        locked = dashboard_support.sign_in(client, PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        # The admin, behind the same proxy, signs in with the right password meanwhile.
        client.headers.update(forwarded("198.51.100.2"))
        assert dashboard_support.sign_in(client, PASSWORD).status_code == 303
