// `new Talk.Session({appId, me, signature, token, tokenFetcher, host})`: one realtime connection
// per session, the current user's conversations, and the factories of the UI boxes.

import { serverBase, socketBase } from "./host.js";
import { ChinwagError, ErrorCode, TalkError, isTransient, report } from "./errors.js";
import { Emitter } from "./emitter.js";
import { Connection } from "./connection.js";
import { Remote, normalizeEvent } from "./routes.js";
import { User } from "./user.js";
import { ConversationBuilder } from "./conversation.js";
import { Feed } from "./feed.js";
import { MyConversations, Unreads } from "./unreads.js";
import { DesktopNotifications } from "./notify.js";
import { Chatbox } from "./ui/chatbox.js";
import { Inbox } from "./ui/inbox.js";
import { Popup } from "./ui/popup.js";

export class Session extends Emitter {
  constructor(options) {
    super();
    if (!options || typeof options.appId !== "string" || !options.appId) {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, "new Talk.Session({appId, me}) needs appId: your app id from the Chinwag dashboard");
    }
    const me = options.me || (options.userId !== undefined ? new User(String(options.userId)) : null);
    if (!(me instanceof User)) {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, "new Talk.Session({appId, me}) needs me: a Talk.User (or userId: an existing user's id)");
    }
    this.appId = options.appId;
    this.me = me;
    this.currentUser = me;
    this.isAlive = true;
    this._signature = options.signature;
    this._token = options.token;
    this._tokenFetcher = options.tokenFetcher;
    this._base = serverBase(options.host);
    this._feeds = new Map(); // "id|guest" -> Feed
    this._userCache = new Map(); // id -> Promise<user snapshot>
    this._userSnapshots = new Map(); // id -> user snapshot, once loaded
    this._boxes = [];
    this._listed = new Set(); // conversations of the list followed in the background
    this._conversations = new MyConversations(this);
    this._conversations.subscribe("change", (list) => this._followList(list));
    this.unreads = new Unreads(this._conversations);
    this._connection = new Connection(() => this._socketUrl(), {
      refresh: this._tokenFetcher ? async () => { this._token = await this._tokenFetcher(); return !!this._token; } : null,
    });
    this._remote = new Remote(this._connection);
    this._connectionState = "connecting";
    this._resumes = 0;
    this._outbox = new Outbox(this);
    this._desktop = new DesktopNotifications(this);
    this._desktopClickHandlers = 0;
    this._connection.subscribe("event", (raw) => this._onEvent(raw));
    this._connection.subscribe("reconnected", () => this._resume());
    this._connection.subscribe("state", (state) => this._onSocketState(state));
    this._connection.subscribe("closed", (error) => this._setConnectionState("closed", error));
    this._online = () => this._connection.retryNow();
    this._offline = () => this._connection.drop();
    globalThis.addEventListener?.("online", this._online);
    globalThis.addEventListener?.("offline", this._offline);
    this._ready = this._start();
    this._ready.then(
      () => { if (this._connection.state === "open") this._setConnectionState("connected"); },
      (error) => {
        this.isAlive = false;
        this._setConnectionState("closed", error);
        report(error, "starting the session");
      },
    );
  }

  // --- connection state ---------------------------------------------------------------

  /** "connecting" (first time), "connected" (and caught up), "reconnecting", "offline"
   * (lost for a while; still retrying), or "closed" (destroyed, or refused for good). */
  get connectionState() {
    return this._connectionState;
  }

  /** `handler({state, previous, error})` on every change of `connectionState`; returns `{unsubscribe}`. */
  onConnectionChange(handler) {
    return this.subscribe("connectionChange", handler);
  }

  /** Try to reconnect now rather than at the end of the current wait (the UI's "Retry"). */
  reconnect() {
    this._connection.retryNow();
  }

  _onSocketState(state) {
    if (state !== "waiting" && state !== "connecting") return;
    if (this._connectionState !== "connected") return; // first connection, or already lost
    if (globalThis.navigator && navigator.onLine === false) {
      this._setConnectionState("offline"); // the browser knows: no need to wait to say so
      return;
    }
    this._setConnectionState("reconnecting");
    clearTimeout(this._offlineTimer);
    this._offlineTimer = setTimeout(() => {
      if (this._connectionState === "reconnecting") this._setConnectionState("offline");
    }, OFFLINE_AFTER_MS);
  }

  _setConnectionState(state, error = null) {
    const previous = this._connectionState;
    if (state === previous || previous === "closed") return;
    if (state === "connected" || state === "closed") clearTimeout(this._offlineTimer);
    this._connectionState = state;
    this.emit("connectionChange", { state, previous, error });
    if (state === "connected") this._outbox.drainAll();
  }

  /** Resolves the next time the session is connected and caught up; rejects once closed. */
  _whenConnected() {
    if (this._connectionState === "connected") return Promise.resolve();
    if (this._connectionState === "closed") return Promise.reject(this._connection._error || destroyedError());
    return new Promise((resolve, reject) => {
      const sub = this.onConnectionChange(({ state, error }) => {
        if (state === "connected") { sub.unsubscribe(); resolve(); }
        if (state === "closed") { sub.unsubscribe(); reject(error || destroyedError()); }
      });
    });
  }

  async _start() {
    if (!this._token && this._tokenFetcher) this._token = await this._tokenFetcher();
    await this._connection.start();
    await this._remote.ping(); // the server closes a refused session right after opening it
    if (this.me.syncFields) {
      try {
        await this._syncUser(this.me.id, this.me.syncFields);
      } catch (error) {
        // The user may already exist; everything else still works by reference.
        report(error, `syncing the current user ${JSON.stringify(this.me.id)}`);
      }
    }
    await this._conversations.load().catch(() => {});
  }

  _socketUrl() {
    const query = new URLSearchParams();
    if (this._token) query.set("token", this._token);
    else if (this._signature) query.set("signature", this._signature);
    const path = `/v1/${encodeURIComponent(this.appId)}/realtime/${encodeURIComponent(this.me.id)}`;
    const qs = query.toString();
    return `${socketBase(this._base)}${path}${qs ? `?${qs}` : ""}`;
  }

  /** Resolves when the session is connected; rejects (with what to change) if it cannot be. */
  get ready() {
    return this._ready;
  }

  hasValidCredentials() {
    return this._ready.then(() => true, () => false);
  }

  getOrCreateConversation(conversationId) {
    if (conversationId === undefined || conversationId === null || conversationId === "") {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, "getOrCreateConversation(id) needs a conversation id");
    }
    return new ConversationBuilder(this, String(conversationId));
  }

  /** The conversation with this id as a builder (the Data API's `conversation(id)`, simplified). */
  conversation(conversationId) {
    return this.getOrCreateConversation(conversationId);
  }

  createChatbox(conversation, options) {
    return this._box(new Chatbox(this, optionsOf(conversation, options)), conversation);
  }

  createInbox(options = {}) {
    const box = this._box(new Inbox(this, options || {}), null);
    if (options && options.selected) box.select(options.selected);
    return box;
  }

  createPopup(conversation, options) {
    return this._box(new Popup(this, optionsOf(conversation, options)), conversation);
  }

  _box(box, conversation) {
    this._boxes.push(box);
    if (isConversation(conversation)) box.select(conversation);
    return box;
  }

  getChatboxes() { return this._boxes.filter((b) => b instanceof Chatbox && b.isAlive); }
  getInboxes() { return this._boxes.filter((b) => b instanceof Inbox && b.isAlive); }
  getPopups() { return this._boxes.filter((b) => b instanceof Popup && b.isAlive); }

  /** Every message sent or received in a conversation where the user is a participant. */
  onMessage(handler) {
    return this.subscribe("message", handler);
  }

  // --- desktop notifications (notify.js) ----------------------------------------------------

  /** Turn desktop notifications on or off for this user in this browser; turning them on asks
   * the browser's permission if needed. Resolves once settled (check `onBrowserPermissionDenied`). */
  setDesktopNotificationEnabled(isEnabled, options = {}) {
    return this._desktop.setEnabled(!!isEnabled, options || {});
  }

  /** Whether this user turned desktop notifications on in this browser. */
  get desktopNotificationsEnabled() {
    return this._desktop.isEnabled;
  }

  /** `handler({conversation, message})` when the user clicks a desktop notification; with a
   * handler, the page decides what opens (without one, the conversation opens in the UI). */
  onDesktopNotificationClicked(handler) {
    this._desktopClickHandlers += 1;
    const sub = this.subscribe("desktopNotificationClicked", handler);
    let gone = false;
    return { unsubscribe: () => { if (!gone) { gone = true; this._desktopClickHandlers -= 1; sub.unsubscribe(); } } };
  }

  /** `handler({type, preventDefault})` before the browser is asked for its permission. */
  onBrowserPermissionNeeded(handler) {
    return this.subscribe("browserPermissionNeeded", handler);
  }

  /** `handler({type, reason})` when the browser's permission is refused or unavailable. */
  onBrowserPermissionDenied(handler) {
    return this.subscribe("browserPermissionDenied", handler);
  }

  destroy() {
    for (const box of this._boxes) box.destroy();
    this.isAlive = false;
    globalThis.removeEventListener?.("online", this._online);
    globalThis.removeEventListener?.("offline", this._offline);
    this._connection.close();
    this._setConnectionState("closed");
    this._outbox.failAll(destroyedError());
  }

  // --- used by builders, feeds and boxes -------------------------------------------------

  _syncUser(id, fields) {
    const done = this._remote.syncUser(id, fields);
    this._userCache.delete(id);
    return done;
  }

  /** Snapshots of users by id (cached), for names and photos. */
  async _users(ids) {
    await Promise.all(ids.map((id) => this._user(id)));
  }

  _user(id) {
    if (!this._userCache.has(id)) {
      const p = this._remote.getUser(id).catch(() => ({ id, name: id }));
      this._userCache.set(id, p);
      p.then((u) => { this._userSnapshots.set(id, u); });
    }
    return this._userCache.get(id);
  }

  userName(id) {
    const u = this._userSnapshots.get(id);
    return (u && u.name) || id;
  }

  userSnapshot(id) {
    return this._userSnapshots.get(id) || null;
  }

  /** Send through the outbox: resolves to `{id, position}` once stored, rejects on a final
   * refusal. Queued while offline; `basePosition` is the newest position the sender had seen. */
  _send(conversationId, text, custom, basePosition = null, referencedMessageId = null) {
    return this._outbox.add(conversationId, text, custom, basePosition, referencedMessageId).done;
  }

  /** A Feed for the conversation, shared by the boxes showing it. */
  _feed(conversationId, asGuest) {
    const key = `${conversationId}|${asGuest ? "guest" : "member"}`;
    let feed = this._feeds.get(key);
    if (!feed) {
      feed = new Feed(this, conversationId, asGuest);
      this._feeds.set(key, feed);
    }
    feed.users += 1;
    return feed;
  }

  _release(feed) {
    feed.users -= 1;
    if (feed.users > 0) return;
    this._feeds.delete(`${feed.id}|${feed.asGuest ? "guest" : "member"}`);
    feed.close();
    if (feed._subscribed && this.isAlive) {
      feed._subscribed.then(() => this._remote.unselect(feed.id)).catch(() => {});
    }
  }

  /** Follow every conversation of the list, so the Inbox, unreads and onMessage stay live. */
  _followList(list) {
    for (const c of list.slice(0, 100)) {
      if (this._listed.has(c.id) || c.access === "None" || c.isMember === false) continue;
      if (this._feeds.has(`${c.id}|guest`)) continue;
      this._listed.add(c.id);
      this._feed(c.id, false).follow().catch(() => {});
    }
  }

  async _onEvent(raw) {
    const event = normalizeEvent(raw);
    if (!event) return;
    if (event.type === "resync") {
      this._resume();
      return;
    }
    for (const feed of this._feeds.values()) {
      if (feed.id === event.conversationId && feed.conversation) {
        await feed.apply(event).catch((error) => report(error, `applying ${event.type}`));
      }
    }
    // onMessage: conversations where the user is a participant (whoever sent it), never guest ones.
    if (event.type === "message.created" && event.message && this._feeds.has(`${event.conversationId}|member`)) {
      this._emitMessage(event.message);
      const conversation = this._conversations.list.find((c) => c.id === event.conversationId) || { id: event.conversationId };
      this._desktop.consider(event.message, conversation).catch((error) => report(error, "showing a desktop notification"));
    }
    if (/^(message|participant|conversation)\./.test(event.type)) this._conversations.refresh();
  }

  async _emitMessage(m) {
    const sender = m.senderId ? await this._user(m.senderId) : null;
    const conversation = this._conversations.list.find((c) => c.id === m.conversationId) || { id: m.conversationId };
    this.emit("message", {
      id: m.id,
      conversation,
      isByMe: m.senderId === this.me.id,
      senderId: m.senderId,
      sender,
      body: m.text,
      type: "text",
      timestamp: m.createdAt,
      read: false,
      origin: m.origin,
      custom: m.custom || {},
      attachment: null,
      location: null,
    });
  }

  async _resume() {
    // Events may have been missed while disconnected: follow again from the last position seen.
    const round = ++this._resumes;
    for (const feed of this._feeds.values()) {
      try {
        await feed.resume();
      } catch (error) {
        report(error, `resuming conversation ${JSON.stringify(feed.id)}`);
      }
    }
    this._conversations.refresh();
    // Caught up: the UI's "Reconnecting…" goes, and the outbox sends what waited.
    if (round === this._resumes && this._connection.state === "open") this._setConnectionState("connected");
  }
}

