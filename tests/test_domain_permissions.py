"""The rule of who may change what from a browser session (domain/permissions.py), as tables:
actor x target x field -> allowed, or the error code of the refusal."""

from __future__ import annotations

from typing import Any

import pytest

from chinwag.domain.access import Access, BrowserSync, GuestAccess
from chinwag.domain.permissions import (
    Actor,
    Authority,
    Change,
    Field,
    Pair,
    Standing,
    Target,
    decide,
    decide_attributes,
    default_guest_access,
    one_on_one_id,
    pair_of,
    user_fields,
)

B, M, K = Authority.BROWSER, Authority.MODERATOR, Authority.BACKEND
RW, R, NONE = Access.READ_WRITE, Access.READ, Access.NONE
OPEN = BrowserSync(True, True)
NO_CONV_SYNC = BrowserSync(True, False)


def actor(standing: Standing, authority: Authority = B) -> Actor:
    return Actor("mal", authority, standing)


MANAGER = actor(Standing.MANAGER)
MODERATOR = actor(Standing.MANAGER, M)
CREATOR = actor(Standing.CREATOR)
READER = actor(Standing.READER)
FORMER = actor(Standing.FORMER)
OUTSIDER = actor(Standing.OUTSIDER)

SELF = Target("mal")
OTHER = Target("bob")

