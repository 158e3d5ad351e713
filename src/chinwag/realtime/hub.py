"""This node's connections and the conversations they watch.

The hub holds one bus subscription per watched conversation (a "room") and one per app with
connected sessions, however many sockets watch. A bus message is decoded once per node and its
event text handed, untouched, to every watcher's send queue: fan-out never awaits a socket.

Positions: each live watch remembers the last position it was sent. An event at or below it is a
duplicate and skipped; an event beyond the next one means a gap (a lost or reordered bus message),
and the room catches up once from the database (:func:`services.sessions.changes_since`) for all
its watchers, holding newer events back meanwhile, so each watcher gets every change once, in order.

Access: a membership event for a watcher's user goes through the one access check
(:func:`domain.access.participant_view`); a participant whose access becomes ``None`` or who is
removed is sent that event and then nothing more of the conversation until access returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from chinwag.domain import access as rules
from chinwag.domain.access import GuestAccess, View
from chinwag.domain.moderation import invite_id_of
from chinwag.domain.settings import AppSettings
from chinwag.errors import ChinwagError
from chinwag.realtime import protocol, wire
from chinwag.realtime.bus import Bus
from chinwag.realtime.connection import Connection, Watch
from chinwag.realtime.roster import Roster
from chinwag.realtime.wire import Header
from chinwag.services.events import Event
from chinwag.services.sessions import GuestPass
from chinwag.stats import LATENCY_BUCKETS, Histogram, Tally

log = logging.getLogger(__name__)

#: Runs a blocking catch-up query off the loop: (app_id, conversation_id, after) ->
#: (events, position) or None when the watchers must resync instead.
CatchUp = Callable[[str, str, int], Awaitable[tuple[list[Event], int] | None]]

#: Asks the database, off the loop, what each watcher of a conversation may do now:
#: (app_id, conversation_id, [(user_id, guest pass)]) -> (the app's settings, one outcome per
#: watcher: its view, or the error that refuses it). Used when the bus comes back after an
#: outage, during which the changes of other nodes never reached this one.
Recheck = Callable[
    [str, str, list[tuple[str, GuestPass | None]]],
    Awaitable[tuple[AppSettings, list[View | ChinwagError]]],
]


#: Moderation events (services/moderation.py) that unlink the guest they name, on every node.
GUEST_REMOVALS = frozenset({"guest.kicked", "guest.banned"})
#: Events about who watches as a guest: participants get them, a guest only those about itself.
ABOUT_GUESTS = frozenset(
    {
        "guests.changed",
        "guest.kicked",
        "guest.banned",
        "guest.unbanned",
        "guest.muted",
        "guest.unmuted",
    }
)


def _removal_error(kind: str) -> ChinwagError:
    if kind == "guest.banned":
        return ChinwagError("a moderator banned this user as a guest", code="GUEST_BANNED")
    return ChinwagError("a moderator removed this guest", code="GUEST_KICKED")


@dataclass(eq=False)
class Room:
    app_id: str
    conversation_id: str
    channel: str
    watches: dict[Connection, Watch] = field(default_factory=dict)
    ready: asyncio.Future[None] | None = None
    # While catching up, positioned events wait here, in arrival order.
    held: list[tuple[Header, str]] | None = None
    # Bus messages waiting for the next fan-out pass (Hub._deliver).
    incoming: list[tuple[Header, str]] | None = None


class Hub:
    def __init__(self, bus: Bus, catch_up: CatchUp, recheck: Recheck | None = None) -> None:
        self.bus = bus
        self._catch_up = catch_up
        self._recheck = recheck
        self.rooms: dict[str, Room] = {}
        self.users: dict[tuple[str, str], set[Connection]] = {}
        self._apps: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: The live guest roster (realtime/roster.py), told when guest watches start and end.
        self.roster: Roster | None = None
        # What /metrics reads (web/metrics.py); counted on the loop, as the work happens.
        #: Events written (or queued) to a socket.
        self.deliveries = 0
        #: Seconds from an event's publish (after its commit, on whichever node) to the end of
        #: this node's fan-out pass that sent it.
        self.publish_latency = Histogram(LATENCY_BUCKETS)
        #: Resync events sent, by reason (``SLOW_CONSUMER``: a send queue overflowed).
        self.resyncs = Tally()
        #: Times the bus came back after losing messages (every room then catches up).
        self.bus_reconnects = 0

    # -- connections -----------------------------------------------------------------------

    def connections_of(self, app_id: str, user_id: str) -> set[Connection]:
        return self.users.get((app_id, user_id), set())

    async def add(self, conn: Connection) -> None:
        app_id = conn.session.app_id
        self.users.setdefault((app_id, conn.user_id), set()).add(conn)
        self._apps[app_id] = self._apps.get(app_id, 0) + 1
        if self._apps[app_id] == 1:
            await self.bus.subscribe(wire.app_channel(app_id))

    def remove(self, conn: Connection) -> None:
        """The socket closed: stop every watch (guests leave no trace) and forget it."""
        conn.stop()
        for cid in list(conn.watches):
            self.unwatch(conn, cid)
        app_id = conn.session.app_id
        key = (app_id, conn.user_id)
        conns = self.users.get(key)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.users[key]
        self._apps[app_id] -= 1
        if self._apps[app_id] == 0:
            del self._apps[app_id]
            self._spawn(self._unsubscribe_if_idle(wire.app_channel(app_id), app_id=app_id))

    # -- watching --------------------------------------------------------------------------

    async def watch(self, conn: Connection, conversation_id: str) -> Watch:
        """Start watching (events are held until :meth:`activate`); subscribed on return."""
        if conversation_id in conn.watches:
            self.unwatch(conn, conversation_id)
        app_id = conn.session.app_id
        channel = wire.conversation_channel(app_id, conversation_id)
        room = self.rooms.get(channel)
        if room is None:
            room = self.rooms[channel] = Room(app_id, conversation_id, channel)
            room.ready = asyncio.get_running_loop().create_future()
            try:
                await self.bus.subscribe(channel)
            finally:
                room.ready.set_result(None)
        elif room.ready is not None and not room.ready.done():
            await asyncio.shield(room.ready)
        w = Watch(conn, app_id, conversation_id)
        if conn.closed:  # the socket closed while we subscribed: leave no watch behind
            if not room.watches and self.rooms.get(channel) is room:
                del self.rooms[channel]
                self._spawn(self._unsubscribe_if_idle(channel))
            return w
        room.watches[conn] = w
        conn.watches[conversation_id] = w
        return w

    def activate(
        self, w: Watch, kind: str, live: bool, position: int, guest_access: GuestAccess | None
    ) -> None:
        """The watch's selection is answered: replay what arrived meanwhile, after ``position``."""
        w.kind, w.live, w.position, w.guest_access = kind, live, position, guest_access
        held, w.pending = w.pending or [], None
        room = self.rooms.get(wire.conversation_channel(w.app_id, w.conversation_id))
        if room is None or room.watches.get(w.conn) is not w:
            return
        if kind == "guest" and live and self.roster is not None:
            self.roster.join(w)
        for header, text in held:
            assert isinstance(header, Header)
            self._to_watch(room, w, header, text)

    def unwatch(self, conn: Connection, conversation_id: str) -> None:
        w = conn.watches.pop(conversation_id, None)
        if w is None:
            return
        if self.roster is not None:
            self.roster.leave(w)
        channel = wire.conversation_channel(w.app_id, conversation_id)
        room = self.rooms.get(channel)
        if room is None:
            return
        room.watches.pop(conn, None)
        if not room.watches:
            del self.rooms[channel]
            self._spawn(self._unsubscribe_if_idle(channel))

    async def _unsubscribe_if_idle(self, channel: str, app_id: str | None = None) -> None:
        """Leave a channel nobody here needs any more, unless someone came back meanwhile (the
        bus runs subscribe and unsubscribe in the order asked, so a later subscribe wins)."""
        still_needed = app_id in self._apps if app_id is not None else channel in self.rooms
        if not still_needed:
            await self.bus.unsubscribe(channel)

    def is_viewing(self, app_id: str, user_id: str, conversation_id: str) -> bool:
        """Whether one of the user's connections on this node watches the conversation live.

        Safe from other threads (the notification worker asks): it only reads, and retries if
        the loop changed the sets meanwhile."""
        for _ in range(5):
            try:
                conns = list(self.users.get((app_id, user_id), ()))
                return any(
                    (w := c.watches.get(conversation_id)) is not None
                    and w.live
                    and w.kind != "guest"
                    for c in conns
                )
            except RuntimeError:  # changed size during iteration
                continue
        return False

    # -- delivery --------------------------------------------------------------------------

    def on_message(self, channel: str, payload: str) -> None:
        """A bus message: decode its header once, then route the untouched event text."""
        try:
            header, text = wire.decode(payload)
        except (ValueError, KeyError):
            log.warning("hub: dropped an unreadable bus message on %s", channel)
            return
        room = self.rooms.get(channel)
        if room is not None:
            if room.incoming is None:
                room.incoming = []
                asyncio.get_running_loop().call_soon(self._deliver, room)
            room.incoming.append((header, text))
            return
        app_id = channel[: -len(":app")] if channel.endswith(":app") else None
        if app_id is not None:
            self._to_app(app_id, header, text)

    def _deliver(self, room: Room) -> None:
        """Fan out what arrived for a room since the last pass. One event is pushed as it is;
        several (the node fell behind: they queued while a pass ran) leave as one PUBLISH frame
        per connection, so a busy node writes once per socket per pass, not once per event."""
        incoming, room.incoming = room.incoming or [], None
        if len(incoming) == 1:
            self._to_room(room, *incoming[0])
        else:
            with Connection.corked():
                for header, text in incoming:
                    self._to_room(room, header, text)
        now = time.time()  # wall time: the publish may have been another node's
        for header, _ in incoming:
            if header.sent_at is not None:
                self.publish_latency.observe(max(0.0, now - header.sent_at))

    def _to_room(self, room: Room, header: Header, text: str) -> None:
        if header.type in wire.FOR_HUBS_ONLY:
            self._invite_revoked(room, header)
            return
        if header.position is not None and room.held is not None:
            room.held.append((header, text))
            return
        if header.type in ABOUT_GUESTS:
            # Guests skip these (unless about themselves): in a super group that is nearly
            # every watch, so leave them out here rather than one call each.
            users = header.users
            watches = [
                w for w in room.watches.values() if w.kind != "guest" or w.conn.user_id in users
            ]
        else:
            watches = list(room.watches.values())
        for w in watches:
            self._to_watch(room, w, header, text)
        if header.type == "conversation.deleted":
            for conn in list(room.watches):
                self.unwatch(conn, room.conversation_id)

    def _to_watch(self, room: Room, w: Watch, header: Header, text: str) -> None:
        if w.pending is not None:
            if len(w.pending) >= w.conn.queue_limit:  # set-up outlasted a flood: resync
                self.resync(w.conn)
                return
            w.pending.append((header, text))
            return
        p = header.position
        mine = w.conn.user_id in header.users
        if w.kind == "guest" and header.type in ABOUT_GUESTS and not mine:
            return  # a guest never learns who else watches (realtime/roster.py)
        if not w.live:
            # A former participant hears only about their own membership (regaining access).
            if mine and header.membership is not None:
                view = rules.participant_view(header.membership)
                w.conn.push(text)
                self.deliveries += 1
                if view.live:
                    w.kind, w.live = view.kind, True
                    w.position = max(w.position, p or 0)
            return
        if p is not None:
            if p <= w.position:
                return
            if p > w.position + 1:
                self._start_catch_up(room, header, text)
                return
            w.position = p
        w.conn.push(text)
        self.deliveries += 1
        self._react(w, header)

    def _react(self, w: Watch, header: Header) -> None:
        """What an event just sent to a watcher changes about its watch (live or caught up)."""
        mine = w.conn.user_id in header.users
        if mine and w.kind == "guest" and header.type in GUEST_REMOVALS:
            self._end(w, _removal_error(header.type))
        elif mine and header.membership is not None:
            self._membership_changed(w, header)
        elif header.type == "conversation.updated" and header.guest_access is not None:
            w.guest_access = header.guest_access
            if w.kind == "guest":
                self._recheck_guest(w)

    def _membership_changed(self, w: Watch, header: Header) -> None:
        assert header.membership is not None
        if w.kind == "guest" and not header.membership.member:
            return  # a former member watching as a guest: still a guest
        view = rules.participant_view(header.membership)
        w.kind, w.live = view.kind, view.live
        if self.roster is not None:
            self.roster.leave(w)  # a guest made a participant leaves the roster

    def _invite_revoked(self, room: Room, header: Header) -> None:
        """Unlink the guests the revoked invite admitted (on this node; every node does)."""
        if header.invite is None:
            return
        for w in list(room.watches.values()):
            token = w.guest.invite if w.guest is not None else None
            if w.kind == "guest" and token is not None and invite_id_of(token) == header.invite:
                self._end(w, ChinwagError("the invite link was revoked", code="INVITE_INVALID"))

    def _recheck_guest(self, w: Watch) -> None:
        assert w.guest_access is not None
        # An invite link opens the conversation whatever its policy (domain.moderation).
        invited = w.guest is not None and w.guest.invite is not None
        policy = GuestAccess.READ if invited else w.guest_access
        try:
            rules.guest_view(w.conn.session.settings.browser_sync, policy, None)
        except ChinwagError as exc:
            self._end(w, exc)

    def _end(self, w: Watch, exc: ChinwagError) -> None:
        """Stop a watch the rules no longer allow, and say why."""
        w.conn.push(
            protocol.encode_event(
                {
                    "type": "subscription.ended",
                    "conversationId": w.conversation_id,
                    "position": w.position,
                    **exc.to_body(),
                }
            ),
            force=True,
        )
        self.unwatch(w.conn, w.conversation_id)

    def _to_app(self, app_id: str, header: Header, text: str) -> None:
        if header.type == "settings.updated":
            self._settings_changed(app_id, text)
            return
        # A membership event for users not watching that conversation on this node.
        cid = header.conversation_id
        for user_id in header.users:
            for conn in self.connections_of(app_id, user_id):
                if cid is not None and cid not in conn.watches:
                    conn.push(text)

    def _settings_changed(self, app_id: str, text: str) -> None:
        self._apply_settings(app_id, AppSettings.from_json(json.loads(text)))

    def _apply_settings(self, app_id: str, settings: AppSettings) -> None:
        for (conn_app, _), conns in list(self.users.items()):
            if conn_app != app_id:
                continue
            for conn in list(conns):
                conn.session = replace(conn.session, settings=settings)
                for w in list(conn.watches.values()):
                    if w.kind == "guest" and w.guest_access is not None:
                        self._recheck_guest(w)

    # -- catching up -----------------------------------------------------------------------

    def _start_catch_up(self, room: Room, header: Header, text: str) -> None:
        if room.held is None:
            room.held = []
            self._spawn(self._run_catch_up(room))
        room.held.append((header, text))

    async def _run_catch_up(self, room: Room, recheck: bool = False) -> None:
        """Replay from the database what the room's live watchers missed, holding newer events
        back meanwhile. With ``recheck`` (the bus is back after an outage), every watch is first
        checked against the database, so nothing more reaches a watcher the rules no longer
        allow; the replayed events then tell the others what changed."""
        outcomes = await self._recheck_room(room) if recheck else {}
        live = [w for w in room.watches.values() if w.live and w.pending is None]
        after = min((w.position for w in live), default=0)
        try:
            found = await self._catch_up(room.app_id, room.conversation_id, after)
        except Exception:  # pragma: no cover - the database is down: make everyone resync
            log.exception("hub: catch-up failed for %s", room.channel)
            found = None
        held, room.held = room.held or [], None
        if found is None:
            for w in live:
                self.resync(w.conn, reason="CATCH_UP_TOO_LARGE")
            return
        events, position = found
        for event in events:
            header, text = wire.encode(event)
            for w in list(room.watches.values()):
                if w.pending is None and w.live and (header.position or 0) > w.position:
                    w.position = header.position or w.position
                    w.conn.push(text)
                    self.deliveries += 1
                    self._react(w, header)
        for w in list(room.watches.values()):
            if w.pending is None and w.live:
                w.position = max(w.position, position)
                view = outcomes.get(w)
                if view is not None and not view.live:
                    # The database says so, though no replayed event did: stop here.
                    withdrawn = "access to this conversation was withdrawn"
                    self._end(w, ChinwagError(withdrawn, code="NOT_A_PARTICIPANT"))
        for header, text in held:
            self._to_room(room, header, text)

    async def _recheck_room(self, room: Room) -> dict[Watch, View]:
        """Check every settled watch of the room against the database now: a guest the rules no
        longer admit (a ban, the guest policy or the app's settings changed) is unlinked before
        anything more is sent; the views of the others are returned."""
        watches = [w for w in room.watches.values() if w.pending is None and w.live]
        if self._recheck is None or not watches:
            return {}
        asked = [(w.conn.user_id, w.guest if w.kind == "guest" else None) for w in watches]
        try:
            settings, outcomes = await self._recheck(room.app_id, room.conversation_id, asked)
        except Exception:  # pragma: no cover - the database is down: make everyone resync
            log.exception("hub: re-checking %s failed", room.channel)
            for w in watches:
                self.resync(w.conn, reason="CATCH_UP_TOO_LARGE")
            return {}
        self._apply_settings(room.app_id, settings)
        views: dict[Watch, View] = {}
        for w, outcome in zip(watches, outcomes, strict=True):
            if room.watches.get(w.conn) is not w:
                continue  # it ended meanwhile
            if isinstance(outcome, ChinwagError):
                self._end(w, outcome)
            else:
                views[w] = outcome
        return views

    def on_lost(self) -> None:
        """The bus lost messages (it reconnected after an outage): every room re-checks its
        watchers against the database and catches up from it before delivering more."""
        self.bus_reconnects += 1
        for room in list(self.rooms.values()):
            if room.held is None:
                room.held = []
                self._spawn(self._run_catch_up(room, recheck=True))

    def resync(self, conn: Connection, reason: str = "SLOW_CONSUMER") -> None:
        """The overflow policy: drop the connection's watches and tell it where it stood."""
        self.resyncs.add(reason)
        positions = {cid: w.position for cid, w in conn.watches.items() if w.pending is None}
        for cid in list(conn.watches):
            self.unwatch(conn, cid)
        conn.push(
            protocol.encode_event({"type": "resync", "reason": reason, "positions": positions}),
            force=True,
        )

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