const OFFLINE_AFTER_MS = 8000; // "reconnecting" turns "offline" after this long without a socket
const RATE_LIMIT_RETRIES = 5; // a 429 is retried after its retryAfter this many times, then final
const SERVER_ERROR_RETRIES = 3;

function destroyedError() {
  return new ChinwagError(0, { errorCode: "SESSION_DESTROYED", reasons: ["the session was destroyed"] });
}

/**
 * The messages this session is sending, in memory (a page reload forgets them).
 *
 * Rules kept:
 * - Each message gets its idempotency key when it is written, and keeps it on every attempt,
 *   so a send whose first attempt reached the server is stored once (the server dedupes).
 * - One conversation's messages are sent one at a time, in the order they were written; a lost
 *   connection holds the queue until the session is connected and caught up again.
 * - A 429 waits its `retryAfter` and tries again; a lost connection or a 5xx is retried; any other
 *   refusal is final: the entry stays, `failed`, until `retry(key)` or `discard(key)`.
 * - "change" is emitted with `{conversationId, entry, what}` (`added`, `sending`, `waiting`,
 *   `sent` with `result`, `failed`, `discarded`).
 */
class Outbox extends Emitter {
  constructor(session) {
    super();
    this.session = session;
    this.entries = [];
    this.sentIds = new Set(); // ids of messages this outbox stored (no pending entry claims them)
    this._draining = new Set(); // conversation ids whose queue is being sent
  }

