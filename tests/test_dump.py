"""``chinwag export`` and ``chinwag import``: a seeded app moves SQLite → PostgreSQL → SQLite and
every record, and every rule's answer, is the same at each step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.domain import access
from chinwag.errors import ChinwagError
from chinwag.notifications import install as install_outbox
from chinwag.services import apps, moderation
from chinwag.services import messages as message_service
from chinwag.services.context import Context
from chinwag.storage import apps as app_store
from chinwag.storage import conversations as conv_store
from chinwag.storage import participants as part_store
from chinwag.storage.db import Database, open_database
from chinwag.storage.dump import NOT_CARRIED, TABLES, DumpError, export, pages
from chinwag.storage.load import load
from chinwag.storage.migrations import MIGRATIONS
from chinwag.web.app import create_app
from tests.conftest import Api, make_pg_database

USERS = ["alice", "bob", "carol", "dave", "erin", "visitor", "troll"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pg() -> Iterator[str]:
    url, drop = make_pg_database("chinwag_dump")
    try:
        yield url
    finally:
        drop()


def client(db: Database, clock: FakeClock) -> tuple[Context, TestClient]:
    ctx = install_outbox(Context(db=db, clock=clock))
    return ctx, TestClient(create_app(ctx))


def seed(api: Api, clock: FakeClock) -> None:
    """An app with every kind of record the rules read."""
    api.ok(
        api.put("/users", {u: {"name": u.title(), "email": [f"{u}@example.com"]} for u in USERS})
    )
    api.ok(api.post("/webhooks", {"url": "https://hooks.example.com/chinwag"}))
    api.ok(api.put("/notifications/settings", {"email": True, "sms": False}))
    api.ok(api.patch("/settings", {"participantLimit": 20}))
    api.ok(
        api.put(
            "/conversations/g1",
            {
                "participants": ["alice", "bob", "carol", "dave", "erin"],
                "subject": "Group",
                "custom": {"k": "v"},
                "guestAccess": "ReadWrite",
            },
        )
    )
    api.ok(api.put("/conversations/dm", {"participants": ["alice", "bob"]}))

    def send(sender: str, text: str, cid: str = "g1") -> str:
        clock.advance(1000)
        [m] = api.ok(
            api.post(
                f"/conversations/{cid}/messages",
                [{"type": "UserMessage", "sender": sender, "text": text, "custom": {"n": text}}],
            )
        )
        return str(m["id"])

    first = send("alice", "one")
    second = send("bob", "two")
    api.ok(api.patch("/conversations/g1/participants/carol", {"access": "Read"}))
    api.ok(api.put(f"/conversations/g1/messages/{second}", {"text": "two, edited"}))
    api.ok(api.put(f"/conversations/g1/messages/{second}/reactions/👍/alice"))
    api.ok(api.put(f"/conversations/g1/messages/{second}/reactions/🎉/bob"))
    send("alice", "three")
    api.ok(api.patch("/conversations/g1/participants/dave", {"access": "None"}))
    api.ok(api.put(f"/conversations/g1/messages/{first}", {"text": "one, edited after dave left"}))
    api.ok(api.put("/conversations/g1", {"subject": "Renamed after dave left"}))
    send("bob", "four")
    api.ok(api.delete("/conversations/g1/participants/erin"))
    gone = send("alice", "five")
    api.ok(api.delete(f"/conversations/g1/messages/{gone}"))
    send("bob", "six")
    api.ok(api.post("/conversations/g1/messages", [{"type": "SystemMessage", "text": "closing"}]))
    api.ok(api.post("/conversations/g1/readBy/bob"))
    api.ok(api.post("/conversations/g1/readBy/dave"))  # stops at dave's horizon
    send("alice", "hi bob", "dm")
    api.ok(
        api.put("/conversations/g1/guests/troll/ban", {"durationSeconds": 3600, "reason": "spam"})
    )
    api.ok(api.put("/conversations/g1/guests/visitor/mute", {}))
    api.ok(api.post("/conversations/g1/invites", {"access": "Read", "expiresInSeconds": 7200}))


def records(db: Database, app_id: str) -> dict[str, list[dict[str, Any]]]:
    with db.read() as tx:
        return {t.name: [r for page in pages(tx, t, [app_id]) for r in page] for t in TABLES}


def outcomes(db: Database, clock: FakeClock, api_app: str, secret: str) -> dict[str, Any]:
    """What every rule answers: inboxes (unread counts, frozen views), history, guest admission."""
    ctx, tc = client(db, clock)
    with tc:
        api = Api(tc, api_app, secret)
        out: dict[str, Any] = {}
        for user in USERS:
            out[f"inbox:{user}"] = api.ok(api.get(f"/users/{user}/conversations"))
        out["g1"] = api.ok(api.get("/conversations/g1"))
        out["history"] = api.ok(api.get("/conversations/g1/messages", params={"limit": 100}))
        out["participants"] = api.ok(api.get("/conversations/g1/participants"))
        out["restrictions"] = api.ok(api.get("/conversations/g1/guestRestrictions"))
        out["invites"] = api.ok(api.get("/conversations/g1/invites"))
        out["settings"] = api.ok(api.get("/settings"))
        out["webhooks"] = api.ok(api.get("/webhooks"))
        out["audit"] = api.ok(api.get("/audit"))
        for user in ("dave", "erin", "carol"):  # what each reads, as at their horizon
            with ctx.read() as tx:
                p = part_store.get_participant(tx, api_app, "g1", user)
            assert p is not None
            view = access.participant_view(p.membership)
            out[f"history:{user}"] = message_service.history(
                ctx, api_app, "g1", 100, None, view, user
            )
        with ctx.read() as tx:
            app = app_store.get_app(tx, api_app)
            assert app is not None
            for cid in ("g1", "dm"):
                conv = conv_store.get_conversation(tx, api_app, cid)
                assert conv is not None
                for user in USERS:
                    p = part_store.get_participant(tx, api_app, cid, user)
                    try:
                        view = moderation.guest_admission(
                            tx, app, conv, user, p.membership if p else None, clock.now_ms()
                        )
                        out[f"guest:{cid}:{user}"] = (view.kind, view.can_read, view.can_write)
                    except ChinwagError as exc:
                        out[f"guest:{cid}:{user}"] = exc.code
    return out


def test_every_table_of_the_schema_is_carried_or_named():
    created = {
        sql.split("(")[0].split()[-1]
        for _, _, statements in MIGRATIONS
        for sql in statements
        if sql.lstrip().upper().startswith("CREATE TABLE")
    }
    assert created == {t.name for t in TABLES} | (set(NOT_CARRIED) - {"schema_migrations"})


def test_round_trip_sqlite_postgresql_sqlite(tmp_path, clock, pg):
    source = open_database(f"sqlite:///{tmp_path / 'source.db'}")
    ctx, tc = client(source, clock)
    made = apps.create_app(ctx, "moving")
    other = apps.create_app(ctx, "stays behind")
    app_id, secret = made.app.id, made.secret_keys[0]
    with tc:
        seed(Api(tc, app_id, secret), clock)
        Api(tc, other.app.id, other.secret_keys[0]).ok(
            Api(tc, other.app.id, other.secret_keys[0]).put("/users/zed", {"name": "Zed"})
        )
    before = records(source, app_id)
    # Every kind of record is there, so the comparison below means something.
    for table in TABLES:
        assert before[table.name], f"the seed wrote no {table.name}"
    dave = next(
        p for p in before["participants"] if p["user_id"] == "dave" and p["conversation_id"] == "g1"
    )
    assert dave["access"] == "None" and dave["horizon"] is not None and dave["frozen"]
    assert before["message_revisions"]
    expected = outcomes(source, clock, app_id, secret)
    [dave_row] = expected["inbox:dave"]["data"]
    assert dave_row["access"] == "None" and dave_row["subject"] == "Group"  # frozen
    assert [m["text"] for m in expected["history:dave"]] == ["three", "two, edited", "one"]
    assert "two, edited" in [m["text"] for m in expected["history:erin"]]

    export(source, str(tmp_path / "d1"), [app_id])
    source.close()
    middle = open_database(pg)
    load(middle, str(tmp_path / "d1"))
    assert records(middle, app_id) == before
    assert outcomes(middle, clock, app_id, secret) == expected
    with middle.read() as tx:  # the other app did not come along
        assert tx.all("SELECT id FROM apps") == [{"id": app_id}]

    export(middle, str(tmp_path / "d2"))  # all apps
    middle.close()
    final = open_database(f"sqlite:///{tmp_path / 'final.db'}")
    load(final, str(tmp_path / "d2"))
    assert records(final, app_id) == before
    assert outcomes(final, clock, app_id, secret) == expected

    # Positions go on from the imported counter, never reusing one.
    fctx, ftc = client(final, clock)
    with ftc:
        api = Api(ftc, app_id, secret)
        seq = next(c["seq"] for c in before["conversations"] if c["id"] == "g1")
        api.ok(
            api.post(
                "/conversations/g1/messages",
                [{"type": "UserMessage", "sender": "bob", "text": "after"}],
            )
        )
    with final.read() as tx:
        row = tx.one(
            "SELECT MAX(position) AS p FROM messages WHERE app_id = ? AND conversation_id = 'g1'",
            (app_id,),
        )
        assert row is not None and row["p"] == seq + 1
    final.close()


def test_import_refuses_a_target_that_has_the_app_and_resume_finishes(tmp_path, clock):
    source = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    ctx, tc = client(source, clock)
    made = apps.create_app(ctx, "x")
    with tc:
        seed(Api(tc, made.app.id, made.secret_keys[0]), clock)
    export(source, str(tmp_path / "d"))
    before = records(source, made.app.id)
    source.close()
    target = open_database(f"sqlite:///{tmp_path / 'b.db'}")
    # An interrupted import: the tables before messages whole, half the messages, nothing after.
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    partial = tmp_path / "partial"
    partial.mkdir()
    names = [t.name for t in TABLES]
    for entry in manifest["tables"]:
        src = (tmp_path / "d" / entry["file"]).read_text().splitlines(keepends=True)
        at = names.index(entry["name"]) - names.index("messages")
        keep = src if at < 0 else src[: len(src) // 2] if at == 0 else []
        (partial / entry["file"]).write_text("".join(keep))
        entry["rows"] = len(keep)
    (partial / "manifest.json").write_text(json.dumps(manifest))
    load(target, str(partial))
    with pytest.raises(DumpError, match="already has app"):
        load(target, str(tmp_path / "d"))
    load(target, str(tmp_path / "d"), resume=True)
    assert records(target, made.app.id) == before
    target.close()


def test_incomplete_or_foreign_dumps_are_refused(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(DumpError, match="no manifest.json"):
        load(db, str(tmp_path))
    export(db, str(tmp_path / "d"))
    with pytest.raises(DumpError, match="already holds a dump"):
        export(db, str(tmp_path / "d"))
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    manifest["schemaVersion"] = 1
    (tmp_path / "d" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DumpError, match="schema version 1"):
        load(db, str(tmp_path / "d"))
    with pytest.raises(DumpError, match="no such app"):
        export(db, str(tmp_path / "e"), ["app_nope"])
    db.close()


def test_cli_export_and_import(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    src = f"sqlite:///{tmp_path / 'a.db'}"
    db = open_database(src)
    made = apps.create_app(Context(db=db), "cli")
    db.close()
    run = [sys.executable, "-m", "chinwag"]
    out = subprocess.run(
        [
            *run,
            "export",
            "--database-url",
            src,
            "--out",
            str(tmp_path / "d"),
            "--app-id",
            made.app.id,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert (
        "export apps: 1/1 rows" in out.stderr and f"exported 1 app(s) ({made.app.id})" in out.stdout
    )
    assert oct(os.stat(tmp_path / "d" / "secret_keys.jsonl").st_mode & 0o777) == "0o600"
    dst = f"sqlite:///{tmp_path / 'b.db'}"
    args = [*run, "import", "--database-url", dst, "--from", str(tmp_path / "d")]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1 and "already has app" in out.stderr


def test_the_format_doc_names_every_table_and_the_version():
    from pathlib import Path

    from chinwag.storage.dump import FORMAT_VERSION

    text = (Path(__file__).resolve().parent.parent / "docs" / "migrating.md").read_text()
    assert f"### The dump format (version {FORMAT_VERSION})" in text
    missing = [t.name for t in TABLES if f"`{t.name}`" not in text]
    assert not missing, f"add these tables to docs/migrating.md: {missing}"
