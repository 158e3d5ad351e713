"""Migrations bring an existing database up to date without losing data."""

from __future__ import annotations

import pytest

from chinwag.schemas import UserPut
from chinwag.services import apps, users
from chinwag.services.context import Context
from chinwag.storage import migrations
from chinwag.storage.db import PostgresDatabase, SqliteDatabase
from tests.conftest import make_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def raw_db(request, tmp_path):
    if request.param == "sqlite":
        db = SqliteDatabase(str(tmp_path / "m.db"))
        yield db
        db.close()
    else:
        url, drop = make_pg_database()
        db = PostgresDatabase(url)
        try:
            yield db
        finally:
            db.close()
            drop()


def test_fresh_database_reaches_latest_and_is_idempotent(raw_db):
    assert migrations.migrate(raw_db) == migrations.LATEST
    assert migrations.migrate(raw_db) == migrations.LATEST
    assert migrations.current_version(raw_db) == migrations.LATEST


def test_upgrade_from_first_version_keeps_data(raw_db, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
    assert migrations.migrate(raw_db) == 1
    ctx = Context(db=raw_db)
    app = apps.create_app(ctx, "old")
    users.put_user(ctx, app.app.id, "u1", UserPut(name="Kept"))
    monkeypatch.undo()
    assert migrations.migrate(raw_db) == migrations.LATEST
    assert users.get_user(ctx, app.app.id, "u1").name == "Kept"


def test_migration_numbers_are_increasing():
    numbers = [n for n, _, _ in migrations.MIGRATIONS]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers) and numbers[0] == 1
