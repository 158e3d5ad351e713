"""A hostile browser session over a real socket: each escalation of issue 10 is tried, refused
with a documented 403, and changes nothing (the stored state and the audit log are compared
before and after). On SQLite and PostgreSQL, with identity verification on (a valid signature
of the attacker's own id) and off (the attacker claims its id), as docs/security.md states."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chinwag.domain.permissions import one_on_one_id
from chinwag.errors import ERROR_CODES
from chinwag.services import apps
from chinwag.services.context import Context
from chinwag.services.sessions import signature_of
from chinwag.web.app import create_app
from tests.realtime_support import Client, Node, live_server


@dataclass
class Site(Node):
    """The app under attack; ``verified``: identity verification is on and sessions sign in
    with a valid signature of their own id."""

    verified: bool = False

    def client(self, user_id: str, **query: str) -> Client:
        if self.verified:
            query["signature"] = signature_of(self.secret, user_id)
        return Client.open(self.ws, self.app_id, user_id, **query)

    def audit(self) -> list[dict[str, Any]]:
        r = self.http.get(
            f"/v1/{self.app_id}/audit/export", headers={"Authorization": f"Bearer {self.secret}"}
        )
        assert r.status_code == 200, r.text
        return [json.loads(line) for line in r.text.splitlines() if line]

    def state(self, *conversations: str, users: tuple[str, ...] = ()) -> Any:
        """Everything an attack could have changed: memberships (past ones too), attributes,
        messages, users, and the audit log."""
        out: dict[str, Any] = {"audit": self.audit()}
        for cid in conversations:
            conv = self.rest("GET", f"/conversations/{cid}")
            conv.pop("lastMessage", None)
            out[cid] = {
                "conversation": conv,
                "participants": self.rest("GET", f"/conversations/{cid}/participants")["data"],
                "messages": self.rest("GET", f"/conversations/{cid}/messages")["data"],
            }
        for uid in users:
            out[f"user:{uid}"] = self.rest("GET", f"/users/{uid}")
        return out


@pytest.fixture(params=["verified", "claimed"])
def site(
    ctx: Context, app_keys: apps.AppWithKeys, request: pytest.FixtureRequest
) -> Iterator[Site]:
    with live_server(create_app(ctx)) as base:
        with httpx.Client(base_url=base.replace("ws://", "http://"), timeout=10) as http:
            s = Site(base, http, app_keys.app.id, app_keys.secret_keys[0], False)
            if request.param == "verified":
                s.rest("PATCH", "/settings", {"identityVerification": True})
                s.verified = True
            for uid in ("alice", "bob", "carol", "mal"):
                s.rest(
                    "PUT", f"/users/{uid}", {"name": uid.title(), "email": [f"{uid}@example.com"]}
                )
            yield s


def refused(client: Client, method: str, path: str, data: Any, code: str) -> None:
    status, body = client.request(method, path, data)
    assert (status, body["errorCode"]) == (403, code), (method, path, body)
    assert ERROR_CODES[code][0] == 403


def said(text: str) -> Any:
    return lambda e: e.get("type") == "message.created" and e["message"]["text"] == text


def test_no_session_raises_its_own_rights(site: Site) -> None:
    """Attacks 1-3: a Read participant, a None participant and a removed one try to get back."""
    site.rest("PUT", "/conversations/c1", {"participants": ["alice", "bob"], "subject": "S"})
    for uid, body in (("mal", {"access": "Read"}), ("carol", {"access": "ReadWrite"})):
        site.rest("PUT", f"/conversations/c1/participants/{uid}", body)
    site.rest("POST", "/conversations/c1/messages", [{"type": "SystemMessage", "text": "one"}])
    with site.client("mal") as mal:
        before = site.state("c1")
        refused(
            mal,
            "PUT",
            "conversations/c1/participants/mal",
            {"access": "ReadWrite"},
            "CANNOT_RAISE_OWN_RIGHTS",
        )
        refused(
            mal,
            "PATCH",
            "conversations/c1/participants/mal",
            {"access": "ReadWrite"},
            "CANNOT_RAISE_OWN_RIGHTS",
        )
        status, body = mal.request("POST", "conversations/c1/messages", {"text": "let me in"})
        assert (status, body["errorCode"]) == (403, "NOT_ALLOWED_TO_WRITE")
        assert site.state("c1") == before

        # None: the backend withdraws; the session cannot restore itself, nor read what follows.
        site.rest("PATCH", "/conversations/c1/participants/mal", {"access": "None"})
        site.rest("POST", "/conversations/c1/messages", [{"type": "SystemMessage", "text": "two"}])
        before = site.state("c1")
        for access in ("Read", "ReadWrite"):
            refused(
                mal,
                "PATCH",
                "conversations/c1/participants/mal",
                {"access": access},
                "CANNOT_RAISE_OWN_RIGHTS",
            )
            refused(
                mal,
                "PUT",
                "conversations/c1/participants/mal",
                {"access": access},
                "CANNOT_RAISE_OWN_RIGHTS",
            )
        # Listing itself in a conversation PUT leaves its membership (None) as it is.
        mal.ok("PUT", "conversations/c1", {"participants": ["mal"]})
        assert site.state("c1") == before
        texts = [m["text"] for m in mal.ok("GET", "me/conversations/c1/messages")["data"]]
        assert texts == ["one"]

        # Removed: the session cannot re-add itself (the hosted product lets it).
        site.rest("DELETE", "/conversations/c1/participants/mal")
        before = site.state("c1")
        refused(mal, "PUT", "conversations/c1/participants/mal", {}, "CANNOT_RAISE_OWN_RIGHTS")
        assert site.state("c1") == before

    # Leaving and lowering stay allowed, and are audited with the session's user as actor.
    with site.client("carol") as carol:
        carol.ok("PATCH", "conversations/c1/participants/carol", {"notify": False})
        carol.ok("PUT", "conversations/c1/participants/carol", {"access": "Read"})
        refused(
            carol,
            "PUT",
            "conversations/c1/participants/carol",
            {"access": "ReadWrite"},
            "CANNOT_RAISE_OWN_RIGHTS",
        )
        carol.ok("DELETE", "conversations/c1/participants/carol")
    entries = [e for e in site.audit() if e["actor"] == "user:carol"]
    assert [e["action"] for e in entries] == [
        "participant.access_changed",
        "participant.access_changed",
        "participant.removed",
    ]


def test_no_session_joins_uninvited_or_bypasses_bans(site: Site) -> None:
    """Attacks 4-5: a banned or muted guest, and an outsider of a conversation closed to guests,
    join as participants; the seeds' own joins (creator, ReadWrite participant) still work."""
    site.rest("PUT", "/conversations/room", {"participants": ["alice", "bob", "carol"]})
    site.rest(
        "PUT",
        "/conversations/closed",
        {"participants": ["alice", "bob", "carol"], "guestAccess": "None"},
    )
    site.rest("PUT", "/conversations/room/guests/mal/ban", {})
    site.rest("PUT", "/conversations/room/guests/carol/mute", {})  # a member: mute is for guests
    with site.client("mal") as mal, site.client("alice") as alice:
        before = site.state("room", "closed")
        refused(mal, "PUT", "conversations/room/participants/mal", {}, "NOT_ADMITTED")
        refused(mal, "PUT", "conversations/closed/participants/mal", {}, "NOT_ADMITTED")
        refused(mal, "PUT", "conversations/closed", {"participants": ["mal"]}, "NOT_ADMITTED")
        # ...and a ReadWrite participant cannot add a banned user either.
        refused(alice, "PUT", "conversations/room/participants/mal", {}, "USER_RESTRICTED")
        status, body = mal.request("SUBSCRIBE", "me/conversations/closed", {})
        assert (status, body["errorCode"]) == (403, "NOT_A_PARTICIPANT")
        status, body = mal.request("GET", "me/conversations/closed/messages", {})
        assert status == 403
        assert site.state("room", "closed") == before

        # A muted guest is not added as a participant from the browser either.
        site.rest("DELETE", "/conversations/room/guests/mal/ban")
        site.rest("PUT", "/conversations/room/guests/mal/mute", {})
        refused(alice, "PUT", "conversations/room/participants/mal", {}, "USER_RESTRICTED")
        refused(mal, "PUT", "conversations/room/participants/mal", {}, "NOT_ADMITTED")

        # The seeds' flow: a page creates a conversation, joins it and adds others.
        mal.ok("PUT", "conversations/mals-own", {"subject": "Mine"})
        mal.ok("PUT", "conversations/mals-own/participants/mal", {})
        mal.ok("PUT", "conversations/mals-own/participants/bob", {"access": "Read"})
        parts = site.rest("GET", "/conversations/mals-own")["participants"]
        assert parts == {
            "mal": {"access": "ReadWrite", "notify": True},
            "bob": {"access": "Read", "notify": True},
        }


