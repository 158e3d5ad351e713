"""Browser synchronization: users, conversations and memberships changed from a browser session.

Each use case loads the facts inside its write transaction, asks the one rule
(:mod:`chinwag.domain.permissions`) about every field it would change, and only then writes,
through the same services as REST, so nothing is half-written when a change is refused. The
session's own user is the actor; whether it acts as a plain session or as a moderator
(``moderatorRoles``) is worked out here, from the database, never taken from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chinwag.domain import access as rules
from chinwag.domain import permissions
from chinwag.domain.access import Access
from chinwag.domain.moderation import RestrictionKind
from chinwag.domain.permissions import Actor, Authority, Change, Field, Standing, Target
from chinwag.errors import NotFound
from chinwag.schemas import ConversationPut, ParticipantPatch, ParticipantPut, UserPut, parse
from chinwag.services import browser, conversations, participants, users
from chinwag.services.context import Context, Unit
from chinwag.services.events import Event
from chinwag.services.participants import Plan
from chinwag.services.sessions import Session, load_app
from chinwag.storage import conversations as conv_store
from chinwag.storage import moderation as mod_store
from chinwag.storage import participants as part_store
from chinwag.storage import users as user_store
from chinwag.storage.records import App, Conversation

#: User fields whose change from a browser session is written to the audit log.
CONTACT_FIELDS = ("email", "phone")


def actor_in(unit: Unit, app: App, conv: Conversation | None, user_id: str) -> Actor:
    """The session's user as the rules see it in this conversation (None: it does not exist
    yet, and the session would create it)."""
    if conv is None:
        return Actor(user_id, Authority.BROWSER, Standing.CREATOR)
    p = part_store.get_participant(unit.tx, app.id, conv.id, user_id)
    view = rules.participant_view(p.membership if p else None)
    if p is None:
        created = conv.created_by == f"user:{user_id}"
        standing = Standing.CREATOR if created else Standing.OUTSIDER
    elif view.kind == "former":
        standing = Standing.FORMER
    else:
        standing = Standing.MANAGER if view.can_write else Standing.READER
    authority = Authority.BROWSER
    if standing is Standing.MANAGER:
        user = user_store.get_user(unit.tx, app.id, user_id)
        if app.settings.may_moderate(user.role if user else None):
            authority = Authority.MODERATOR
    return Actor(user_id, authority, standing)


def _target(unit: Unit, app_id: str, conv: Conversation, user_id: str) -> Target:
    restricted = any(
        r.active(unit.now) and r.kind in (RestrictionKind.BAN, RestrictionKind.MUTE)
        for r in mod_store.restrictions_of(unit.tx, app_id, conv.id, user_id)
    )
    members = part_store.lifetime_ids(unit.tx, app_id, conv.id)
    return Target(user_id, restricted, permissions.pair_of(conv.id, user_id, members))


def changes_of(plan: Plan) -> list[Change]:
    """The fields a membership plan changes, each with its old value and who set it (the
    membership always, so that anyone else's no-op is still checked)."""
    old = plan.old
    if old is None:
        return [
            Change(Field.MEMBERSHIP, None, plan.new.member),
            Change(Field.ACCESS, None, plan.new.access),
            Change(Field.NOTIFY, None, plan.notify),
        ]
    out = [Change(Field.MEMBERSHIP, old.member, plan.new.member, old.access_set_by)]
    if plan.new.access is not old.access:
        out.append(Change(Field.ACCESS, old.access, plan.new.access, old.access_set_by))
    if plan.notify != old.notify:
        out.append(Change(Field.NOTIFY, old.notify, plan.notify, old.notify_set_by))
    return out


def _apply_checked(unit: Unit, app: App, conv: Conversation, actor: Actor, plan: Plan) -> None:
    target = _target(unit, app.id, conv, plan.user_id)
    permissions.check(actor, target, changes_of(plan), app.settings.browser_sync)
    participants.apply(unit, app.id, conv, plan, actor.authority)


def _conversation(unit: Unit, app: App, conversation_id: str) -> Conversation:
    conv = conv_store.get_conversation(unit.tx, app.id, conversation_id, lock=True)
    if conv is None:
        # With conversation sync off the page could not have created it: say that first.
        rules.check_browser_sync(app.settings.allowConversationSyncViaBrowser, "conversation")
        raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
    return conv


def _check_target_visible(actor: Actor, target_id: str) -> None:
    """Someone else's membership is none of an outsider's business: refuse before a 404 could
    tell whether that user is a member."""
    if target_id != actor.user_id and actor.standing not in (Standing.MANAGER, Standing.CREATOR):
        refused = permissions.decide(
            actor,
            Target(target_id),
            Change(Field.MEMBERSHIP, True, True),
            rules.BrowserSync(True, True),
        )
        assert refused is not None
        raise refused.error()


# -- memberships ----------------------------------------------------------------------------


def _membership(
    ctx: Context,
    session: Session,
    conversation_id: str,
    user_id: str,
    plan: Callable[[Unit, App, Conversation], Plan],
) -> dict[str, Any]:
    """One membership change from the browser: load, ask the rule about every field the
    ``plan`` changes, then write; all in one transaction."""
    with ctx.write() as unit:
        app = load_app(unit.tx, session.app_id)
        conv = _conversation(unit, app, conversation_id)
        actor = actor_in(unit, app, conv, session.user_id)
        _check_target_visible(actor, user_id)
        _apply_checked(unit, app, conv, actor, plan(unit, app, conv))
    return {}


def put_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str, body: ParticipantPut
) -> dict[str, Any]:
    """Add a user (or change a member: only the fields sent change, so a page that calls
    ``setParticipant(me)`` on every load never resets what the backend decided)."""
    given = body.given()
    access = Access(given["access"]) if "access" in given else None

    def plan(unit: Unit, app: App, conv: Conversation) -> Plan:
        participants.require_users(unit, app.id, [user_id])
        return participants.plan_put(unit, app.id, conv, user_id, access, given.get("notify"))

    return _membership(ctx, session, conversation_id, user_id, plan)


