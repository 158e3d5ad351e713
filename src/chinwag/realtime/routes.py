"""Socket requests: paths mirroring the REST resources, each parsed, then one service call.

Every handler gets the call (context, hub, connection, path parameters, data) and returns the
reply body; the subscribe handler also returns what to do once its reply is queued.
docs/protocol.md lists every path.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import Field, StringConstraints

from chinwag import ids
from chinwag.domain import limits as L
from chinwag.domain.access import GuestAccess
from chinwag.domain.moderation import RestrictionKind
from chinwag.errors import ChinwagError, NotFound
from chinwag.realtime import offload, wire
from chinwag.realtime.connection import Connection
from chinwag.realtime.hub import Hub
from chinwag.schemas import (
    ConversationPut,
    Id,
    InviteIn,
    KickIn,
    MessageEdit,
    ParticipantPatch,
    ParticipantPut,
    RestrictionPut,
    Strict,
    UserPut,
    parse,
)
from chinwag.serialize import invite_json
from chinwag.services import browser, moderators, roster, sessions, sync
from chinwag.services.context import Context


class SubscribeIn(Strict):
    asGuest: bool = False
    #: An invite link's token (services/moderation.py): admits this guest even when the
    #: conversation's guestAccess is None.
    invite: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    after: Annotated[int, Field(ge=0)] | None = None


class PageIn(Strict):
    limit: Annotated[int, Field(ge=1, le=L.MAX_PAGE)] = 30
    before: Id | None = None


class InboxIn(Strict):
    limit: Annotated[int, Field(ge=1, le=L.MAX_PAGE)] = 30
    startingAfter: Id | None = None
    unreadsOnly: bool = False


class TypingIn(Strict):
    isTyping: bool = True


class Empty(Strict):
    pass


@dataclass
class Call:
    ctx: Context
    hub: Hub
    conn: Connection
    params: dict[str, str]
    data: Any
    max_watches: int = 200

    @property
    def session(self) -> sessions.Session:
        return self.conn.session

    def body(self, schema: Any) -> Any:
        return parse(schema, {} if self.data is None else self.data)

    @property
    def acting(self) -> Context:
        """The context acting as the session's user (for the audit log)."""
        return self.ctx.acting(f"user:{self.session.user_id}")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """One service call off the loop, acting as the session's user."""
        return await offload.call(fn, self.acting, self.session, *args)

    async def queue(self, fn: Callable[..., None], *args: Any) -> Any:
        """A grouped write handed to the committers without a worker thread waiting on it:
        ``fn(ctx, session, *args, then)`` queues it, ``then`` wakes this call on the loop."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if done.cancelled():  # the connection closed while the write was queued
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        def then(result: Any, error: BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                loop.call_soon_threadsafe(settle, result, error)

        fn(self.acting, self.session, *args, then)
        return await done


Result = tuple[Any, Callable[[], None] | None]
Handler = Callable[[Call], Awaitable[Result]]
_ROUTES: list[tuple[str, str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, pattern, regex, fn))
        return fn

    return register


#: Path parameters that name an integrator's id: they obey the REST id rules (ids.check_id), so
#: a socket never creates a user or conversation the backend could not read or delete.
_ID_PARAMS = {"userId": "user id", "conversationId": "conversation id"}


def resolve(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    known_path = False
    for m, _, regex, fn in _ROUTES:
        match = regex.match(path)
        if match:
            known_path = True
            if m == method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                for key, what in _ID_PARAMS.items():
                    if key in params:
                        ids.check_id(params[key], what)
                return fn, params
    what = f"no {method} on this path" if known_path else "no such path"
    raise NotFound(f"{what}: {path[:200]}")


def paths() -> list[tuple[str, str]]:
    """(method, pattern) of every route, for the docs test."""
    return [(m, pattern) for m, pattern, _, _ in _ROUTES]


# -- session and users -------------------------------------------------------------------------


@route("GET", "ping")
async def ping(call: Call) -> Result:
    return {}, None


@route("GET", "me")
async def get_me(call: Call) -> Result:
    return await call.run(browser.get_user, call.session.user_id), None


@route("PUT", "me")
async def put_me(call: Call) -> Result:
    return await call.run(sync.sync_user, call.session.user_id, call.body(UserPut)), None


@route("GET", "users/{userId}")
async def get_user(call: Call) -> Result:
    return await call.run(browser.get_user, call.params["userId"]), None


@route("PUT", "users/{userId}")
async def put_user(call: Call) -> Result:
    return await call.run(sync.sync_user, call.params["userId"], call.body(UserPut)), None


# -- the session's conversations --------------------------------------------------------------


@route("GET", "me/conversations")
async def my_conversations(call: Call) -> Result:
    q = call.body(InboxIn)
    data = await call.run(browser.my_conversations, q.limit, q.startingAfter, q.unreadsOnly)
    return {"data": data}, None


@route("GET", "me/conversations/{conversationId}")
async def get_conversation(call: Call) -> Result:
    return await call.run(browser.get_conversation, call.params["conversationId"]), None


@route("SUBSCRIBE", "me/conversations/{conversationId}")
async def subscribe(call: Call) -> Result:
    """Watch a conversation (as a guest with ``asGuest``); ``after`` resumes from a position."""
    q = call.body(SubscribeIn)
    cid = call.params["conversationId"]
    guest = sessions.GuestPass(q.invite) if q.asGuest else None
    if cid not in call.conn.watches and len(call.conn.watches) >= call.max_watches:
        raise ChinwagError(
            f"a connection may watch at most {call.max_watches} conversations; unsubscribe first",
            code="TOO_MANY_SUBSCRIPTIONS",
        )
    w = await call.hub.watch(call.conn, cid)
    w.guest = guest
    try:
        sel = await call.run(sessions.select, cid, guest, q.after)
    except BaseException:
        call.hub.unwatch(call.conn, cid)
        raise
    events = None if sel.events is None else [wire.client_event(e) for e in sel.events]

    def activate() -> None:
        call.hub.activate(w, sel.view.kind, sel.view.live, sel.position, sel.guest_access)

    return sel.to_json(events), activate


@route("UNSUBSCRIBE", "me/conversations/{conversationId}")
async def unsubscribe(call: Call) -> Result:
    call.hub.unwatch(call.conn, call.params["conversationId"])
    return {}, None


@route("GET", "me/conversations/{conversationId}/guests")
async def guest_count(call: Call) -> Result:
    """How many guests watch, on every node (participants only; never who)."""
    cid = call.params["conversationId"]
    call.body(Empty)
    await call.run(roster.check_may_count, cid)
    roster_ = call.hub.roster
    count = 0 if roster_ is None else await roster_.count(call.session.app_id, cid)
    return {"count": count}, None


@route("GET", "me/conversations/{conversationId}/messages")
async def history(call: Call) -> Result:
    q = call.body(PageIn)
    cid = call.params["conversationId"]
    data = await call.run(browser.history, cid, call.conn.guest_pass(cid), q.limit, q.before)
    return {"data": data}, None


async def _send(call: Call) -> Result:
    cid = call.params["conversationId"]
    body = call.body(browser.BrowserMessage)
    return await call.queue(browser.send_queued, cid, call.conn.guest_pass(cid), body), None


route("POST", "me/conversations/{conversationId}/messages")(_send)
route("POST", "conversations/{conversationId}/messages")(_send)


@route("POST", "me/conversations/{conversationId}/read")
async def mark_read(call: Call) -> Result:
    call.body(Empty)
    return await call.run(browser.mark_read, call.params["conversationId"]), None


@route("POST", "me/conversations/{conversationId}/typing")
async def typing(call: Call) -> Result:
    cid = call.params["conversationId"]
    q = call.body(TypingIn)
    return await call.run(browser.typing, cid, call.conn.guest_pass(cid), q.isTyping), None


# -- conversations, participants and messages (mirroring REST) ---------------------------------


@route("PUT", "conversations/{conversationId}")
async def put_conversation(call: Call) -> Result:
    body = call.body(ConversationPut)
    return await call.run(sync.put_conversation, call.params["conversationId"], body), None


@route("PUT", "conversations/{conversationId}/participants/{userId}")
async def put_participant(call: Call) -> Result:
    p = call.params
    body = call.body(ParticipantPut)
    return await call.run(sync.put_participant, p["conversationId"], p["userId"], body), None


@route("PATCH", "conversations/{conversationId}/participants/{userId}")
async def patch_participant(call: Call) -> Result:
    p = call.params
    body = call.body(ParticipantPatch)
    return await call.run(sync.patch_participant, p["conversationId"], p["userId"], body), None


@route("DELETE", "conversations/{conversationId}/participants/{userId}")
async def delete_participant(call: Call) -> Result:
    p = call.params
    call.body(Empty)
    return await call.run(sync.delete_participant, p["conversationId"], p["userId"]), None


@route("PATCH", "conversations/{conversationId}/messages/{messageId}")
async def edit_message(call: Call) -> Result:
    p = call.params
    body = call.body(MessageEdit)
    return await call.run(browser.edit, p["conversationId"], p["messageId"], body), None


@route("DELETE", "conversations/{conversationId}/messages/{messageId}")
async def delete_message(call: Call) -> Result:
    p = call.params
    call.body(Empty)
    return await call.run(browser.delete, p["conversationId"], p["messageId"]), None


async def _react(call: Call, on: bool) -> Result:
    p = call.params
    call.body(Empty)
    cid = p["conversationId"]
    await call.run(browser.react, cid, call.conn.guest_pass(cid), p["messageId"], p["emoji"], on)
    return {}, None


@route("PUT", "conversations/{conversationId}/messages/{messageId}/reactions/{emoji}")
async def add_reaction(call: Call) -> Result:
    return await _react(call, True)


@route("DELETE", "conversations/{conversationId}/messages/{messageId}/reactions/{emoji}")
async def remove_reaction(call: Call) -> Result:
    return await _react(call, False)


# -- guest moderation, for participants whose role allows it (services/moderators.py) ----------


def _kind(call: Call) -> RestrictionKind:
    kind = call.params["kind"]
    if kind not in ("ban", "mute"):
        raise NotFound(f"no such path: guests/{{userId}}/{kind[:20]}")
    return RestrictionKind(kind)


@route("POST", "conversations/{conversationId}/guests/{userId}/kick")
async def kick_guest(call: Call) -> Result:
    p = call.params
    body = call.body(KickIn)
    await call.run(moderators.kick, p["conversationId"], p["userId"], body.reason)
    return {}, None


@route("PUT", "conversations/{conversationId}/guests/{userId}/{kind}")
async def restrict_guest(call: Call) -> Result:
    p, kind = call.params, _kind(call)
    b = call.body(RestrictionPut)
    args = (p["conversationId"], p["userId"], kind, b.durationSeconds, b.reason)
    return await call.run(moderators.restrict, *args), None


@route("DELETE", "conversations/{conversationId}/guests/{userId}/{kind}")
async def lift_guest_restriction(call: Call) -> Result:
    p, kind = call.params, _kind(call)
    call.body(Empty)
    await call.run(moderators.lift, p["conversationId"], p["userId"], kind)
    return {}, None


@route("POST", "conversations/{conversationId}/invites")
async def create_invite(call: Call) -> Result:
    b = call.body(InviteIn)
    cid = call.params["conversationId"]
    minted = await call.run(
        moderators.create_invite, cid, GuestAccess(b.access), b.expiresInSeconds
    )
    return {**invite_json(minted.invite), "token": minted.token}, None


@route("DELETE", "conversations/{conversationId}/invites/{inviteId}")
async def revoke_invite(call: Call) -> Result:
    p = call.params
    call.body(Empty)
    await call.run(moderators.revoke_invite, p["conversationId"], p["inviteId"])
    return {}, None
