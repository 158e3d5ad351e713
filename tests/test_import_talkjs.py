"""``chinwag import-talkjs`` against a stand-in of the hosted product on 127.0.0.1, on SQLite and
PostgreSQL: the copy reads the same in Chinwag, survives an interruption and a 429 storm, and
never duplicates anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from chinwag.importers.talkjs import State, Summary, TalkJSImporter
from chinwag.importers.talkjs_api import SourceError, TalkJSApi, retry_after
from chinwag.services import apps
from chinwag.services.audit import install as install_audit
from chinwag.services.context import Context
from chinwag.storage.db import open_database
from chinwag.web.app import create_app
from tests.conftest import Api
from tests.talkjs_standin import T0, StandIn

BIG = 250  # messages in the group: three pages


@pytest.fixture
def source() -> Iterator[StandIn]:
    app_id = f"t{uuid.uuid4().hex[:10]}"
    s = StandIn(app_id, f"sk_test_{uuid.uuid4().hex}")
    for i in range(205):  # three pages of users
        s.user(f"user{i:03d}")
    for uid in ["alice", "bob", "carol", "dave", "erin"]:
        s.user(uid, email=[f"{uid}@example.com"], custom={"team": "a"})
    s.user("toolong", name="x" * 300)  # over Chinwag's name limit: skipped, with the reason
    s.conversation(
        "group",
        {
            "alice": {"access": "ReadWrite", "notify": True},
            "bob": {"access": "Read", "notify": "MentionsOnly"},
            "carol": {"access": "ReadWrite", "notify": False},
            "dave": {"access": "None", "notify": True},
        },
        subject="The group",
        custom={"k": "v"},
    )
    senders = ["alice", "carol", "erin"]  # erin has left: not a participant any more
    for i in range(BIG):
        s.message(
            "group",
            senders[i % 3],
            f"group {i}",
            T0 + i * 1000,
            readBy=["alice", "bob"] if i < 200 else [],
        )
    s.message("group", None, "a system notice", T0 + BIG * 1000)
    s.message(
        "group",
        "alice",
        "",
        T0 + BIG * 1000 + 1,
        attachment={"url": "https://files.example/cat.png", "size": 3},
    )
    s.conversation(
        "dm",
        {
            "alice": {"access": "ReadWrite", "notify": True},
            "bob": {"access": "ReadWrite", "notify": True},
        },
    )
    s.message("dm", "alice", "hi bob", T0)
    s.message("dm", "bob", "hi alice", T0 + 5, readBy=["alice"])
    for i in range(105):  # two pages of conversations
        s.conversation(f"c{i:03d}", {"user000": {"access": "ReadWrite", "notify": True}})
        s.message(f"c{i:03d}", "user000", f"note {i}", T0 + i)
    s.conversation("bad id!", {"alice": {"access": "ReadWrite", "notify": True}})
    with s:
        yield s


class FakeSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def importer(
    ctx: Context, source: StandIn, state_path: str | None, sleep: FakeSleep, **kw: Any
) -> TalkJSImporter:
    api = TalkJSApi(source.app_id, source.secret, source.url, sleep=sleep)
    if not kw.get("dry_run"):
        apps.ensure_app(ctx, source.app_id, source.secret)
    return TalkJSImporter(api, ctx, source.app_id, State(state_path, source.app_id), **kw)


@pytest.fixture
def target(db) -> Context:
    return install_audit(Context(db=db))


def chinwag_api(ctx: Context, source: StandIn) -> Iterator[Api]:
    with TestClient(create_app(ctx)) as client:
        yield Api(client, source.app_id, source.secret)  # the hosted product's key works as it was


def oldest_first(api: Api, cid: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"startingAfter": after} if after else {})}
        page = api.ok(api.get(f"/conversations/{cid}/messages", params=params))["data"]
        out.extend(page)
        if len(page) < 100:
            return out[::-1]
        after = page[-1]["id"]


def check_same(ctx: Context, source: StandIn) -> None:
    """What Chinwag shows equals what the stand-in holds."""
    for api in chinwag_api(ctx, source):
        users = api.ok(api.get("/users", params={"limit": 100}))["data"]
        assert len(users) == 100
        alice = api.ok(api.get("/users/alice"))
        assert alice["email"] == ["alice@example.com"] and alice["custom"] == {"team": "a"}
        assert api.get("/users/toolong").status_code == 404
        for cid in ["group", "dm", "c000", "c104"]:
            msgs = oldest_first(api, cid)
            want = source.messages[cid]
            assert [m["id"] for m in msgs] == [m["id"] for m in want]
            assert [m["createdAt"] for m in msgs] == [m["createdAt"] for m in want]
            assert [m["senderId"] for m in msgs] == [m["senderId"] for m in want]
            assert {m["origin"] for m in msgs} == {"import"}
            positions = [m["position"] for m in msgs]
            assert positions == sorted(positions)
        group = oldest_first(api, "group")
        assert group[-1]["text"] == "https://files.example/cat.png"
        assert group[-2]["type"] == "SystemMessage"
        assert set(group[199]["readBy"]) == {"alice", "bob"} and group[200]["readBy"] == []
        conv = api.ok(api.get("/conversations/group"))
        assert conv["subject"] == "The group" and conv["custom"] == {"k": "v"}
        assert conv["participants"] == {
            "alice": {"access": "ReadWrite", "notify": True},
            "bob": {"access": "Read", "notify": "MentionsOnly"},
            "carol": {"access": "ReadWrite", "notify": False},
        }
        everyone = {
            p["userId"]: p for p in api.ok(api.get("/conversations/group/participants"))["data"]
        }
        assert everyone["dave"]["access"] == "None"  # sees the frozen history
        assert "erin" in everyone  # a former sender, kept as a removed participant
        [dave] = [r for r in api.ok(api.get("/users/dave/conversations"))["data"]]
        assert dave["lastMessage"]["text"] == "https://files.example/cat.png"
        unread = {
            r["id"]: r["unreadMessageCount"]
            for r in api.ok(api.get("/users/bob/conversations"))["data"]
        }
        assert unread["dm"] == 1  # bob never read "hi bob"... his own "hi alice" is not unread
        assert unread["group"] == len(source.messages["group"]) - 200


def test_import_copies_the_app_and_says_what_it_skipped(target, source, tmp_path):
    sleep = FakeSleep()
    summary = importer(target, source, str(tmp_path / "state.json"), sleep).run()
    assert summary.users == 210 and summary.conversations == 107
    assert summary.messages == BIG + 2 + 2 + 105 and summary.messages_present == 0
    assert summary.former_senders == 1 and summary.attachments_as_links == 1
    skipped = {(k, i) for k, i, _ in summary.skipped}
    assert skipped == {("user", "toolong"), ("conversation", "bad id!")}
    assert any("INVALID_ID" in r for _, _, r in summary.skipped)
    assert sleep.waits == []
    check_same(target, source)
    # Run again: nothing new, nothing twice.
    again = importer(target, source, str(tmp_path / "other-state.json"), sleep).run()
    assert again.messages == 0 and again.messages_present == summary.messages
    check_same(target, source)


def test_a_429_storm_is_waited_out_as_retry_after_says(target, source):
    sleep = FakeSleep()
    source.storm = 40
    summary = importer(target, source, None, sleep).run()
    assert summary.rate_limited == 40
    assert sleep.waits == [2.0] * 40
    assert summary.messages == BIG + 2 + 2 + 105
    check_same(target, source)


def test_interrupted_runs_resume_without_duplicates(target, source, tmp_path):
    state = str(tmp_path / "state.json")
    sleep = FakeSleep()

    # 1. The source goes down midway: the client backs off, then gives up; state is kept.
    calls = {"n": 0}

    def outage(s: Summary) -> None:
        calls["n"] += 1
        if calls["n"] == 20:
            source.down = True

    with pytest.raises(SourceError, match="503"):
        importer(target, source, state, sleep, progress=outage).run()
    assert sleep.waits == [1.0, 2.0, 4.0, 8.0, 16.0]  # exponential backoff, then it gives up
    saved = json.loads(open(state).read())
    assert saved["users"]["done"] and saved["conversations"]["after"].startswith("c0")
    source.down = False

    # 2. Stopped (as Ctrl+C would) in the middle of the big conversation's history.
    def group_count() -> int:
        with target.read() as tx:
            row = tx.one(
                "SELECT COUNT(*) AS n FROM messages WHERE app_id = ? AND conversation_id = ?",
                (source.app_id, "group"),
            )
        return int(row["n"]) if row else 0

    def stop_midway(s: Summary) -> None:
        if 0 < group_count():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        importer(target, source, state, sleep, progress=stop_midway).run()
    assert 0 < group_count() < BIG
    assert not json.loads(open(state).read())["conversations"]["done"]

    # 3. Run again: it finishes, and everything is there once.
    summary = importer(target, source, state, sleep).run()
    assert summary.resumed
    check_same(target, source)
    with target.read() as tx:
        row = tx.one("SELECT COUNT(*) AS n FROM messages WHERE app_id = ?", (source.app_id,))
    assert row is not None and row["n"] == BIG + 2 + 2 + 105


def test_dry_run_reads_everything_and_writes_nothing(target, source):
    source.conversation("crowd", {f"user{i:03d}": {"access": "ReadWrite"} for i in range(51)})
    summary = importer(target, source, None, FakeSleep(), dry_run=True).run()
    assert summary.dry_run and summary.users == 210 and summary.messages == BIG + 2 + 2 + 105
    [crowd] = [r for k, i, r in summary.skipped if i == "crowd"]
    assert "51 participants" in crowd and "participantLimit is 50" in crowd
    with target.read() as tx:
        assert tx.one("SELECT id FROM apps WHERE id = ?", (source.app_id,)) is None


def test_wrong_key_and_retry_after_forms():
    assert retry_after("3", 0) == 3.0
    assert retry_after(None, 0) == 1.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480.0) == 0.0
    assert retry_after("soon", 0) == 1.0


def test_the_command(source, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    url = f"sqlite:///{tmp_path / 'data' / 'chinwag.db'}"
    base = [
        sys.executable,
        "-m",
        "chinwag",
        "import-talkjs",
        "--app-id",
        source.app_id,
        "--api-url",
        source.url,
        "--database-url",
        url,
        "--data-dir",
        str(tmp_path / "data"),
    ]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *extra], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    bad = run("--secret-key", "sk_wrong")
    assert bad.returncode == 1 and "401" in bad.stderr
    dry = run("--secret-key", source.secret, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would import: 210 users, 107 conversations" in dry.stdout
    done = run("--secret-key", source.secret)
    assert done.returncode == 0, done.stderr
    assert "[import-talkjs] users 210" in done.stderr
    assert "imported: 210 users, 107 conversations" in done.stdout
    assert "skipped: 2" in done.stdout and "conversation bad id!: INVALID_ID" in done.stdout
    assert os.path.exists(tmp_path / "data" / f"talkjs-import-{source.app_id}.json")
    again = run("--secret-key", source.secret, "--summary-json")
    assert again.returncode == 0 and json.loads(again.stdout)["messages"] == 0
    db = open_database(url)
    try:
        check_same(Context(db=db), source)
    finally:
        db.close()
