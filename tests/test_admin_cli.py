"""``chinwag admin show`` and ``chinwag admin reset-password`` as an operator uses them, beside a
running ``chinwag serve``: a reset takes effect at once, the old password and every session stop
working, and no command prints a password it did not just make."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx

from tests import dashboard_support
from tests.test_cli import CHINWAG, clean_env


def admin(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHINWAG, "admin", "--data-dir", str(data), *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def sign_in(url: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=url) as client:
        response: httpx.Response = dashboard_support.sign_in(client, password)
        return response


def signed_in(url: str, cookies: httpx.Cookies) -> bool:
    page = httpx.get(f"{url}/dashboard", cookies=cookies).text
    return "Security settings" in page  # the signed-in overview, not the sign-in page


def test_show_before_the_first_start_says_none_is_set(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shown = admin(data, "show")
    assert shown.returncode == 0, shown.stderr
    assert str(data / "admin.json") in shown.stdout
    assert "Password: not set" in shown.stdout
    assert not data.exists()  # showing writes nothing


def test_reset_password_on_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*CHINWAG, "serve", "--port", "0", "--data-dir", str(data)],
        env=clean_env(CHINWAG_LOG_LEVEL="warning", CHINWAG_WORKER="off"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed = ""
        for line in proc.stdout:
            printed += line
            if "Dashboard admin password" in line:
                break
        url = re.search(r"Health:\s+(http://\S+)/healthz", printed).group(1)  # type: ignore[union-attr]
        old = re.search(r"Dashboard admin password .*: (\S+)$", printed, re.M).group(1)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz").raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        first = sign_in(url, old)
        assert first.status_code == 303
        assert signed_in(url, first.cookies)

        shown = admin(data, "show")
        assert shown.returncode == 0 and "Password: set" in shown.stdout
        assert old not in shown.stdout and "scrypt" not in shown.stdout

        reset = admin(data, "reset-password")
        assert reset.returncode == 0, reset.stderr
        new = re.search(r"admin password \(shown once\): (\S+)", reset.stdout).group(1)  # type: ignore[union-attr]
        assert new != old and old not in reset.stdout
        assert new not in (data / "admin.json").read_text()  # kept as a hash only

        # The running server follows at once: the old password and its session are done.
        assert sign_in(url, old).status_code == 401
        assert not signed_in(url, first.cookies)
        again = sign_in(url, new)
        assert again.status_code == 303 and signed_in(url, again.cookies)
        assert new not in admin(data, "show").stdout
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def test_reset_is_refused_while_the_environment_sets_the_password(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = admin(data, "reset-password")
    assert first.returncode == 0
    before = (data / "admin.json").read_text()
    refused = admin(data, "reset-password", CHINWAG_ADMIN_PASSWORD="chosen by the operator")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "CHINWAG_ADMIN_PASSWORD" in refused.stderr
    assert (data / "admin.json").read_text() == before
    shown = admin(data, "show", CHINWAG_ADMIN_PASSWORD="chosen by the operator")
    assert "CHINWAG_ADMIN_PASSWORD is set" in shown.stdout
    assert "chosen by the operator" not in shown.stdout
