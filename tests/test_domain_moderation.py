"""Table tests for guest bans, mutes and invite links (pure rules)."""

from __future__ import annotations

import pytest

from chinwag.domain.access import Access, BrowserSync, GuestAccess, Membership, guest_view
from chinwag.domain.moderation import (
    InviteClaims,
    Restriction,
    RestrictionKind,
    apply_restrictions,
    invited_policy,
    read_invite,
    sign_invite,
)
from chinwag.errors import ChinwagError

BAN = RestrictionKind.BAN
MUTE = RestrictionKind.MUTE
GUEST = guest_view(BrowserSync(True, True), GuestAccess.READ_WRITE, None)
PARTICIPANT = guest_view(
    BrowserSync(True, True), GuestAccess.READ_WRITE, Membership(Access.READ_WRITE)
)


@pytest.mark.parametrize(
    ("restrictions", "now", "expect"),
    [
        ([], 100, "writes"),
        ([Restriction(BAN, None)], 100, "GUEST_BANNED"),
        ([Restriction(BAN, 200)], 100, "GUEST_BANNED"),
        ([Restriction(BAN, 200)], 200, "writes"),  # expired at 200
        ([Restriction(MUTE, None)], 100, "reads"),
        ([Restriction(MUTE, 150)], 149, "reads"),
        ([Restriction(MUTE, 150)], 150, "writes"),
        ([Restriction(MUTE, None), Restriction(BAN, 50)], 100, "reads"),  # the ban expired
    ],
)
def test_guest_restrictions(restrictions, now, expect):
    if expect.isupper():
        with pytest.raises(ChinwagError) as err:
            apply_restrictions(GUEST, restrictions, now)
        assert err.value.code == expect and err.value.status == 403
    else:
        view = apply_restrictions(GUEST, restrictions, now)
        assert view.can_read and view.can_write is (expect == "writes")


def test_restrictions_never_touch_participants():
    assert apply_restrictions(PARTICIPANT, [Restriction(BAN, None)], 0) == PARTICIPANT


CLAIMS = InviteClaims("app", "conv", "inv1", GuestAccess.READ, expires_at=1_000)


@pytest.mark.parametrize(
    ("token_of", "keys", "conversation", "now", "expect"),
    [
        (lambda: sign_invite("k1", CLAIMS), ["k1"], "conv", 999, "ok"),
        (lambda: sign_invite("k1", CLAIMS), ["k0", "k1"], "conv", 0, "ok"),  # any app key
        (lambda: sign_invite("k1", CLAIMS), ["k1"], "conv", 1_000, "INVITE_EXPIRED"),
        (lambda: sign_invite("k1", CLAIMS), ["k2"], "conv", 0, "INVITE_INVALID"),
        (lambda: sign_invite("k1", CLAIMS), ["k1"], "other", 0, "INVITE_INVALID"),
        (lambda: sign_invite("k1", CLAIMS)[:-1] + "0", ["k1"], "conv", 0, "INVITE_INVALID"),
        (lambda: "garbage", ["k1"], "conv", 0, "INVITE_INVALID"),
        (lambda: "e30." + "0" * 64, ["k1"], "conv", 0, "INVITE_INVALID"),
    ],
)
def test_invite_tokens(token_of, keys, conversation, now, expect):
    token = token_of()
    if expect == "ok":
        assert read_invite(keys, token, "app", conversation, now) == CLAIMS
    else:
        with pytest.raises(ChinwagError) as err:
            read_invite(keys, token, "app", conversation, now)
        assert err.value.code == expect


def test_a_tampered_payload_is_refused():
    token = sign_invite("k1", CLAIMS)
    forged = sign_invite("k1", InviteClaims("app", "conv", "inv1", GuestAccess.READ_WRITE, 1_000))
    mixed = forged.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(ChinwagError):
        read_invite(["k1"], mixed, "app", "conv", 0)


@pytest.mark.parametrize(
    ("policy", "invite", "expect"),
    [
        (GuestAccess.NONE, None, GuestAccess.NONE),
        (GuestAccess.NONE, CLAIMS, GuestAccess.READ),
        (GuestAccess.READ_WRITE, CLAIMS, GuestAccess.READ),
    ],
)
def test_invites_open_the_policy(policy, invite, expect):
    assert invited_policy(policy, invite) is expect
