"""Table tests for the pure access rules (BRIEF section 2)."""

from __future__ import annotations

import pytest

from chinwag.domain.access import (
    Access,
    BrowserSync,
    GuestAccess,
    Membership,
    check_can_write,
    check_participant_limit,
    grant,
    guest_view,
    participant_view,
    read_upto,
    remove,
    unread_range,
    withdraw,
)
from chinwag.errors import ChinwagError

RW = Membership(Access.READ_WRITE)
RO = Membership(Access.READ)
NONE_AT_5 = Membership(Access.NONE, horizon=5)
REMOVED_AT_7 = Membership(Access.NONE, member=False, horizon=7)


@pytest.mark.parametrize(
    ("membership", "kind", "can_write", "live", "horizon"),
    [
        (RW, "participant", True, True, None),
        (RO, "participant", False, True, None),
        (NONE_AT_5, "former", False, False, 5),
        (REMOVED_AT_7, "former", False, False, 7),
        (None, "outsider", False, False, None),
    ],
)
def test_participant_view(membership, kind, can_write, live, horizon):
    view = participant_view(membership)
    assert (view.kind, view.can_write, view.live, view.horizon) == (kind, can_write, live, horizon)


@pytest.mark.parametrize(
    ("membership", "position", "sees"),
    [
        (RW, 1_000_000, True),
        (RO, 3, True),
        (NONE_AT_5, 5, True),
        (NONE_AT_5, 6, False),
        (REMOVED_AT_7, 7, True),
        (REMOVED_AT_7, 8, False),
        (None, 1, False),
    ],
)
def test_history_horizon(membership, position, sees):
    assert participant_view(membership).sees(position) is sees


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        # Withdrawing freezes history at the moment of withdrawal.
        (RW, lambda m: withdraw(m, 10), Membership(Access.NONE, horizon=10)),
        # Withdrawing again keeps the first horizon: nothing sent meanwhile becomes visible.
        (NONE_AT_5, lambda m: withdraw(m, 10), Membership(Access.NONE, horizon=5)),
        # Removing keeps the history up to removal.
        (RO, lambda m: remove(m, 12), Membership(Access.NONE, member=False, horizon=12)),
        # Removing a withdrawn member keeps the earlier horizon.
        (NONE_AT_5, lambda m: remove(m, 12), Membership(Access.NONE, member=False, horizon=5)),
        # Access given back: the whole history again, including what was missed.
        (NONE_AT_5, lambda m: grant(m, Access.READ, 20), Membership(Access.READ)),
        (REMOVED_AT_7, lambda m: grant(m, Access.READ_WRITE, 20), RW),
        # Granting None to a member is a withdrawal.
        (RW, lambda m: grant(m, Access.NONE, 9), Membership(Access.NONE, horizon=9)),
        (RW, lambda m: grant(m, Access.READ, 9), RO),
    ],
)
def test_transitions(before, change, after):
    assert change(before) == after


@pytest.mark.parametrize(
    ("membership", "code"),
    [
        (RW, None),
        (RO, "NOT_ALLOWED_TO_WRITE"),
        (NONE_AT_5, "NOT_ALLOWED_TO_WRITE"),
        (REMOVED_AT_7, "NOT_ALLOWED_TO_WRITE"),
        (None, "NOT_A_PARTICIPANT"),
    ],
)
def test_who_may_write(membership, code):
    view = participant_view(membership)
    if code is None:
        check_can_write(view)
    else:
        with pytest.raises(ChinwagError) as err:
            check_can_write(view)
        assert err.value.code == code and err.value.status == 403


@pytest.mark.parametrize(
    ("count", "already_counted", "limit", "ok"),
    [
        (0, False, 1, True),
        (2, False, 3, True),
        (3, False, 3, False),  # the fourth distinct user in a 3-slot conversation
        (3, True, 3, True),  # a removed user re-added takes no new slot
        (50, False, 50, False),
    ],
)
def test_lifetime_participant_limit(count, already_counted, limit, ok):
    if ok:
        check_participant_limit(count, already_counted, limit)
    else:
        with pytest.raises(ChinwagError) as err:
            check_participant_limit(count, already_counted, limit)
        assert err.value.code == "PARTICIPANT_LIMIT_REACHED" and err.value.status == 409


BOTH = BrowserSync(True, True)


@pytest.mark.parametrize(
    ("sync", "policy", "membership", "expect"),
    [
        (BOTH, GuestAccess.READ_WRITE, None, ("guest", True)),
        (BOTH, GuestAccess.READ, None, ("guest", False)),
        (BOTH, GuestAccess.NONE, None, "GUEST_ACCESS_NOT_ALLOWED"),
        (BrowserSync(False, True), GuestAccess.READ_WRITE, None, "GUEST_ACCESS_NOT_ALLOWED"),
        (BrowserSync(True, False), GuestAccess.READ_WRITE, None, "GUEST_ACCESS_NOT_ALLOWED"),
        # A member (any access, None included) gets their participant view: asGuest has no effect.
        (BOTH, GuestAccess.READ_WRITE, RO, ("participant", False)),
        (BOTH, GuestAccess.READ_WRITE, NONE_AT_5, ("former", False)),
        (BrowserSync(False, False), GuestAccess.NONE, RW, ("participant", True)),
        # A removed user may come back as a guest and then sees everything.
        (BOTH, GuestAccess.READ_WRITE, REMOVED_AT_7, ("guest", True)),
    ],
)
def test_guest_admission(sync, policy, membership, expect):
    if isinstance(expect, str):
        with pytest.raises(ChinwagError) as err:
            guest_view(sync, policy, membership)
        assert err.value.code == expect
    else:
        view = guest_view(sync, policy, membership)
        assert (view.kind, view.can_write) == expect
        if view.kind == "guest":
            assert view.horizon is None and view.live


@pytest.mark.parametrize(
    ("membership", "read", "last", "unread", "mark"),
    [
        (RW, 0, 10, (0, 10), 10),
        (RW, 4, 10, (4, 10), 10),
        (NONE_AT_5, 2, 10, (2, 5), 5),  # unread never counts past the horizon
        (REMOVED_AT_7, 7, 20, (7, 7), 7),
    ],
)
def test_unread_and_mark_read(membership, read, last, unread, mark):
    view = participant_view(membership)
    assert unread_range(read, view, last) == unread
    assert read_upto(view, last) == mark
