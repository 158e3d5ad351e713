"""The dashboard's people pages, on both databases: search, create and edit a user, and manage a
conversation's participants through the same services as REST (audited as the admin)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from chinwag.clock import FakeClock
from chinwag.schemas import ConversationPut, MessagesIn, UserPut, parse
from chinwag.services import admin, apps, audit, conversations, messages, users
from chinwag.services.context import Context
from chinwag.web.app import create_app
from tests.test_dashboard import PASSWORD, sign_in


@pytest.fixture
def client(ctx: Context, clock: FakeClock, app_keys: apps.AppWithKeys) -> Iterator[TestClient]:
    made, _ = admin.prepare(None, PASSWORD, clock)
    app_id = app_keys.app.id
    for uid, name in (("alice", "Alice Archer"), ("bob", "Bob Baker"), ("carol", "Carol")):
        users.put_user(ctx, app_id, uid, UserPut(name=name))
    body = ConversationPut(participants=["alice", "bob", "carol"], subject="Steel preserve")
    conversations.put_conversation(ctx, app_id, "room", body)
    with TestClient(create_app(ctx, admin=made), follow_redirects=False) as c:
        sign_in(c)
        yield c


def csrf(client: TestClient, url: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found
    return found.group(1)


def outcome(r: object) -> dict[str, list[str]]:
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    return parse_qs(urlparse(r.headers["location"]).query)  # type: ignore[attr-defined]


def test_search_finds_users_and_conversations(
    client: TestClient, app_keys: apps.AppWithKeys
) -> None:
    app_id = app_keys.app.id
    page = client.get(f"/dashboard/search?app={app_id}&q=ba").text
    assert "Bob Baker" in page and "Alice Archer" not in page
    page = client.get(f"/dashboard/search?app={app_id}&q=STEEL").text
    assert "room" in page and "No users match." in page
    # LIKE's wildcards are searched for literally.
    assert "No users match." in client.get(f"/dashboard/search?app={app_id}&q=%25").text
    assert "No users match." in client.get(f"/dashboard/search?app={app_id}&q=_").text


def test_create_and_edit_a_user(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    app_id = app_keys.app.id
    token = csrf(client, f"/dashboard/users?app={app_id}")
    form = {
        "app": app_id,
        "csrf": token,
        "userId": "dora",
        "name": "Dora",
        "email": "dora@example.com, d@example.com",
        "phone": "",
        "role": "agent",
    }
    assert outcome(client.post("/dashboard/users", data=form))["done"] == ["Saved."]
    dora = users.get_user(ctx, app_id, "dora")
    assert (dora.name, dora.email, dora.role) == (
        "Dora",
        ["dora@example.com", "d@example.com"],
        "agent",
    )
    edit = client.get(f"/dashboard/users?app={app_id}&user=dora").text
    assert 'value="Dora"' in edit and "readonly" in edit
    form.update(name="Dora D.", email="")
    assert "done" in outcome(client.post("/dashboard/users", data=form))
    dora = users.get_user(ctx, app_id, "dora")
    assert (dora.name, dora.email) == ("Dora D.", None)
    # Bad input: a clear error, nothing written.
    bad = {**form, "userId": "has space"}
    assert "error" in outcome(client.post("/dashboard/users", data=bad))
    refused = client.post("/dashboard/users", data={**form, "csrf": "forged"})
    assert refused.status_code == 400


def test_participants_are_added_changed_and_removed(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    app_id = app_keys.app.id
    url = f"/dashboard/conversations/room/participants?app={app_id}"
    page = client.get(url).text
    assert "Alice Archer" in page and "<code class='small'>alice</code>" in page
    token = csrf(client, url)
    base = "/dashboard/conversations/room/participants"
    users.put_user(ctx, app_id, "dora", UserPut(name="Dora"))
    r = client.post(
        f"{base}/add", data={"app": app_id, "csrf": token, "userId": "dora", "access": "Read"}
    )
    assert outcome(r)["done"] == ["Added dora."]
    r = client.post(
        f"{base}/change", data={"app": app_id, "csrf": token, "userId": "bob", "access": "None"}
    )
    assert "done" in outcome(r)
    r = client.post(
        f"{base}/change",
        data={"app": app_id, "csrf": token, "userId": "carol", "access": "Read", "remove": "1"},
    )
    assert outcome(r)["done"] == ["Removed carol."]
    r = client.post(
        f"{base}/add", data={"app": app_id, "csrf": token, "userId": "nobody", "access": "Read"}
    )
    assert "error" in outcome(r)
    conv = conversations.get_conversation(ctx, app_id, "room")
    assert conv["participants"] == {
        "alice": {"access": "ReadWrite", "notify": True},
        "dora": {"access": "Read", "notify": True},
    }
    actions = [
        (e.actor, e.action, e.user_id)
        for e in audit.entries(ctx, app_id, 100, None)
        if e.action.startswith("participant.")
    ][-3:]
    assert actions == [
        ("admin:operator", "participant.joined", "dora"),
        ("admin:operator", "participant.access_changed", "bob"),
        ("admin:operator", "participant.removed", "carol"),
    ]
    page = client.get(url).text
    assert "removed" in page


def test_transcripts_show_names_beside_ids(
    client: TestClient, ctx: Context, app_keys: apps.AppWithKeys
) -> None:
    app_id = app_keys.app.id
    items = parse(MessagesIn, [{"type": "UserMessage", "sender": "bob", "text": "hello"}])
    messages.send_messages(ctx, app_id, "room", items)
    page = client.get(f"/dashboard/conversations/room?app={app_id}").text
    assert 'Bob Baker <code class="small">bob</code>' in page
