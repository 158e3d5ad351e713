// One selected conversation as the UI sees it: the conversation, what the current user may do in
// it, its messages (oldest first), who is typing, and live updates. Shared by every box showing it.

import { Emitter } from "./emitter.js";
import { ChinwagError, report } from "./errors.js";

const PAGE = 30;
/** When guest access was switched off: look again after this long, doubling up to the max. */
const RETRY_FIRST = 5000;
const RETRY_MAX = 60000;
/** The longest message text the server takes, in characters (`domain/limits.py` MAX_TEXT). */
export const MAX_TEXT = 10000;
const TYPING_MS = 6000;

/** What the current user may do, from a selection's `access` (docs/protocol.md):
 * `{kind: "participant" | "former" | "guest", canWrite}`. */
export function viewOf({ kind, canWrite }) {
  const known = kind === "guest" || kind === "participant" ? kind : "former";
  return { kind: known, canWrite: known !== "former" && !!canWrite };
}

export class Feed extends Emitter {
  constructor(session, conversationId, asGuest) {
    super();
    this.session = session;
    this.id = conversationId;
    this.asGuest = !!asGuest;
    this.conversation = null;
    this.view = null;
    this.messages = [];
    this.hasMore = true;
    this.typing = new Map(); // userId -> timer
    this.users = 0;
    this.opened = null;
    this.loaded = false;
    this._subscribed = null;
    this.position = null; // the newest conversation position this feed has seen
    this.guestCount = 0; // how many guests watch (participants learn it; guests never do)
    // Messages known to be a guest's: live events say so (history does not record it), and a
    // guest's own messages sent from this page.
    this.guestIds = new Set();
    this._outboxSub = session._outbox.subscribe("change", (change) => this._onOutbox(change));
  }

  close() {
    this._outboxSub.unsubscribe();
  }

  /** The messages of this conversation the session is still sending (or failed to send), in
   * order: the outbox's entries, less those whose first attempt is already in `messages` (a
   * send whose reply was lost shows once, as the stored message, while its retry runs). */
  get pending() {
    const entries = this.session._outbox.forConversation(this.id);
    if (!entries.length) return entries;
    const me = this.session.me.id;
    const sent = this.session._outbox.sentIds;
    const claimed = new Set();
    return entries.filter((e) => {
      if (!e.attempted || e.state !== "sending") return true;
      const stored = this.messages.find((m) => m.senderId === me && !sent.has(m.id) && !claimed.has(m.id)
        && m.text === e.text && (m.position ?? 0) > (e.basePosition ?? 0));
      if (!stored) return true;
      claimed.add(stored.id);
      return false;
    });
  }

  /** The newest position shown, messages the outbox stored included. */
  get newestPosition() {
    let newest = this.position || 0;
    for (const m of this.messages) if (typeof m.position === "number" && m.position > newest) newest = m.position;
    return newest;
  }

  _onOutbox({ conversationId, entry, what, result }) {
    if (conversationId !== this.id) return;
    if (entry.basePosition === null || entry.basePosition === undefined) entry.basePosition = this.newestPosition;
    if (what === "sent" && this.loaded && result && result.id && !this.messages.some((m) => m.id === result.id)) {
      // Shown as stored at once; the message.created event (or a replay) brings the server's copy.
      if (this.asGuest) this.guestIds.add(result.id);
      const m = {
        id: result.id, conversationId: this.id, type: "UserMessage", senderId: this.session.me.id,
        text: entry.text, custom: entry.custom || {}, readBy: [], origin: "web",
        createdAt: Date.now(), editedAt: null, position: result.position, _local: true,
      };
      this.messages.push(m);
      this._sort();
      this.emit("change", { added: m });
      return;
    }
    this.emit("change", what === "added" ? { added: { senderId: this.session.me.id } } : {});
  }

  _sort() {
    this.messages.sort((a, b) => (a.position ?? a.createdAt) - (b.position ?? b.createdAt));
  }

  /** Follow the conversation (one SUBSCRIBE per conversation and connection). `after`: the
   * last position seen, to be sent what changed since (resume). */
  follow(after = null) {
    if (!this._subscribed) {
      const select = this.session._remote.select(this.id, this.asGuest, this.invite, after);
      this._subscribed = select.then((body) => {
        this.conversation = body.conversation || body;
        this.view = viewOf(body.access || {});
        this.ended = null;
        this.position = Math.max(this.position || 0, body.position || 0);
        // What changed before this subscription started is not pushed: bring the list level.
        if (!this.asGuest) this.session._conversations.refresh();
        if (this.view.kind === "participant") this._countGuests();
        return body;
      });
      this._subscribed.catch(() => { this._subscribed = null; });
    }
    return this._subscribed;
  }

  /** The guest count now; later changes come as `guests.changed` events. */
  _countGuests() {
    this.session._remote.guestCount(this.id).then(
      (r) => this._setGuests(r.count),
      () => {},
    );
  }

  _setGuests(count) {
    if (typeof count !== "number" || count === this.guestCount) return;
    this.guestCount = count;
    this.emit("guests", { count });
  }

