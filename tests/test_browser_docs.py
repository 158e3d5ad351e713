"""The API docs page, ``/docs``, in Chromium with no internet: every request that leaves
loopback is aborted, and Swagger UI still renders the REST operations from the server's own
files."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Route, expect

from tests.test_browser_sdk import (  # noqa: F401 - the browser suite's fixtures
    Chinwag,
    browser,
    chinwag,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def test_docs_render_offline(chinwag: Chinwag, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context()
    blocked: list[str] = []
    failed: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    try:
        page.goto(f"{chinwag.url}/docs")
        # Swagger UI drew the operations from /openapi.json: the title, tag sections and the
        # path of one operation, with its method badge.
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chinwag")
        users = page.locator(".opblock-summary-path", has_text="/v1/{appId}/users/{userId}")
        expect(users.first).to_be_visible()
        operations = page.locator(".swagger-ui .opblock")
        assert operations.count() > 20
        expect(page.locator(".opblock-get .opblock-summary-method").first).to_have_text("GET")
        # Opening an operation shows its parameters: the UI is live, not just painted.
        users.first.click()
        expect(page.locator(".parameters-container").first).to_contain_text("userId")
    finally:
        context.close()
    assert blocked == [], f"/docs tried to load from outside the server: {blocked}"
    assert failed == [] and errors == [], (failed, errors)


def test_docs_assets_are_served_and_nothing_else(chinwag: Chinwag) -> None:  # noqa: F811
    page = httpx.get(f"{chinwag.url}/docs").text
    assert "http://" not in page.replace(chinwag.url, "") and "https://" not in page
    js = httpx.get(f"{chinwag.url}/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    missing = httpx.get(f"{chinwag.url}/docs/assets/index.html")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "NOT_FOUND"
    assert httpx.get(f"{chinwag.url}/docs/assets/..%2Fpyproject.toml").status_code == 404
