// The current user's conversations (memberships only, never guest visits), newest activity first,
// kept fresh from live events; `session.unreads` is the unread part of it.

import { Emitter } from "./emitter.js";
import { report } from "./errors.js";

export class MyConversations extends Emitter {
  constructor(session) {
    super();
    this.session = session;
    this.list = [];
    this.loaded = null;
    this._timer = null;
  }

  load() {
    this.loaded = this.session._remote.myConversations().then((body) => {
      const data = body.data || body;
      this.list = data.slice().sort((a, b) => activity(b) - activity(a));
      this.emit("change", this.list);
      return this.list;
    });
    this.loaded.catch((error) => report(error, "loading the conversation list"));
    return this.loaded;
  }

  /** Reload soon (events come in bursts). */
  refresh() {
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this.load(), 120);
  }
}

function activity(c) {
  return c.lastActivityAt || (c.lastMessage && c.lastMessage.createdAt) || c.joinedAt || c.createdAt || 0;
}

/** `session.unreads`: `onChange(cb)` with `[{conversation, lastMessage, unreadMessageCount}]`. */
export class Unreads {
  constructor(conversations) {
    this._conversations = conversations;
  }

  get list() {
    return this._conversations.list
      .filter((c) => c.unreadMessageCount > 0 && c.access !== "None")
      .map((c) => ({ conversation: c, lastMessage: c.lastMessage, unreadMessageCount: c.unreadMessageCount }));
  }

  onChange(handler) {
    let last = null;
    const call = () => {
      const list = this.list;
      const key = JSON.stringify(list.map((u) => [u.conversation.id, u.unreadMessageCount]));
      if (key === last) return;
      last = key;
      handler(list);
    };
    const sub = this._conversations.subscribe("change", call);
    if (this._conversations.loaded) this._conversations.loaded.then(call, () => {});
    return sub;
  }
}