def test_no_session_overrides_the_backend_or_manages_without_rights(site: Site) -> None:
    """Attacks 6 and 9: an outsider opens another conversation to guests; a participant removes
    others or undoes what the backend set."""
    site.rest(
        "PUT", "/conversations/g", {"participants": ["alice", "bob", "mal"], "guestAccess": "Read"}
    )
    site.rest("PUT", "/conversations/g/participants/carol", {"access": "Read"})
    site.rest("PUT", "/conversations/other", {"participants": ["alice", "bob", "carol"]})
    with site.client("mal") as mal:
        before = site.state("g", "other")
        refused(
            mal, "PUT", "conversations/other", {"guestAccess": "ReadWrite"}, "UNAUTHORIZED_TO_EDIT"
        )
        refused(mal, "PUT", "conversations/other", {"subject": "pwned"}, "UNAUTHORIZED_TO_EDIT")
        refused(
            mal,
            "PUT",
            "conversations/other/participants/carol",
            {"access": "Read"},
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
        )
        refused(
            mal,
            "DELETE",
            "conversations/other/participants/bob",
            None,
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
        )
        # In its own conversation, a ReadWrite participant still cannot remove or withdraw...
        refused(
            mal,
            "DELETE",
            "conversations/g/participants/bob",
            None,
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
        )
        refused(
            mal,
            "PATCH",
            "conversations/g/participants/bob",
            {"access": "None"},
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
        )
        # ...nor undo the backend's decisions (Carol's Read, the guest policy).
        refused(
            mal,
            "PATCH",
            "conversations/g/participants/carol",
            {"access": "ReadWrite"},
            "DECIDED_BY_BACKEND",
        )
        refused(mal, "PUT", "conversations/g", {"guestAccess": "ReadWrite"}, "DECIDED_BY_BACKEND")
        # Probing someone's membership from outside tells nothing: the same refusal either way.
        refused(
            mal,
            "PATCH",
            "conversations/other/participants/nobody",
            {"notify": False},
            "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
        )
        assert site.state("g", "other") == before
        # What a browser may do in its own conversation: add someone, change the subject.
        site.rest("PUT", "/users/dave", {"name": "Dave"})
        mal.ok("PUT", "conversations/g/participants/dave", {"access": "Read"})
        mal.ok("PUT", "conversations/g", {"subject": "Renamed"})
        assert site.rest("GET", "/conversations/g")["subject"] == "Renamed"


