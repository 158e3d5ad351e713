"""Table tests for the pure notification rules (domain/notify.py)."""

from __future__ import annotations

import pytest

from chinwag.domain.access import Access, Membership
from chinwag.domain.notify import (
    Candidate,
    Channels,
    Incoming,
    Pending,
    backoff_ms,
    email_channels,
    mentions,
    recipients,
    sms_channels,
    still_unread,
    usable_channels,
    valid_email,
    valid_phone,
)

LIVE = Membership(Access.READ_WRITE)
READ = Membership(Access.READ)
NONE = Membership(Access.NONE, horizon=3)
REMOVED = Membership(Access.NONE, member=False, horizon=3)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("alice@example.com", True),
        ("a.b+tag@mail.example.co.uk", True),
        ("[email\u00a0protected]", False),  # the seeds' placeholder
        ("[email protected]", False),
        ("alice@localhost", False),
        ("alice@@example.com", False),
        ("alice@example.com\r\nBcc: x@example.com", False),
        ("alice@ex..ample.com", False),
        ("", False),
        ("a" * 65 + "@example.com", False),
    ],
)
def test_email_validity(address: str, ok: bool) -> None:
    assert valid_email(address) is ok


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("+15551234567", True),
        ("+44 20 7946 0958", True),
        ("5551234567", False),
        ("+0123456789", False),
        ("+1 555 CALL NOW", False),
        ("+12", False),
    ],
)
def test_phone_validity(number: str, ok: bool) -> None:
    assert valid_phone(number) is ok


def test_channels_drop_malformed_and_duplicates() -> None:
    assert email_channels(["[email protected]", "a@example.com", "a@example.com"]) == [
        "a@example.com"
    ]
    assert email_channels(None) == []
    assert sms_channels(["+1 555 123 4567", "+15551234567", "nope"]) == ["+15551234567"]


def test_mentions() -> None:
    assert mentions("hi <@bob>!", "bob")
    assert not mentions("hi <@bobby>", "bob")
    assert not mentions("hi bob", "bob")


def cand(
    user: str, m: Membership = LIVE, notify: bool | str = True, channel: bool = True
) -> Candidate:
    return Candidate(user, m, notify, channel)


MSG = Incoming("UserMessage", "alice", "hello <@carol>", by_guest=False)


@pytest.mark.parametrize(
    ("message", "candidate", "notified"),
    [
        (MSG, cand("bob"), True),
        (MSG, cand("bob", READ), True),  # Read participants can read, so they hear about it
        (MSG, cand("bob", NONE), False),
        (MSG, cand("bob", REMOVED), False),
        (MSG, cand("alice"), False),  # never the sender
        (MSG, cand("bob", notify=False), False),
        (MSG, cand("bob", notify="MentionsOnly"), False),
        (MSG, cand("carol", notify="MentionsOnly"), True),
        (MSG, cand("bob", channel=False), False),  # no usable email or phone
        (Incoming("SystemMessage", None, "hi", False), cand("bob"), False),
        (Incoming("UserMessage", "gus", "hi", by_guest=True), cand("bob"), False),
    ],
)
def test_recipients(message: Incoming, candidate: Candidate, notified: bool) -> None:
    assert (recipients(message, [candidate]) == [candidate.user_id]) is notified


def test_recipients_keep_order_and_skip_sender() -> None:
    got = recipients(MSG, [cand("alice"), cand("bob"), cand("carol"), cand("dan", NONE)])
    assert got == ["bob", "carol"]


P = [
    Pending(1, "alice", "one", False),
    Pending(2, "alice", "two <@bob>", False),
    Pending(3, "alice", "three", True),
    Pending(5, "alice", "five", False),
]


@pytest.mark.parametrize(
    ("candidate", "read_position", "viewing", "positions"),
    [
        (cand("bob"), 0, False, [1, 2, 5]),  # the deleted one drops out
        (cand("bob"), 2, False, [5]),  # read meanwhile
        (cand("bob"), 5, False, []),
        (cand("bob"), 0, True, []),  # viewing the conversation now
        (cand("bob", READ), 0, False, [1, 2, 5]),
        (cand("bob", NONE), 0, False, []),  # lost access meanwhile
        (cand("bob", REMOVED), 0, False, []),
        (cand("bob", notify=False), 0, False, []),
        (cand("bob", notify="MentionsOnly"), 0, False, [2]),
        (cand("bob", channel=False), 0, False, []),
    ],
)
def test_still_unread(
    candidate: Candidate, read_position: int, viewing: bool, positions: list[int]
) -> None:
    assert [p.position for p in still_unread(candidate, read_position, P, viewing)] == positions


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_ms(n, 1000, 10_000) for n in range(1, 7)] == [
        1000,
        2000,
        4000,
        8000,
        10_000,
        10_000,
    ]


def test_channel_switches_fall_back_from_role_to_app() -> None:
    channels = Channels.from_json(
        {"email": True, "sms": False, "roles": {"vip": {"sms": True}, "quiet": {"email": False}}}
    )
    assert channels.for_role(None) == (True, False)
    assert channels.for_role("vip") == (True, True)
    assert channels.for_role("quiet") == (False, False)
    assert Channels.from_json(channels.to_json()) == channels
    assert usable_channels(channels, "vip", ["a@example.com"], ["+15551234567"]) == (
        ["a@example.com"],
        ["+15551234567"],
    )
    assert usable_channels(channels, None, ["a@example.com"], ["+15551234567"]) == (
        ["a@example.com"],
        [],
    )