def patch_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str, body: ParticipantPatch
) -> dict[str, Any]:
    access = None if body.access is None else Access(body.access)

    def plan(unit: Unit, app: App, conv: Conversation) -> Plan:
        return participants.plan_patch(unit, app.id, conv, user_id, access, body.notify)

    return _membership(ctx, session, conversation_id, user_id, plan)


def delete_participant(
    ctx: Context, session: Session, conversation_id: str, user_id: str
) -> dict[str, Any]:
    """Leave (the session's own user), or remove someone else (moderators only)."""

    def plan(unit: Unit, app: App, conv: Conversation) -> Plan:
        return participants.plan_remove(unit, app.id, conv, user_id)

    return _membership(ctx, session, conversation_id, user_id, plan)


# -- conversations --------------------------------------------------------------------------


def put_conversation(
    ctx: Context, session: Session, conversation_id: str, body: ConversationPut
) -> dict[str, Any]:
    """Create a conversation (the session's user becomes its creator, who may join it), or
    change an existing one's attributes and add participants, as its ReadWrite participants
    may."""
    with ctx.write() as unit:
        app = load_app(unit.tx, session.app_id)
        rules.check_browser_sync(app.settings.allowConversationSyncViaBrowser, "conversation")
        existing = conv_store.get_conversation(unit.tx, app.id, conversation_id, lock=True)
        actor = actor_in(unit, app, existing, session.user_id)
        attributes = set(body.given()) - {"participants"}
        refused = permissions.decide_attributes(
            actor,
            attributes,
            existing is not None,
            existing.guest_access_set_by if existing else None,
        )
        if refused is not None:
            raise refused.error()
        wanted = list(dict.fromkeys(body.participants or []))
        if existing is not None:
            for user_id in wanted:
                _check_target_visible(actor, user_id)
        joins = _check_joins(unit, app, existing, conversation_id, actor, wanted)
        plain = ConversationPut.model_validate(
            {k: v for k, v in body.given().items() if k != "participants"}
        )
        conv = conversations.put_in(unit, app.id, conversation_id, existing, plain, actor.authority)
        for user_id in joins:
            plan = participants.plan_put(unit, app.id, conv, user_id, None, None)
            participants.apply(unit, app.id, conv, plan, actor.authority)
    return {"created": existing is None}


def _check_joins(
    unit: Unit,
    app: App,
    existing: Conversation | None,
    conversation_id: str,
    actor: Actor,
    wanted: list[str],
) -> list[str]:
    """The users of a conversation PUT's ``participants`` who would join, each checked as its
    own ``setParticipant`` (existing memberships stay as they are)."""
    participants.require_users(unit, app.id, wanted)
    joins: list[str] = []
    members: list[str] = []
    if existing is not None:
        members = part_store.lifetime_ids(unit.tx, app.id, existing.id)
    for user_id in wanted:
        old = None
        restricted = False
        if existing is not None:
            old = part_store.get_participant(unit.tx, app.id, existing.id, user_id)
            if old is not None and old.member:
                continue
            target = _target(unit, app.id, existing, user_id)
            restricted = target.restricted
        pair = permissions.pair_of(conversation_id, user_id, members + joins)
        plan = Plan(
            user_id,
            old,
            rules.grant(old.membership if old else None, Access.READ_WRITE, 0),
            True,
        )
        permissions.check(
            actor,
            Target(user_id, restricted, pair),
            changes_of(plan),
            app.settings.browser_sync,
        )
        joins.append(user_id)
    return joins


# -- users ----------------------------------------------------------------------------------


def sync_user(ctx: Context, session: Session, user_id: str, body: UserPut) -> dict[str, Any]:
    """Create a user who does not exist yet, or update the session's own user; never someone
    else's existing record, and never a role. The reply is the user as stored (private fields
    only for the session's own user) and ``ignoredFields``: what was sent and left as it is."""
    given = body.given()
    with ctx.write() as unit:
        app = load_app(unit.tx, session.app_id)
        rules.check_browser_sync(app.settings.allowUserSyncViaBrowser, "user")
        before = user_store.get_user(unit.tx, app.id, user_id)
        allowed = permissions.user_fields(session.user_id, user_id, before is not None, set(given))
        if allowed or before is None:
            subset = parse(UserPut, {k: v for k, v in given.items() if k in allowed})
            after = users.put_in(unit, app.id, user_id, subset)
            changed = [f for f in CONTACT_FIELDS if _contact(before, f) != _contact(after, f)]
            if changed:
                unit.emit(
                    Event(
                        "user.contact_changed",
                        app.id,
                        {"userId": user_id, "fields": changed, "created": before is None},
                    )
                )
    data = browser.get_user(ctx, session, user_id)
    data["ignoredFields"] = sorted(set(given) - allowed)
    return data


def _contact(user: Any, field: str) -> list[str] | None:
    value: list[str] | None = getattr(user, field, None) if user is not None else None
    return value
