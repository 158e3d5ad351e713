// `new Talk.Session({appId, me, signature, token, tokenFetcher, host})`: one realtime connection
// per session, the current user's conversations, and the factories of the UI boxes.

import { serverBase, socketBase } from "./host.js";
import { ErrorCode, TalkError, report } from "./errors.js";
import { Emitter } from "./emitter.js";
import { Connection } from "./connection.js";
import { Remote, normalizeEvent } from "./routes.js";
import { User } from "./user.js";
import { ConversationBuilder } from "./conversation.js";
import { Feed } from "./feed.js";
import { MyConversations, Unreads } from "./unreads.js";
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
    this._connection.subscribe("event", (raw) => this._onEvent(raw));
    this._connection.subscribe("reconnected", () => this._resume());
    this._ready = this._start();
    this._ready.catch((error) => {
      this.isAlive = false;
      report(error, "starting the session");
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

  destroy() {
    for (const box of this._boxes) box.destroy();
    this.isAlive = false;
    this._connection.close();
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

  _send(conversationId, text, custom) {
    const message = { text, idempotencyKey: randomHex(16) };
    if (custom) message.custom = custom;
    return this._ready.then(() => this._remote.send(conversationId, message));
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
    for (const feed of this._feeds.values()) {
      try {
        await feed.resume();
      } catch (error) {
        report(error, `resuming conversation ${JSON.stringify(feed.id)}`);
      }
    }
    this._conversations.refresh();
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

