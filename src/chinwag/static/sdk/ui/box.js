// What every UI box shares: select a conversation (as a participant or a guest), mount, destroy,
// the onSendMessage hook, and the message field's small API.

import { Emitter } from "../emitter.js";
import { ErrorCode, TalkError, report } from "../errors.js";
import { ConversationBuilder } from "../conversation.js";
import { h } from "./dom.js";

/** What the connection banner says in each state of `session.connectionState` (none: hidden). */
export const CONNECTION_TEXT = {
  reconnecting: "Reconnecting…",
  offline: "Offline. Messages will be sent once reconnected.",
};

/** The "Reconnecting…" / "Offline · Retry" strip every box shows while the socket is lost; it
 * goes once the session is connected and caught up again. */
export class ConnectionBanner {
  constructor(session) {
    this.session = session;
    this.text = h("span", { class: "connection-text" });
    this.retry = h("button", { type: "button", class: "connection-retry", onclick: () => session.reconnect() }, "Retry");
    this.el = h("div", { class: "connection", role: "status", "data-connection": session.connectionState }, this.text, this.retry);
    this._sub = session.onConnectionChange(({ state, previous, error }) => {
      // Refused for good after having been connected (not destroyed, not a refused start,
      // which the box itself shows): say so, with the server's reason.
      this._lostFor = state === "closed" && error && previous !== "connecting" ? error : null;
      this.render();
    });
    this.render();
  }

  render() {
    const state = this.session.connectionState;
    const why = this._lostFor && ((this._lostFor.reasons && this._lostFor.reasons[0]) || this._lostFor.message);
    const text = CONNECTION_TEXT[state] || (why ? `Disconnected from the chat: ${why}` : "");
    this.el.dataset.connection = state;
    this.el.classList.toggle("shown", !!text);
    this.text.textContent = text;
    this.retry.hidden = state !== "offline";
  }

  destroy() {
    this._sub.unsubscribe();
  }
}

export class Box extends Emitter {
  constructor(session, options) {
    super();
    this.session = session;
    this.options = options || {};
    this.isAlive = true;
    this.visible = true;
    this.feed = null;
    this._selecting = 0;
    this._sendHandlers = [];
    const box = this;
    this.messageField = {
      focus: () => box.view && box.view.focus(),
      setText: (text) => { if (box.view) box.view.textarea.value = String(text); },
      typeText: (text) => { if (box.view) box.view.textarea.value += String(text); },
      getText: () => (box.view ? box.view.textarea.value : ""),
      setVisible: (visible) => {
        if (!box.view) return;
        box.view.fieldVisible = visible !== false;
        if (box.view.feed) box.view.render({});
      },
    };
  }

  /** The selected conversation as `{id, subject, ...}` (null when none). */
  get currentConversation() {
    return this.feed && this.feed.conversation ? { ...this.feed.conversation } : null;
  }

  /** Show a conversation: a ConversationBuilder, an id, a `{id}` or null. */
  select(conversation, options = {}) {
    const done = this._select(conversation, options || {});
    done.catch(() => {});
    return done;
  }

  async _select(conversation, { asGuest = false, invite = undefined } = {}) {
    if (!this.isAlive) throw new TalkError(ErrorCode.ARGUMENT_INVALID, "this box was destroyed");
    const ticket = ++this._selecting;
    if (conversation === null || conversation === undefined) {
      this._release();
      if (this.view) this.view.showEmpty();
      return;
    }
    let id;
    let builder = null;
    if (conversation instanceof ConversationBuilder) {
      builder = conversation;
      id = builder.id;
    } else if (typeof conversation === "string" || typeof conversation === "number") {
      id = String(conversation);
    } else if (conversation && conversation.id !== undefined) {
      id = String(conversation.id);
    } else {
      throw report(new TalkError(ErrorCode.ARGUMENT_INVALID, "select(conversation) takes a ConversationBuilder, a conversation id or null"));
    }
    if (this.view) this.view.showLoading();
    let feed = null;
    try {
      await this.session.ready;
      if (builder) await builder.synced.catch(() => {});
      feed = this.session._feed(id, asGuest || !!invite);
      if (invite) feed.invite = invite;
      await feed.open();
    } catch (error) {
      if (feed) this.session._release(feed);
      if (ticket === this._selecting && this.view) this.view.showError(error);
      throw report(error, `selecting conversation ${JSON.stringify(id)}${asGuest ? " as a guest" : ""}`);
    }
    if (ticket !== this._selecting || !this.isAlive) {
      this.session._release(feed);
      return;
    }
    this._release();
    this.feed = feed;
    if (this.view) this.view.attach(feed);
    this.emit("conversationSelected", { conversation: this.currentConversation, me: this.session.me });
  }

  _release() {
    if (this.feed) this.session._release(this.feed);
    this.feed = null;
  }

  /** Runs the onSendMessage handlers; returns `{text, custom}` to send, or null if cancelled. */
  _beforeSend(text, feed) {
    let outgoing = { text, custom: undefined };
    let cancelled = false;
    for (const handler of this._sendHandlers) {
      const event = {
        message: { text: outgoing.text, custom: outgoing.custom || {}, type: "text" },
        me: this.session.me,
        conversation: { ...feed.conversation },
        override: (params) => {
          if (params && params.cancel) cancelled = true;
          if (params && params.text !== undefined) outgoing.text = String(params.text);
          if (params && params.custom !== undefined) outgoing.custom = params.custom;
        },
      };
      try {
        handler(event);
      } catch (error) {
        report(error, "an onSendMessage handler threw");
      }
    }
    return cancelled || !outgoing.text ? null : outgoing;
  }

  onSendMessage(handler) {
    this._sendHandlers.push(handler);
    return { unsubscribe: () => { this._sendHandlers = this._sendHandlers.filter((h) => h !== handler); } };
  }

  onConversationSelected(handler) {
    return this.subscribe("conversationSelected", handler);
  }

  /** The same as `session.setDesktopNotificationEnabled(isEnabled)`. */
  toggleDesktopNotifications(isEnabled) {
    return this.session.setDesktopNotificationEnabled(isEnabled);
  }

  destroy() {
    if (!this.isAlive) return;
    this.isAlive = false;
    this._release();
    if (this.view) this.view.destroy();
    if (this.host) this.host.remove();
  }
}

/** The element to mount in: an Element or (for convenience) a selector. */
export function mountTarget(element, what) {
  const el = typeof element === "string" ? document.querySelector(element) : element;
  if (!(el instanceof Element)) {
    throw report(new TalkError(ErrorCode.ARGUMENT_INVALID, `${what}.mount(element) needs a DOM element (got ${element === null ? "null: does the element exist yet?" : typeof element})`));
  }
  return el;
}