  add(conversationId, text, custom, basePosition, referencedMessageId = null) {
    const entry = {
      key: randomHex(16),
      conversationId,
      text,
      custom: custom || undefined,
      referencedMessageId: referencedMessageId || null,
      createdAt: Date.now(),
      basePosition,
      state: "sending", // sending | failed
      attempted: false, // some attempt may have reached the server
      waitUntil: null, // rate limited: when the next attempt goes
      error: null,
    };
    this._track(entry);
    this.entries.push(entry);
    this._changed(entry, "added");
    this._drain(conversationId);
    return entry;
  }

  forConversation(conversationId) {
    return this.entries.filter((e) => e.conversationId === conversationId);
  }

  /** Send a failed message again (same key), after the others waiting. */
  retry(key) {
    const entry = this.entries.find((e) => e.key === key && e.state === "failed");
    if (!entry) return Promise.reject(new TalkError(ErrorCode.ARGUMENT_INVALID, "no failed message with this key"));
    this.entries = this.entries.filter((e) => e !== entry).concat(entry);
    entry.state = "sending";
    entry.error = null;
    this._track(entry);
    this._changed(entry, "sending");
    this._drain(entry.conversationId);
    return entry.done;
  }

  discard(key) {
    const entry = this.entries.find((e) => e.key === key && e.state === "failed");
    if (!entry) return;
    this.entries = this.entries.filter((e) => e !== entry);
    this._changed(entry, "discarded");
  }