  /** Follow it and load the newest messages (what a box needs to show it). */
  open() {
    if (!this.opened) {
      this.opened = this.follow().then(() => this._reload());
      this.opened.catch(() => { this.opened = null; });
    }
    return this.opened;
  }

  /** After a reconnect (or a resync): follow again, replaying what changed since the last
   * position seen; reload the newest page when the server cannot replay it all. */
  async resume() {
    const after = this.loaded ? this.position : null;
    this._subscribed = null;
    const body = await this.follow(after);
    if (!this.loaded) {
      this.emit("change", {});
    } else if (body.complete === false || after === null) {
      await this._reload();
    } else {
      for (const event of body.events || []) await this.apply({ conversationId: this.id, ...event });
      this.emit("change", {});
    }
  }

  /** Load the newest page again (after a reconnect, or when access comes back). */
  async _reload() {
    const page = await this.session._remote.history(this.id, PAGE);
    const data = page.data || page;
    this.messages = data.slice().reverse();
    this.hasMore = data.length >= PAGE;
    this.loaded = true;
    await this.session._users(this._userIds());
    this.emit("change", { reset: true });
  }

  async loadOlder() {
    if (!this.hasMore || this._loading || !this.messages.length) return false;
    this._loading = true;
    try {
      const page = await this.session._remote.history(this.id, PAGE, this.messages[0].id);
      const data = page.data || page;
      this.hasMore = data.length >= PAGE;
      const known = new Set(this.messages.map((m) => m.id));
      this.messages = data.filter((m) => !known.has(m.id)).reverse().concat(this.messages);
      await this.session._users(this._userIds());
      this.emit("change", { older: true });
      return data.length > 0;
    } finally {
      this._loading = false;
    }
  }

  _userIds() {
    const ids = new Set(Object.keys((this.conversation && this.conversation.participants) || {}));
    for (const m of this.messages) if (m.senderId) ids.add(m.senderId);
    return [...ids];
  }

  /** Apply a pushed event about this conversation. */
  async apply(event) {
    const me = this.session.me.id;
    if (typeof event.position === "number") this.position = Math.max(this.position || 0, event.position);
    switch (event.type) {
      case "message.created": {
        const m = event.message;
        if (!m) return;
        if (event.guest === true) this.guestIds.add(m.id);
        const known = this.messages.findIndex((x) => x.id === m.id);
        if (known >= 0) {
          // The server's copy of a message the outbox showed as soon as it was stored.
          if (this.messages[known]._local) {
            this.messages[known] = m;
            this.emit("change", {});
          }
          return;
        }
        if (this.view && this.view.kind === "former") return; // frozen history
        if (this.conversation) this.conversation.lastMessage = m;
        if (!this.loaded) return; // followed for the conversation list only
        if (m.senderId) await this.session._users([m.senderId]);
        this.messages.push(m);
        this._sort();
        this._stopTyping(m.senderId);
        this.emit("change", { added: m });
        return;
      }
      case "message.edited": {
        const m = event.message;
        const i = this.messages.findIndex((x) => x.id === (m && m.id));
        if (i >= 0) this.messages[i] = { ...this.messages[i], ...m };
        this.emit("change", {});
        return;
      }
      case "reaction.added":
      case "reaction.removed": {
        const m = this.messages.find((x) => x.id === event.messageId);
        if (!m || !event.emoji) return;
        m.reactions = countReaction(m.reactions || [], event.emoji, event.type === "reaction.added", event.userId === me);
        this.emit("change", {});
        return;
      }
      case "message.deleted": {
        const id = event.messageId || (event.message && event.message.id);
        this.messages = this.messages.filter((x) => x.id !== id);
        this.emit("change", {});
        return;
      }
      case "conversation.updated": {
        if (event.conversation) this.conversation = { ...this.conversation, ...event.conversation };
        await this.session._users(this._userIds());
        this.emit("change", {});
        return;
      }
      case "conversation.read": {
        const { userId, readUntil } = event;
        if (!userId || readUntil === undefined) return;
        for (const m of this.messages) {
          if (m.position <= readUntil && m.senderId !== userId && !(m.readBy || []).includes(userId)) {
            m.readBy = [...(m.readBy || []), userId];
          }
        }
        this.emit("change", {});
        return;
      }
      case "participant.joined":
      case "participant.access_changed":
      case "participant.left": {
        const p = event.participant || {};
        const uid = p.userId || event.userId;
        if (this.conversation) {
          const participants = { ...(this.conversation.participants || {}) };
          if (p.isMember === false || p.access === "None") delete participants[uid];
          else participants[uid] = { access: p.access, notify: p.notify };
          this.conversation = { ...this.conversation, participants };
        }
        if (uid === me && this.view && this.view.kind !== "guest") {
          const was = this.view.kind;
          const access = p.isMember === false ? "None" : p.access;
          this.view = viewOf({ kind: access === "None" ? "former" : "participant", canWrite: access === "ReadWrite" });
          if (was === "former" && this.view.kind === "participant" && this.loaded) {
            // Access given back: the whole history again, including what was sent meanwhile.
            await this._reload().catch((e) => report(e, "reloading the conversation"));
            return;
          }
        }
        await this.session._users(this._userIds());
        this.emit("change", {});
        return;
      }
      case "typing":
      case "typing.changed":
      case "conversation.typing": {
        const uid = event.userId;
        if (!uid || uid === me) return;
        if (event.isTyping === false) this._stopTyping(uid);
        else {
          clearTimeout(this.typing.get(uid));
          this.typing.set(uid, setTimeout(() => this._stopTyping(uid), TYPING_MS));
          await this.session._users([uid]);
          this.emit("typing", {});
        }
        return;
      }
      case "conversation.deleted": {
        this.ended = { errorCode: "CONVERSATION_NOT_FOUND", reasons: ["this conversation was deleted"] };
        this._subscribed = null;
        this.opened = null;
        this.emit("ended", this.ended);
        return;
      }
      case "conversation.guest_access_changed":
      case "guest.muted":
      case "guest.unmuted": {
        if (!this.view || this.view.kind !== "guest") return;
        if (event.type !== "conversation.guest_access_changed" && event.userId !== me) return;
        if (event.type === "guest.muted") this.muted = true;
        if (event.type === "guest.unmuted") this.muted = false;
        if (event.type === "conversation.guest_access_changed" && this.conversation) {
          this.conversation = { ...this.conversation, guestAccess: event.to };
        }
        const policy = this.conversation && this.conversation.guestAccess;
        this.view = { ...this.view, canWrite: policy === "ReadWrite" && !this.muted };
        this.emit("change", {});
        return;
      }
      case "guests.changed": {
        this._setGuests(event.count);
        return;
      }
      case "subscription.ended": {
        // The rules no longer allow watching (e.g. guest access was switched off).
        this.ended = { errorCode: event.errorCode, reasons: event.reasons || [] };
        this._subscribed = null;
        this.opened = null;
        report(new ChinwagError(403, this.ended), `conversation ${JSON.stringify(this.id)} closed by the server`);
        this.emit("ended", this.ended);
        // Guest access switched off (the policy or the app's settings) may come back: look again
        // now and then, so the view returns without a reload. A kick or a ban is not retried.
        if (this.asGuest && event.errorCode === "GUEST_ACCESS_NOT_ALLOWED") this._retryLater(RETRY_FIRST);
        return;
      }
      default:
    }
  }