def test_no_session_changes_another_user_or_its_own_role(site: Site) -> None:
    """Attacks 7-8: a session makes itself a moderator; a session rewrites another user's
    email, phone, name and role (their notification emails would go to the attacker)."""
    site.rest("PATCH", "/settings", {"moderatorRoles": ["mod"]})
    site.rest("PUT", "/conversations/g", {"participants": ["alice", "bob", "mal"]})
    with site.client("mal") as mal:
        before = site.state("g", users=("alice", "mal"))
        reply = mal.ok("PUT", "me", {"role": "mod"})
        assert reply["role"] == "default" and reply["ignoredFields"] == ["role"]
        reply = mal.ok("PUT", "users/mal", {"configuration": "mod"})
        assert reply["ignoredFields"] == ["configuration"]
        refused(mal, "POST", "conversations/g/guests/carol/kick", {}, "NOT_A_MODERATOR")
        refused(mal, "PUT", "conversations/g/guests/carol/ban", {}, "NOT_A_MODERATOR")
        refused(mal, "POST", "conversations/g/invites", {}, "NOT_A_MODERATOR")
        reply = mal.ok(
            "PUT",
            "users/alice",
            {"email": ["mal@evil.example"], "phone": ["+15550000"], "name": "A", "role": "mod"},
        )
        assert reply["ignoredFields"] == ["email", "name", "phone", "role"]
        assert "email" not in reply and "phone" not in reply
        assert site.state("g", users=("alice", "mal")) == before

        # Its own record (but the role) it may change, and a contact change is audited.
        assert (
            mal.ok("PUT", "me", {"email": ["new@example.com"], "name": "Mal"})["ignoredFields"]
            == []
        )
        entry = site.audit()[-1]
        assert (entry["actor"], entry["action"], entry["userId"]) == (
            "user:mal",
            "user.contact_changed",
            "mal",
        )
        assert entry["data"]["fields"] == ["email"]
        # A user who does not exist yet may be created (seed 002), without a role.
        reply = mal.ok("PUT", "users/newbie", {"name": "New", "role": "mod"})
        assert reply["role"] == "default" and reply["ignoredFields"] == ["role"]