  drainAll() {
    for (const id of new Set(this.entries.map((e) => e.conversationId))) this._drain(id);
  }

  failAll(error) {
    for (const entry of this.entries) if (entry.state === "sending") this._fail(entry, error);
  }

  _track(entry) {
    entry.done = new Promise((resolve, reject) => { entry._settle = { resolve, reject }; });
    entry.done.catch(() => {}); // whoever sent it decides; the entry itself shows the failure
  }

  _changed(entry, what, result) {
    this.emit("change", { conversationId: entry.conversationId, entry, what, result });
  }

  async _drain(conversationId) {
    if (this._draining.has(conversationId)) return;
    this._draining.add(conversationId);
    try {
      for (;;) {
        const entry = this.entries.find((e) => e.conversationId === conversationId && e.state === "sending");
        if (!entry) return;
        await this._deliver(entry);
      }
    } finally {
      this._draining.delete(conversationId);
    }
  }

  /** Attempts until the entry is stored or finally refused. */
  async _deliver(entry) {
    let limited = 0;
    let errors = 0;
    for (;;) {
      try {
        await this.session._ready;
        if (this.session._connectionState !== "connected") await this.session._whenConnected();
      } catch (error) {
        this._fail(entry, error);
        return;
      }
      const message = { text: entry.text, idempotencyKey: entry.key };
      if (entry.custom) message.custom = entry.custom;
      if (entry.referencedMessageId) message.referencedMessageId = entry.referencedMessageId;
      entry.attempted = true;
      try {
        const result = await this.session._remote.send(entry.conversationId, message);
        this.sentIds.add(result.id);
        this.entries = this.entries.filter((e) => e !== entry);
        entry.waitUntil = null;
        this._changed(entry, "sent", result);
        entry._settle.resolve(result);
        return;
      } catch (error) {
        if (error.errorCode === "RATE_LIMITED" && limited < RATE_LIMIT_RETRIES) {
          limited += 1;
          const wait = Math.max(0.25, error.retryAfter || 1) * 1000;
          entry.waitUntil = Date.now() + wait;
          entry.error = error;
          this._changed(entry, "waiting");
          await new Promise((resolve) => setTimeout(resolve, wait));
          entry.waitUntil = null;
          entry.error = null;
          this._changed(entry, "sending");
        } else if (error.errorCode === "CONNECTION_LOST") {
          // Asked again once connected; the key makes the repeat harmless.
        } else if (isTransient(error) && errors < SERVER_ERROR_RETRIES) {
          errors += 1;
          await new Promise((resolve) => setTimeout(resolve, 500 * errors));
        } else {
          this._fail(entry, error);
          return;
        }
      }
    }
  }

  _fail(entry, error) {
    if (entry.state === "failed") return;
    entry.state = "failed";
    entry.error = error;
    entry.waitUntil = null;
    this._changed(entry, "failed");
    entry._settle.reject(error);
  }
}

/** Whether a create*() argument names a conversation (a builder, an id or `{id}`). */
function isConversation(value) {
  if (typeof value === "string" || typeof value === "number") return true;
  return value instanceof ConversationBuilder || (!!value && typeof value === "object" && value.id !== undefined);
}

/** `createChatbox(options)` and `createChatbox(conversation, options)` both work. */
function optionsOf(conversation, options) {
  if (options === undefined && conversation && !isConversation(conversation)) return conversation;
  return options || {};
}

export function randomHex(bytes) {
  const data = new Uint8Array(bytes);
  crypto.getRandomValues(data);
  return [...data].map((b) => b.toString(16).padStart(2, "0")).join("");
}