# (actor, target, change, expected error code or None)
CASES: list[tuple[str, Actor, Target, Change, str | None]] = [
    # -- the session's own membership: never raised -------------------------------------------
    ("read raises itself", READER, SELF, Change(Field.ACCESS, R, RW, B), "CANNOT_RAISE_OWN_RIGHTS"),
    (
        "read raises itself (set by backend)",
        READER,
        SELF,
        Change(Field.ACCESS, R, RW, K),
        "CANNOT_RAISE_OWN_RIGHTS",
    ),
    (
        "None restores itself",
        FORMER,
        SELF,
        Change(Field.ACCESS, NONE, R),
        "CANNOT_RAISE_OWN_RIGHTS",
    ),
    (
        "removed re-adds itself",
        FORMER,
        SELF,
        Change(Field.MEMBERSHIP, False, True, K),
        "CANNOT_RAISE_OWN_RIGHTS",
    ),
    (
        "removed by itself re-adds itself",
        FORMER,
        SELF,
        Change(Field.MEMBERSHIP, False, True, B),
        "CANNOT_RAISE_OWN_RIGHTS",
    ),
    ("outsider joins", OUTSIDER, SELF, Change(Field.MEMBERSHIP, None, True), "NOT_ADMITTED"),
    ("creator joins", CREATOR, SELF, Change(Field.MEMBERSHIP, None, True), None),
    ("new membership's access", OUTSIDER, SELF, Change(Field.ACCESS, None, RW), None),
    (
        "one of a one-on-one joins",
        OUTSIDER,
        Target("mal", pair=Pair.INSIDE),
        Change(Field.MEMBERSHIP, None, True),
        None,
    ),
    (
        "creator joins two others' one-on-one",
        CREATOR,
        Target("mal", pair=Pair.OUTSIDE),
        Change(Field.MEMBERSHIP, None, True),
        "NOT_ADMITTED",
    ),
    (
        "banned creator joins",
        CREATOR,
        Target("mal", restricted=True),
        Change(Field.MEMBERSHIP, None, True),
        "USER_RESTRICTED",
    ),
    ("lowers itself", MANAGER, SELF, Change(Field.ACCESS, RW, R, K), None),
    ("withdraws itself", MANAGER, SELF, Change(Field.ACCESS, RW, NONE, K), None),
    ("leaves (set by backend)", READER, SELF, Change(Field.MEMBERSHIP, True, False, K), None),
    ("no change to itself", READER, SELF, Change(Field.ACCESS, R, R, K), None),
    ("notify off", READER, SELF, Change(Field.NOTIFY, True, False, K), None),
    ("notify back on (own choice)", READER, SELF, Change(Field.NOTIFY, False, True, B), None),
    (
        "notify on over the backend",
        READER,
        SELF,
        Change(Field.NOTIFY, False, True, K),
        "DECIDED_BY_BACKEND",
    ),
    (
        "notify on over a moderator",
        MANAGER,
        SELF,
        Change(Field.NOTIFY, False, "MentionsOnly", M),
        "DECIDED_BY_BACKEND",
    ),
    # -- someone else's membership ----------------------------------------------------------
    ("manager adds", MANAGER, OTHER, Change(Field.MEMBERSHIP, None, True), None),
    ("creator adds", CREATOR, OTHER, Change(Field.MEMBERSHIP, None, True), None),
    (
        "reader adds",
        READER,
        OTHER,
        Change(Field.MEMBERSHIP, None, True),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    (
        "outsider adds",
        OUTSIDER,
        OTHER,
        Change(Field.MEMBERSHIP, None, True),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    (
        "former adds",
        FORMER,
        OTHER,
        Change(Field.MEMBERSHIP, None, True),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    (
        "outsider's no-op on a member",
        OUTSIDER,
        OTHER,
        Change(Field.MEMBERSHIP, True, True, K),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    ("manager sets Read (browser's)", MANAGER, OTHER, Change(Field.ACCESS, RW, R, B), None),
    ("manager sets RW (browser's)", MANAGER, OTHER, Change(Field.ACCESS, R, RW, B), None),
    (
        "manager overrides the backend",
        MANAGER,
        OTHER,
        Change(Field.ACCESS, R, RW, K),
        "DECIDED_BY_BACKEND",
    ),
    (
        "manager overrides a moderator",
        MANAGER,
        OTHER,
        Change(Field.ACCESS, R, RW, M),
        "DECIDED_BY_BACKEND",
    ),
    ("moderator overrides a moderator", MODERATOR, OTHER, Change(Field.ACCESS, R, RW, M), None),
    (
        "moderator overrides the backend",
        MODERATOR,
        OTHER,
        Change(Field.ACCESS, R, RW, K),
        "DECIDED_BY_BACKEND",
    ),
    (
        "manager removes",
        MANAGER,
        OTHER,
        Change(Field.MEMBERSHIP, True, False, B),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    (
        "manager withdraws",
        MANAGER,
        OTHER,
        Change(Field.ACCESS, R, NONE, B),
        "UNAUTHORIZED_TO_EDIT_PARTICIPANT",
    ),
    ("manager adds with None", MANAGER, OTHER, Change(Field.ACCESS, None, NONE), None),
    ("moderator removes", MODERATOR, OTHER, Change(Field.MEMBERSHIP, True, False, B), None),
    (
        "moderator removes the backend's member",
        MODERATOR,
        OTHER,
        Change(Field.MEMBERSHIP, True, False, K),
        "DECIDED_BY_BACKEND",
    ),
    (
        "manager re-adds one the backend removed",
        MANAGER,
        OTHER,
        Change(Field.MEMBERSHIP, False, True, K),
        "DECIDED_BY_BACKEND",
    ),
    (
        "manager re-adds one who left",
        MANAGER,
        OTHER,
        Change(Field.MEMBERSHIP, False, True, B),
        None,
    ),
    (
        "manager adds a banned guest",
        MANAGER,
        Target("bob", restricted=True),
        Change(Field.MEMBERSHIP, None, True),
        "USER_RESTRICTED",
    ),
    (
        "manager adds a third to a one-on-one",
        MANAGER,
        Target("bob", pair=Pair.OUTSIDE),
        Change(Field.MEMBERSHIP, None, True),
        "NOT_ADMITTED",
    ),
    (
        "manager changes notify (browser's)",
        MANAGER,
        OTHER,
        Change(Field.NOTIFY, True, False, B),
        None,
    ),
    (
        "manager changes notify (backend's)",
        MANAGER,
        OTHER,
        Change(Field.NOTIFY, True, False, K),
        "DECIDED_BY_BACKEND",
    ),
]


@pytest.mark.parametrize(("name", "who", "target", "change", "expected"), CASES)
def test_membership_changes(
    name: str, who: Actor, target: Target, change: Change, expected: str | None
) -> None:
    refused = decide(who, target, change, OPEN)
    assert (refused.code if refused else None) == expected, name


@pytest.mark.parametrize(
    ("target", "field", "expected"),
    [
        (SELF, Field.NOTIFY, None),
        (SELF, Field.ACCESS, "SYNC_NOT_ALLOWED"),
        (SELF, Field.MEMBERSHIP, "SYNC_NOT_ALLOWED"),
        (OTHER, Field.NOTIFY, "SYNC_NOT_ALLOWED"),
    ],
)
def test_with_conversation_sync_off_only_own_notify(
    target: Target, field: Field, expected: str | None
) -> None:
    values: dict[Field, tuple[Any, Any]] = {
        Field.NOTIFY: (True, False),
        Field.ACCESS: (RW, R),
        Field.MEMBERSHIP: (True, False),
    }
    old, new = values[field]
    refused = decide(MODERATOR, target, Change(field, old, new, B), NO_CONV_SYNC)
    assert (refused.code if refused else None) == expected


@pytest.mark.parametrize(
    ("who", "fields", "exists", "set_by", "expected"),
    [
        (CREATOR, {"subject", "guestAccess"}, False, None, None),
        (OUTSIDER, {"subject"}, False, None, None),  # creating
        (OUTSIDER, set(), True, None, None),  # getOrCreateConversation's no-op
        (OUTSIDER, {"guestAccess"}, True, None, "UNAUTHORIZED_TO_EDIT"),
        (READER, {"subject"}, True, None, "UNAUTHORIZED_TO_EDIT"),
        (FORMER, {"custom"}, True, None, "UNAUTHORIZED_TO_EDIT"),
        (MANAGER, {"subject", "photoUrl"}, True, None, None),
        (MANAGER, {"guestAccess"}, True, None, None),
        (MANAGER, {"guestAccess"}, True, B, None),
        (MANAGER, {"guestAccess"}, True, K, "DECIDED_BY_BACKEND"),
        (MODERATOR, {"guestAccess"}, True, M, None),
        (MANAGER, {"subject"}, True, K, None),
    ],
)
def test_conversation_attributes(
    who: Actor, fields: set[str], exists: bool, set_by: Authority | None, expected: str | None
) -> None:
    refused = decide_attributes(who, fields, exists, set_by)
    assert (refused.code if refused else None) == expected


@pytest.mark.parametrize(
    ("target", "exists", "given", "written"),
    [
        ("mal", False, {"name", "email", "role"}, {"name", "email"}),
        ("mal", True, {"name", "email", "phone", "role"}, {"name", "email", "phone"}),
        ("mal", True, {"configuration"}, set()),
        ("bob", False, {"name", "email", "role"}, {"name", "email"}),
        ("bob", True, {"name", "email", "phone", "custom"}, set()),
    ],
)
def test_user_fields(target: str, exists: bool, given: set[str], written: set[str]) -> None:
    assert user_fields("mal", target, exists, given) == written


def test_default_guest_policy_closes_one_on_ones() -> None:
    assert [default_guest_access(n) for n in range(5)] == [
        GuestAccess.READ_WRITE,
        GuestAccess.READ_WRITE,
        GuestAccess.NONE,
        GuestAccess.READ_WRITE,
        GuestAccess.READ_WRITE,
    ]


def test_one_on_one_id_is_the_hosted_products_formula() -> None:
    # SHA-1 of '["alice","bob"]', first 20 hex digits; order does not matter.
    assert one_on_one_id("bob", "alice") == one_on_one_id("alice", "bob")
    assert one_on_one_id("alice", "bob") == "4714b845b86fbe0ed913"
    # The SDK (static/sdk/sha1.js) gives the same for non-ASCII ids: JSON keeps them as UTF-8.
    assert one_on_one_id("é", "z") == "23c86a947bb736113b85"


def test_pair_of() -> None:
    cid = one_on_one_id("alice", "bob")
    assert pair_of(cid, "alice", []) is Pair.NONE
    assert pair_of(cid, "alice", ["bob"]) is Pair.INSIDE
    assert pair_of(cid, "bob", ["alice", "bob"]) is Pair.INSIDE
    assert pair_of(cid, "bob", ["alice", "mal"]) is Pair.OUTSIDE  # a squatter is already in
    assert pair_of(cid, "mal", ["alice", "bob"]) is Pair.OUTSIDE  # a third
    assert pair_of(cid, "mal", ["alice"]) is Pair.NONE
    assert pair_of("team", "alice", ["bob"]) is Pair.NONE
