"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is the real server on 127.0.0.1:5432 (``CHINWAG_TEST_PG_URL`` overrides). Each test
session creates its own database and drops it at the end; tests isolate from each other by
creating their own app, as apps never see each other's data. When PostgreSQL is unreachable the
PostgreSQL half of the suite fails (it is never skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.services.events import RecordingSink
from chinwag.storage.db import Database, open_database
from chinwag.web.app import create_app

PG_ADMIN_URL = os.environ.get(
    "CHINWAG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    name = f"chinwag_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_pg_database(prefix: str = "chinwag_mig") -> tuple[str, Any]:
    """A throwaway database and a function that drops it (for migration tests)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", drop


_PG_DBS: dict[str, Database] = {}


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    if request.param == "sqlite":
        database = open_database(f"sqlite:///{tmp_path / 'chinwag.db'}")
        yield database
        database.close()
    else:
        url = request.getfixturevalue("pg_url")
        if url not in _PG_DBS:
            _PG_DBS[url] = open_database(url)
        yield _PG_DBS[url]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def ctx(db: Database, clock: FakeClock, sink: RecordingSink) -> Context:
    return Context(db=db, clock=clock, sink=sink)


@pytest.fixture
def app_keys(ctx: Context) -> apps.AppWithKeys:
    return apps.create_app(ctx, f"test-{uuid.uuid4().hex[:6]}")


@dataclass
class Api:
    """A REST client bound to one app, with its secret key."""

    client: TestClient
    app_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def url(self, path: str) -> str:
        return f"/v1/{self.app_id}{path}"

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(self.url(path), headers=self.headers, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.put(self.url(path), json=body, headers=self.headers, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(self.url(path), json=body, headers=self.headers, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.patch(self.url(path), json=body, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(self.url(path), headers=self.headers, **kw)

    def ok(self, response: Any) -> Any:
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(ctx: Context, app_keys: apps.AppWithKeys) -> Iterator[Api]:
    with TestClient(create_app(ctx)) as client:
        yield Api(client, app_keys.app.id, app_keys.secret_keys[0])
