"""Signing in to the dashboard as a browser does: the sign-in page sets a login cookie and puts
the same token in its form (a login CSRF token), which the form posts back."""

from __future__ import annotations

import re
from typing import Any


def login_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no sign-in form on this page"
    return found.group(1)


def sign_in(client: Any, password: str, app_id: str = "") -> Any:
    """Sign in with a TestClient or an httpx.Client (which keeps the cookies)."""
    token = login_token(client.get("/dashboard").text)
    return client.post(
        "/dashboard/login",
        data={"password": password, "csrf": token, "app": app_id},
        follow_redirects=False,
    )