def test_one_on_one_conversations_are_private_by_default(site: Site) -> None:
    """Attack 10: Talk.oneOnOneId(alice, bob) is computable; nobody else watches, writes or
    joins; a squatter who created the id first cannot sit in the pair's conversation."""
    cid = one_on_one_id("alice", "bob")
    with site.client("alice") as alice, site.client("bob") as bob, site.client("mal") as mal:
        # The hosted product's page code, on Alice's page and then on Bob's.
        alice.ok("PUT", f"conversations/{cid}", {})
        alice.ok("PUT", f"conversations/{cid}/participants/alice", {})
        alice.ok("PUT", f"conversations/{cid}/participants/bob", {})
        bob.ok("PUT", f"conversations/{cid}", {})
        bob.ok("PUT", f"conversations/{cid}/participants/bob", {})
        bob.ok("PUT", f"conversations/{cid}/participants/alice", {})
        assert site.rest("GET", f"/conversations/{cid}")["guestAccess"] == "None"
        alice.ok("SUBSCRIBE", f"me/conversations/{cid}")
        alice.ok("POST", f"conversations/{cid}/messages", {"text": "just us"})

        before = site.state(cid)
        status, body = mal.request("SUBSCRIBE", f"me/conversations/{cid}", {"asGuest": True})
        assert (status, body["errorCode"]) == (403, "GUEST_ACCESS_NOT_ALLOWED")
        status, body = mal.request("POST", f"conversations/{cid}/messages", {"text": "hi"})
        assert status == 403
        refused(mal, "PUT", f"conversations/{cid}/participants/mal", {}, "NOT_ADMITTED")
        refused(alice, "PUT", f"conversations/{cid}/participants/mal", {}, "NOT_ADMITTED")
        refused(
            mal, "PUT", f"conversations/{cid}", {"guestAccess": "ReadWrite"}, "UNAUTHORIZED_TO_EDIT"
        )
        assert site.state(cid) == before

    # A squatter creates Carol and Bob's one-on-one before they do and sits in it.
    cid = one_on_one_id("bob", "carol")
    with site.client("mal") as mal, site.client("carol") as carol:
        mal.ok("PUT", f"conversations/{cid}", {})
        mal.ok("PUT", f"conversations/{cid}/participants/mal", {})
        mal.ok("PUT", f"conversations/{cid}/participants/carol", {})
        refused(mal, "PUT", f"conversations/{cid}/participants/bob", {}, "NOT_ADMITTED")
        refused(carol, "PUT", f"conversations/{cid}/participants/bob", {}, "NOT_ADMITTED")
    members = site.rest("GET", f"/conversations/{cid}")["participants"]
    assert "bob" not in members


