"""Guest moderation from the browser, for participants whose role allows it.

The rule (one place, for every socket path and SDK call): the session's user must be a
``ReadWrite`` participant of the conversation, and their user ``role`` must be one of the app's
``moderatorRoles`` setting. The default, an empty list, leaves moderation to the backend (REST)
and the dashboard. Identity verification should be on for this to mean anything: without it any
browser may claim any user id, moderators included.

Each call checks the rule and then makes the same service call as REST
(:mod:`services.moderation`), so the events, the unlinking on every node and the audit entry
(``user:<id>``, from the context the socket route gives) are the same.
"""

from __future__ import annotations

from typing import Any

from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.errors import ChinwagError
from chinwag.services import moderation
from chinwag.services.context import Context
from chinwag.services.sessions import Session, load_app, load_conversation, view_in
from chinwag.storage import users as user_store


def check_moderator(ctx: Context, session: Session, conversation_id: str) -> None:
    """NOT_A_MODERATOR unless the session's user may moderate this conversation's guests."""
    with ctx.read() as tx:
        app = load_app(tx, session.app_id)
        conv = load_conversation(tx, session.app_id, conversation_id)
        view = view_in(tx, app, conv, session.user_id, None, ctx.clock.now_ms())
        user = user_store.get_user(tx, app.id, session.user_id)
    role = user.role if user is not None else None
    if not (view.kind == "participant" and view.can_write and app.settings.may_moderate(role)):
        raise ChinwagError(
            "only ReadWrite participants whose role is in the app's moderatorRoles may "
            "moderate guests from the browser",
            code="NOT_A_MODERATOR",
        )


def kick(ctx: Context, session: Session, cid: str, user_id: str, reason: str | None) -> None:
    check_moderator(ctx, session, cid)
    moderation.kick(ctx, session.app_id, cid, user_id, reason)


def restrict(
    ctx: Context,
    session: Session,
    cid: str,
    user_id: str,
    kind: RestrictionKind,
    duration_seconds: int | None,
    reason: str | None,
) -> dict[str, Any]:
    check_moderator(ctx, session, cid)
    return moderation.restrict(ctx, session.app_id, cid, user_id, kind, duration_seconds, reason)


def lift(ctx: Context, session: Session, cid: str, user_id: str, kind: RestrictionKind) -> None:
    check_moderator(ctx, session, cid)
    moderation.lift(ctx, session.app_id, cid, user_id, kind)


def create_invite(
    ctx: Context, session: Session, cid: str, access: GuestAccess, expires_in_seconds: int
) -> moderation.MintedInvite:
    check_moderator(ctx, session, cid)
    return moderation.create_invite(ctx, session.app_id, cid, access, expires_in_seconds)


def revoke_invite(ctx: Context, session: Session, cid: str, invite_id: str) -> None:
    check_moderator(ctx, session, cid)
    moderation.revoke_invite(ctx, session.app_id, cid, invite_id)