  _retryLater(delay) {
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(async () => {
      if (!this.ended || this.users <= 0 || !this.session.isAlive) return;
      try {
        await this.open();
        this.emit("change", { reset: true });
      } catch (error) {
        if (error && error.errorCode === "GUEST_ACCESS_NOT_ALLOWED") this._retryLater(Math.min(delay * 2, RETRY_MAX));
      }
    }, delay);
  }

  _stopTyping(uid) {
    if (!this.typing.has(uid)) return;
    clearTimeout(this.typing.get(uid));
    this.typing.delete(uid);
    this.emit("typing", {});
  }

  get typingUsers() {
    return [...this.typing.keys()];
  }

  send(text, custom, referencedMessageId = null) {
    this._typedAt = 0; // a sent message ends the typing; the next keystroke says so again
    return this.session._send(this.id, text, custom, this.newestPosition, referencedMessageId);
  }

  /** Add or take back the current user's reaction (the event updates the counts). */
  react(messageId, emoji, on) {
    return this.session._remote.react(this.id, messageId, emoji, on);
  }

  /** Load older pages until the message is here (for a reply's quote); whether it is. */
  async find(messageId, maxPages = 20) {
    for (let page = 0; page < maxPages; page += 1) {
      if (this.messages.some((m) => m.id === messageId)) return true;
      if (!(await this.loadOlder())) break;
    }
    return this.messages.some((m) => m.id === messageId);
  }

  retry(key) {
    return this.session._outbox.retry(key);
  }

  discard(key) {
    this.session._outbox.discard(key);
  }

  edit(messageId, text) {
    return this.session._remote.edit(this.id, messageId, { text });
  }

  remove(messageId) {
    return this.session._remote.remove(this.id, messageId);
  }

  markRead() {
    if (!this.view || this.view.kind !== "participant") return Promise.resolve();
    return this.session._remote.markRead(this.id).catch(() => {});
  }

  markTyping() {
    const now = Date.now();
    if (this._typedAt && now - this._typedAt < 3000) return;
    this._typedAt = now;
    this.session._remote.typing(this.id).catch(() => {});
  }
}

/** A message's reaction summary after one reaction was added or taken back. */
export function countReaction(reactions, emoji, added, byMe) {
  const out = reactions.map((r) => ({ ...r }));
  let entry = out.find((r) => r.emoji === emoji);
  if (!entry) {
    if (!added) return out;
    entry = { emoji, count: 0, currentUserReacted: false };
    out.push(entry);
  }
  entry.count = Math.max(0, entry.count + (added ? 1 : -1));
  if (byMe) entry.currentUserReacted = added;
  return out.filter((r) => r.count > 0);
}
