"""WCAG 2.1 AA on every dashboard page: axe-core (from the npm registry) run in Chromium on a
real server, no serious or critical violation allowed."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from tests.browser_support import (  # noqa: F401 - fixtures
    APP_ID,
    Server,
    Tab,
    axe_source,
    axe_violations,
    browser,
    cid,
    open_tab,
    server,
)


def admin_password(server: Server) -> str:
    found = re.search(r"Dashboard admin password[^:]*: (\S+)", server.log())
    assert found, "the server printed no admin password"
    return found.group(1)


def test_every_dashboard_page_passes_axe(server: Server, open_tab: Callable[..., Tab]) -> None:
    source = axe_source()
    server.user("ada", "Ada Admin")
    server.user("bea", "Bea Bee")
    server.user("cai", "Cai Sea")
    conversation = cid()
    server.conversation(conversation, ["ada", "bea", "cai"], subject="Audited")
    server.send(conversation, "ada", "hello <@bea>")
    # The dashboard's CSP forbids inline script, so axe is injected past it.
    tab = open_tab(f"{server.url}/dashboard", bypass_csp=True)
    problems = {"sign-in": axe_violations(tab.page, source)}
    tab.page.get_by_label("Admin password").fill(admin_password(server))
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(re.compile(r".*/dashboard(\?.*)?$"))
    cq = quote(conversation, safe="")
    for name, path in (
        ("overview", f"/dashboard?app={APP_ID}"),
        ("search", f"/dashboard/search?app={APP_ID}&q=b"),
        ("user", f"/dashboard/users?app={APP_ID}&user=bea"),
        ("participants", f"/dashboard/conversations/{cq}/participants?app={APP_ID}"),
        ("moderation", f"/dashboard/conversations/{cq}/moderation?app={APP_ID}"),
        ("inspection", f"/dashboard/conversations/{cq}?app={APP_ID}"),
        ("audit", f"/dashboard/audit?app={APP_ID}"),
        ("notifications", f"/dashboard/notifications?app={APP_ID}"),
    ):
        tab.page.goto(f"{server.url}{path}")
        tab.page.wait_for_load_state("networkidle")
        assert "Admin password" not in tab.page.content(), f"{name}: not signed in"
        problems[name] = axe_violations(tab.page, source)
    assert not {page: found for page, found in problems.items() if found}
