"""``chinwag doctor`` against real things: SQLite files, PostgreSQL (migrated, not migrated,
unreachable, a skewed clock), Redis (running, and a port nobody listens on), an aiosmtpd server
on loopback (AUTH accepted and refused, STARTTLS), SMS settings (shape only), the data
directory. Each check is one line; a failure makes the exit code 1."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from chinwag import cli, doctor
from chinwag.config import load
from chinwag.storage.db import open_database
from tests.conftest import make_pg_database
from tests.test_cli import free_port
from tests.test_notif_smtp import authenticate, cert, server_context  # noqa: F401 - a fixture
from tests.test_notif_support import SmtpServer, _Handler
from tests.test_realtime_bus import REDIS_URL


def _config(tmp_path: Path, **env: str) -> Any:
    env.setdefault("CHINWAG_DATA_DIR", str(tmp_path / "data"))
    return load(environ=env)


def _by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def test_a_good_sqlite_setup_passes_and_says_so_line_by_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'data' / 'chinwag.db'}"
    open_database(url).close()
    env = {"CHINWAG_DATABASE_URL": url, "CHINWAG_DATA_DIR": str(tmp_path / "data")}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert cli.main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok    database: sqlite:///") and "(current)" in lines[0]
    assert [line.split()[0] for line in lines[:-1]] == ["ok", "skip", "skip", "skip", "skip", "ok"]
    assert lines[-1] == "all checks passed"


def test_a_missing_sqlite_database_fails_and_nothing_is_created(tmp_path):
    config = _config(tmp_path)
    checks = _by_name(doctor.run(config))
    assert checks["database"].status == "FAIL" and "chinwag migrate" in checks["database"].detail
    assert not (tmp_path / "data").exists()  # the doctor wrote nothing


@pytest.mark.postgres
def test_postgresql_migrated_unmigrated_and_unreachable(tmp_path):
    url, drop = make_pg_database("chinwag_doctor")
    try:
        bare = _by_name(doctor.run(_config(tmp_path, CHINWAG_DATABASE_URL=url)))
        assert bare["database"].status == "FAIL"
        assert "schema version 0" in bare["database"].detail
        open_database(url).close()
        good = _by_name(doctor.run(_config(tmp_path, CHINWAG_DATABASE_URL=url)))
        assert good["database"].status == "ok" and good["clock"].status == "ok"
        # A node whose clock is a minute fast (the clock is injected; the server's is real).
        skewed = doctor.check_database(
            _config(tmp_path, CHINWAG_DATABASE_URL=url), clock=lambda: time.time() + 60
        )
        clock = _by_name(skewed)["clock"]
        assert clock.status == "FAIL" and "ahead of the database server" in clock.detail
    finally:
        drop()
    nowhere = f"postgresql://chinwag:hunter2@127.0.0.1:{free_port()}/chinwag"
    [down] = doctor.check_database(_config(tmp_path, CHINWAG_DATABASE_URL=nowhere))
    assert down.status == "FAIL" and "unreachable" in down.detail
    assert "hunter2" not in down.line()


def test_redis_running_and_stopped(tmp_path):
    up = doctor.check_broker(_config(tmp_path, CHINWAG_BROKER_URL=REDIS_URL))
    assert up.status == "ok" and "PING" in up.detail
    stopped = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    down = doctor.check_broker(_config(tmp_path, CHINWAG_BROKER_URL=stopped))
    assert down.status == "FAIL" and "unreachable" in down.detail
    assert "hunter2" not in down.line()
    memory = doctor.check_broker(_config(tmp_path))
    assert memory.status == "skip"


@pytest.fixture
def smtp_auth(cert) -> Iterator[SmtpServer]:  # noqa: F811 - the fixture
    """aiosmtpd behind STARTTLS with AUTH (mailer / p@ss)."""
    server = SmtpServer()
    server.controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        authenticator=authenticate,
        auth_required=True,
        tls_context=server_context(cert),
        require_starttls=True,
    )
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def test_smtp_credentials_are_tried_without_sending(tmp_path, smtp_auth, cert):  # noqa: F811
    tls = ssl.create_default_context(cafile=str(cert[0]))

    def check(userinfo: str) -> doctor.Check:
        config = _config(
            tmp_path,
            CHINWAG_SMTP_URL=f"smtp+starttls://{userinfo}@127.0.0.1:{smtp_auth.port}",
            CHINWAG_EMAIL_FROM="Chat <chat@example.test>",
        )
        return doctor.check_smtp(config, tls)

    good = check("mailer:p%40ss")
    assert good.status == "ok" and "STARTTLS, AUTH accepted" in good.detail, good
    refused = check("mailer:wrong-pass")
    assert refused.status == "FAIL" and "login was refused" in refused.detail
    assert "wrong-pass" not in refused.line()
    assert smtp_auth.mails == []  # nothing was sent


def test_plain_smtp_without_auth_is_greeted(tmp_path):
    server = SmtpServer()
    server.controller.start()
    try:
        config = _config(
            tmp_path, CHINWAG_SMTP_URL=server.url, CHINWAG_EMAIL_FROM="chat@example.test"
        )
        greeted = doctor.check_smtp(config)
    finally:
        server.controller.stop()
    assert greeted.status == "ok" and greeted.detail.endswith("EHLO; nothing sent")


def test_smtp_unreachable_and_a_bad_sender(tmp_path):
    down = doctor.check_smtp(
        _config(
            tmp_path,
            CHINWAG_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
            CHINWAG_EMAIL_FROM="chat@example.test",
        )
    )
    assert down.status == "FAIL"
    bad = doctor.check_smtp(
        _config(tmp_path, CHINWAG_SMTP_URL="smtp://127.0.0.1:1", CHINWAG_EMAIL_FROM="nobody")
    )
    assert bad.status == "FAIL" and "CHINWAG_EMAIL_FROM" in bad.detail


def _sms(tmp_path: Path, **overrides: str) -> doctor.Check:
    env = {
        "CHINWAG_SMS_URL": "https://api.sms.example.test",
        "CHINWAG_SMS_ACCOUNT": "AC0123456789",
        "CHINWAG_SMS_TOKEN": "a-long-enough-token",
        "CHINWAG_SMS_FROM": "+15551234567",
    } | overrides
    return doctor.check_sms(_config(tmp_path, **env))


def test_sms_settings_are_checked_for_shape_never_called(tmp_path):
    # The base URL does not resolve: a call would fail; the check passes without one.
    assert _sms(tmp_path).status == "ok"
    assert _sms(tmp_path, CHINWAG_SMS_FROM="Chinwag").status == "ok"  # an alphanumeric sender
    bad = _sms(tmp_path, CHINWAG_SMS_URL="http://api.sms.example.test", CHINWAG_SMS_FROM="+0123")
    assert bad.status == "FAIL" and "https://" in bad.detail and "E.164" in bad.detail
    assert "a-long-enough-token" not in bad.line()
    assert doctor.check_sms(_config(tmp_path)).status == "skip"


def test_the_data_directory_must_be_a_writable_directory(tmp_path):
    assert doctor.check_data_dir(_config(tmp_path)).status == "ok"
    (tmp_path / "file").write_text("")
    blocked = doctor.check_data_dir(_config(tmp_path, CHINWAG_DATA_DIR=str(tmp_path / "file")))
    assert blocked.status == "FAIL" and "not a directory" in blocked.detail
    assert list(tmp_path.iterdir()) == [tmp_path / "file"]  # the probe file is gone
