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


def test_upgrade_to_5_closes_two_person_chats_and_counts_old_memberships_as_the_backends(
    raw_db, monkeypatch
):
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
    assert migrations.migrate(raw_db) == 4
    monkeypatch.undo()
    with raw_db.transaction() as tx:
        tx.execute(
            "INSERT INTO apps (id, name, settings, created_at) VALUES ('a', 'a', '{}', 0)"
        )
        for cid, policy, members in (
            ("pair", "ReadWrite", ["u1", "u2"]),
            ("group", "ReadWrite", ["u1", "u2", "u3"]),
            ("pair-read", "Read", ["u1", "u2"]),
        ):
            tx.execute(
                "INSERT INTO conversations (app_id, id, custom, guest_access, seq, created_at) "
                "VALUES ('a', ?, '{}', ?, 0, 0)",
                (cid, policy),
            )
            for uid in members:
                tx.execute(
                    "INSERT INTO participants (app_id, conversation_id, user_id, access, notify, "
                    "member, read_position, joined_at, seq) "
                    "VALUES ('a', ?, ?, 'ReadWrite', 'true', 1, 0, 0, 0)",
                    (cid, uid),
                )
    assert migrations.migrate(raw_db) == migrations.LATEST
    with raw_db.read() as tx:
        rows = tx.all("SELECT id, guest_access, guest_access_set_by FROM conversations ORDER BY id")
        setters = tx.all("SELECT DISTINCT access_set_by, notify_set_by FROM participants")
    assert [(r["id"], r["guest_access"], r["guest_access_set_by"]) for r in rows] == [
        ("group", "ReadWrite", None),
        ("pair", "None", None),
        ("pair-read", "Read", "backend"),
    ]
    assert [(r["access_set_by"], r["notify_set_by"]) for r in setters] == [("backend", "backend")]