def test_a_former_participants_view_is_frozen(site: Site) -> None:
    """A None and a removed participant see the text, subject and participants of the moment
    access ended, on every path: history, SUBSCRIBE (and its resume), GET, the Inbox."""
    site.rest(
        "PUT",
        "/conversations/f",
        {"participants": ["alice", "bob", "mal"], "subject": "Before", "custom": {"k": "v1"}},
    )
    sent = site.rest(
        "POST",
        "/conversations/f/messages",
        [{"type": "UserMessage", "sender": "alice", "text": "original"}],
    )
    mid = sent[0]["id"]
    with site.client("mal") as mal:
        position = mal.ok("SUBSCRIBE", "me/conversations/f")["position"]
        site.rest("PATCH", "/conversations/f/participants/mal", {"access": "None"})
        mal.wait_event("participant.access_changed")
        # After the withdrawal: an edit, a new subject, a new participant, a new message.
        site.rest("PUT", f"/conversations/f/messages/{mid}", {"text": "edited later"})
        site.rest(
            "PUT",
            "/conversations/f",
            {"subject": "After", "custom": {"k": "v2"}, "participants": ["carol"]},
        )
        site.rest(
            "POST",
            "/conversations/f/messages",
            [{"type": "UserMessage", "sender": "bob", "text": "after"}],
        )

        def check(conv: dict[str, Any]) -> None:
            assert conv["subject"] == "Before" and conv["custom"] == {"k": "v1"}
            assert set(conv["participants"]) == {"alice", "bob"}
            assert conv["lastMessage"]["text"] == "original"

        check(mal.ok("GET", "me/conversations/f"))
        sel = mal.ok("SUBSCRIBE", "me/conversations/f", {"after": position})
        check(sel["conversation"])
        replayed = json.dumps(sel["events"])
        assert "edited later" not in replayed and "After" not in replayed
        assert "carol" not in replayed
        page = mal.ok("GET", "me/conversations/f/messages")["data"]
        assert [m["text"] for m in page] == ["original"]
        inbox = mal.ok("GET", "me/conversations")["data"]
        check(next(c for c in inbox if c["id"] == "f"))
        rest_inbox = site.rest("GET", "/users/mal/conversations")["data"]
        check(next(c for c in rest_inbox if c["id"] == "f"))

        # Removed after None: still frozen at the first withdrawal.
        site.rest("DELETE", "/conversations/f/participants/mal")
        check(mal.ok("GET", "me/conversations/f"))
        # Access given back: everything, as it is now.
        site.rest("PUT", "/conversations/f/participants/mal", {})
        conv = mal.ok("GET", "me/conversations/f")
        assert conv["subject"] == "After" and "carol" in conv["participants"]
        texts = [m["text"] for m in mal.ok("GET", "me/conversations/f/messages")["data"]]
        assert texts == ["after", "edited later"]


def test_ids_from_the_browser_obey_the_rest_rules(site: Site) -> None:
    with site.client("mal") as mal:
        before = site.state(users=("mal",))
        for bad in ("has space", "a%2Fb", "nul%00", "%3Cb%3E", "x" * 300):
            for method, path in (
                ("PUT", f"conversations/{bad}"),
                ("PUT", f"users/{bad}"),
                ("PUT", f"conversations/ok/participants/{bad}"),
            ):
                status, body = mal.request(method, path, {"name": "N"} if "users" in path else {})
                assert (status, body["errorCode"]) == (400, "INVALID_ID"), (path, body)
        assert site.state(users=("mal",)) == before
        r = site.http.get(
            f"/v1/{site.app_id}/conversations", headers={"Authorization": f"Bearer {site.secret}"}
        )
        assert r.json()["data"] == []


