"""A user's conversation list with unread counts: memberships only, never guest visits."""

from __future__ import annotations

from typing import Any

from chinwag.domain import access as rules
from chinwag.domain.access import Access
from chinwag.domain.permissions import Authority
from chinwag.errors import NotFound
from chinwag.services import horizons
from chinwag.services.context import Context
from chinwag.storage import inbox as store
from chinwag.storage import messages as msg_store
from chinwag.storage import users as user_store
from chinwag.storage.records import Participant


def user_conversations(
    ctx: Context,
    app_id: str,
    user_id: str,
    limit: int,
    starting_after: str | None,
    unreads_only: bool,
) -> list[dict[str, Any]]:
    with ctx.read() as tx:
        if user_store.get_user(tx, app_id, user_id) is None:
            raise NotFound(f"no user {user_id!r}", code="USER_NOT_FOUND")
        after = None
        if starting_after is not None:
            activity = store.activity_of(tx, app_id, user_id, starting_after)
            if activity is None:
                raise NotFound(
                    f"startingAfter: {user_id!r} has no conversation {starting_after!r}",
                    code="CONVERSATION_NOT_FOUND",
                )
            after = (activity, starting_after)
        rows = store.inbox(tx, app_id, user_id, limit, after, unreads_only)
        # One statement each for the page's unread counts, last messages and participants,
        # not three per row: a page of 100 would otherwise cost 300 round trips.
        ranges = []
        for row in rows:
            view = rules.participant_view(row.participant.membership)
            after_pos, upto = rules.unread_range(
                row.participant.read_position, view, row.conversation.seq
            )
            ranges.append((row.conversation.id, after_pos, upto))
        unread_counts = msg_store.unread_counts(tx, app_id, user_id, ranges)
        last_messages = msg_store.last_messages(tx, app_id, [(c, upto) for c, _, upto in ranges])
        participants_of = store.participants_of(tx, app_id, [c for c, _, _ in ranges])
        out = []
        for row in rows:
            conv, me = row.conversation, row.participant
            unread = unread_counts[conv.id]
            last = last_messages.get(conv.id)
            data = horizons.conversation_for(tx, app_id, conv, me, participants_of[conv.id], last)
            data.update(
                {
                    "access": me.access.value if me.member else "None",
                    "isMember": me.member,
                    "notify": me.notify,
                    "joinedAt": me.joined_at,
                    "lastActivityAt": row.activity,
                    "unreadMessageCount": unread,
                    "isUnread": unread > 0,
                    "readUntil": me.read_position,
                    # Who ended (or withdrew) the membership: the user themselves from their
                    # browser ("you"), or anyone else ("others"); None while it is live.
                    "endedBy": _ended_by(me),
                }
            )
            out.append(data)
    return out


def _ended_by(p: Participant) -> str | None:
    if p.member and p.access is not Access.NONE:
        return None
    # Only the user's own session, or the backend and moderators, end a membership
    # (domain/permissions.py); a moderator acts with its own authority.
    return "you" if p.access_set_by is Authority.BROWSER else "others"
