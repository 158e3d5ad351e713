// `session.createInbox()`: the user's conversations (memberships only) beside the selected chat.

import { STYLES } from "./styles.js";
import { fitHeight, h, shadowHost } from "./dom.js";
import { listNames, shortWhen } from "./format.js";
import { Box, ConnectionBanner, mountTarget } from "./box.js";
import { ConversationView, avatar } from "./view.js";
import { plainText } from "./content.js";

const NARROW = 640;

export class Inbox extends Box {
  constructor(session, options) {
    super(session, options);
    this.view = new ConversationView(this, { back: () => this._back(), banner: false });
    this.banner = new ConnectionBanner(session); // one for both panes
    this.items = h("ul", { role: "list", "aria-label": "Conversations" });
    // The user's own switch for desktop notifications (notify.js), in the list's header.
    this.notifyToggle = h("button", { type: "button", class: "notify-toggle", onclick: () => this._toggleNotifications() });
    const header = this.options.showFeedHeader === false ? null
      : h("div", { class: "feed-top" }, h("h2", { class: "feed-header" }, "Chats"), this.options.showNotificationToggle === false ? null : this.notifyToggle);
    this.feedPane = h("nav", { class: "feed", "aria-label": "Conversation list" }, header, this.items);
    this.frame = h("div", { class: "frame inbox" }, this.banner.el, h("div", { class: "panes" }, this.feedPane, this.view.el));
    this._subs = [
      session._conversations.subscribe("change", () => this._renderList()),
      session._desktop.subscribe("toggled", (detail) => {
        this._renderToggle();
        this.emit("desktopNotificationToggled", detail);
      }),
    ];
    this._renderToggle();
    this.onConversationSelected(() => {
      this.frame.classList.add("showing-chat");
      this._renderList();
    });
  }

  mount(element) {
    const target = mountTarget(element, "inbox");
    target.replaceChildren(); // the integrator's "Loading chat..." placeholder goes
    const { host, root } = shadowHost(target, STYLES, "chinwag-inbox");
    this.host = host;
    fitHeight(target, host);
    root.append(this.frame);
    this._resize = new ResizeObserver(() => this.frame.classList.toggle("narrow", this.frame.clientWidth < NARROW));
    this._resize.observe(this.frame);
    const loaded = this.session._conversations.loaded || this.session.ready;
    return Promise.resolve(loaded).then(() => {
      this._renderList();
      if (!this.feed && this.options.selected === undefined) {
        const first = this.session._conversations.list[0];
        if (first && this.frame.clientWidth >= NARROW) this.select(first.id);
      }
    }, () => {});
  }

  /** `handler({isEnabled})` when desktop notifications are turned on or off. */
  onDesktopNotificationToggled(handler) {
    return this.subscribe("desktopNotificationToggled", handler);
  }

  _toggleNotifications() {
    const on = this.session._desktop.isEnabled;
    this.session.setDesktopNotificationEnabled(!on).catch(() => {});
  }

  _renderToggle() {
    const on = this.session._desktop.isEnabled;
    this.notifyToggle.setAttribute("aria-pressed", on ? "true" : "false");
    this.notifyToggle.textContent = on ? "Notifications on" : "Notifications off";
    this.notifyToggle.title = on ? "Stop desktop notifications" : "Show new messages as desktop notifications";
  }

  _back() {
    this.frame.classList.remove("showing-chat");
    const current = this.items.querySelector('[aria-current="true"]');
    if (current) current.focus();
  }

  _title(c) {
    const me = this.session.me.id;
    const others = Object.keys(c.participants || {}).filter((id) => id !== me);
    const mode = this.options.feedConversationTitleMode || "auto";
    const names = listNames(others.map((id) => this.session.userName(id)));
    if (mode === "participants") return names || c.subject || "Conversation";
    return c.subject || names || "Conversation";
  }

  async _renderList() {
    const list = this.session._conversations.list.filter((c) => !this.options.feedFilter || matches(c, this.options.feedFilter));
    const ids = new Set();
    for (const c of list) for (const id of Object.keys(c.participants || {})) ids.add(id);
    await this.session._users([...ids]);
    const selected = this.feed && this.feed.id;
    if (!list.length) {
      this.items.replaceChildren(h("li", { class: "empty" }, h("strong", {}, "No conversations yet"), "Conversations you take part in show up here."));
      return;
    }
    this.items.replaceChildren(...list.map((c) => {
      const title = this._title(c);
      const unread = c.unreadMessageCount || 0;
      const last = c.lastMessage;
      const others = Object.keys(c.participants || {}).filter((id) => id !== this.session.me.id);
      // Who wrote last: "You: ", or the sender's name in a group (a 1:1's title already says it).
      const by = !last || !last.senderId ? "" : last.senderId === this.session.me.id ? "You: " : others.length > 1 ? `${this.session.userName(last.senderId)}: ` : "";
      const names = { me: this.session.me.id, of: (id) => this.session.userName(id) };
      const preview = last ? `${by}${plainText(last.content, last.text, names)}` : "No messages yet";
      // A one-on-one with a subject says with whom, so it never looks like the plain one.
      const withWhom = others.length === 1 && c.subject && title === c.subject
        ? h("span", { class: "with" }, ` · ${this.session.userName(others[0])}`) : null;
      const face = c.photoUrl ? { id: c.id, name: title, photoUrl: c.photoUrl } : others.length === 1 ? this.session.userSnapshot(others[0]) || { id: others[0], name: title } : { id: c.id, name: title };
      return h("li", {},
        h("button", { type: "button", class: `item ${unread ? "unread" : ""}`, "data-conversation-id": c.id, "aria-current": c.id === selected ? "true" : "false", onclick: () => this.select(c.id) },
          avatar(face, "", others.length !== 1),
          h("div", { class: "body" },
            h("div", { class: "line" }, h("span", { class: "name" }, title, withWhom, unread ? h("span", { class: "inline-sr" }, `, ${unread} unread`) : null), h("span", { class: "when" }, shortWhen(c.lastActivityAt || (last && last.createdAt)))),
            h("div", { class: "line" }, h("span", { class: "preview" }, c.access === "None" ? endedText(c) : preview), unread ? h("span", { class: "count", "aria-hidden": "true" }, String(unread)) : null))));
    }));
  }

  destroy() {
    for (const s of this._subs) s.unsubscribe();
    if (this._resize) this._resize.disconnect();
    this.banner.destroy();
    super.destroy();
  }
}

function matches(c, filter) {
  if (filter.access && !(Array.isArray(filter.access) ? filter.access.includes(c.access) : c.access === filter.access)) {
    // ConversationPredicate: access ["==", "ReadWrite"] / ["!=", "None"]
    if (Array.isArray(filter.access) && filter.access.length === 2 && typeof filter.access[0] === "string" && ["==", "!="].includes(filter.access[0])) {
      const [op, value] = filter.access;
      return op === "==" ? c.access === value : c.access !== value;
    }
    return false;
  }
  if (filter.hasUnreadMessages !== undefined && (c.unreadMessageCount > 0) !== filter.hasUnreadMessages) return false;
  return true;
}

/** What the Inbox says of a conversation the user is no longer part of. */
function endedText(c) {
  if (c.isMember !== false) return "You no longer have access to this conversation";
  return c.endedBy === "you" ? "You left this conversation" : "You were removed from this conversation";
}