def test_revoking_an_invite_unlinks_the_guests_it_admitted(site: Site) -> None:
    site.rest(
        "PUT",
        "/conversations/vip",
        {"participants": ["alice", "bob", "carol"], "guestAccess": "None"},
    )
    invite = site.rest("POST", "/conversations/vip/invites", {"access": "Read"})
    with site.client("mal") as mal, site.client("alice") as alice:
        mal.ok("SUBSCRIBE", "me/conversations/vip", {"asGuest": True, "invite": invite["token"]})
        alice.ok("SUBSCRIBE", "me/conversations/vip")
        site.rest("DELETE", f"/conversations/vip/invites/{invite['id']}")
        ended = mal.wait_event("subscription.ended")
        assert ended["errorCode"] == "INVITE_INVALID"
        alice.ok("POST", "conversations/vip/messages", {"text": "after the revocation"})
        alice.wait_event(said("after the revocation"))
        assert not any(said("after the revocation")(e) for e in mal.drain())
        status, body = mal.request(
            "SUBSCRIBE", "me/conversations/vip", {"asGuest": True, "invite": invite["token"]}
        )
        assert (status, body["errorCode"]) == (403, "INVITE_INVALID")
        # Participants never hear of the invite itself.
        assert not any(e.get("type") == "invite.revoked" for e in alice.events)


def test_a_guest_is_unlinked_when_a_chat_becomes_a_one_on_one(site: Site) -> None:
    """The default guest policy follows the participant count: open with one participant,
    closed once there are two (guests watching are unlinked on every node), open with three."""
    site.rest("PUT", "/conversations/lobby", {"participants": ["alice"]})
    with site.client("mal") as mal, site.client("alice") as alice:
        mal.ok("SUBSCRIBE", "me/conversations/lobby", {"asGuest": True})
        alice.ok("PUT", "conversations/lobby/participants/bob", {})
        ended = mal.wait_event("subscription.ended")
        assert ended["errorCode"] == "GUEST_ACCESS_NOT_ALLOWED"
        entry = site.audit()[-1]
        assert (entry["action"], entry["data"]) == (
            "conversation.guest_access_changed",
            {"from": "ReadWrite", "to": "None"},
        )
        status, _ = mal.request("SUBSCRIBE", "me/conversations/lobby", {"asGuest": True})
        assert status == 403
        alice.ok("PUT", "conversations/lobby/participants/carol", {})
        assert mal.ok("SUBSCRIBE", "me/conversations/lobby", {"asGuest": True})["access"] == {
            "kind": "guest",
            "canWrite": True,
            "live": True,
            "historyUntil": None,
        }


def test_the_inbox_says_who_ended_a_membership(site: Site) -> None:
    site.rest("PUT", "/conversations/e1", {"participants": ["alice", "bob", "mal"]})
    site.rest("PUT", "/conversations/e2", {"participants": ["alice", "bob", "mal"]})
    site.rest("PUT", "/conversations/e3", {"participants": ["alice", "bob", "mal"]})
    site.rest("DELETE", "/conversations/e1/participants/mal")
    site.rest("PATCH", "/conversations/e3/participants/mal", {"access": "None"})
    with site.client("mal") as mal:
        mal.ok("DELETE", "conversations/e2/participants/mal")
        ended = {
            c["id"]: (c["isMember"], c["endedBy"])
            for c in mal.ok("GET", "me/conversations")["data"]
        }
    assert ended == {"e1": (False, "others"), "e2": (False, "you"), "e3": (True, "others")}
