// `session.createPopup()`: a launcher button and a chatbox that opens and closes above the page.

import { STYLES } from "./styles.js";
import { h, shadowHost, ICONS } from "./dom.js";
import { Box, CONNECTION_TEXT } from "./box.js";
import { ConversationView } from "./view.js";

export class Popup extends Box {
  constructor(session, options) {
    super(session, options);
    this.visible = false;
    this.view = new ConversationView(this, { closable: this.options.showCloseInHeader !== false });
    this.badge = h("span", { class: "count", hidden: true });
    this.launcher = h("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false", html: ICONS.chat, onclick: () => this.toggle() });
    this.launcher.append(this.badge);
    // While closed, the launcher carries the connection state (open, the chat's banner does).
    this.launcherStatus = h("span", { class: "launcher-status", role: "status", "aria-live": "polite" });
    this._connection = session.onConnectionChange(() => this._renderLauncher());
    this.panel = h("div", { class: "panel", role: "dialog", "aria-label": "Chat", tabindex: "-1", hidden: true }, h("div", { class: "frame" }, this.view.el));
    const escape = (e) => {
      if (e.key === "Escape" && this.visible && !this.options.keepOpen) this.hide();
    };
    this.panel.addEventListener("keydown", escape);
    this.launcher.addEventListener("keydown", escape);
    this._unreads = session.unreads.onChange((list) => this._badge(list));
  }

  /** Popup.mount({show}) appends to the page; show defaults to true. */
  mount(options = {}) {
    const { host, root } = shadowHost(document.body, STYLES, "chinwag-popup");
    this.host = host;
    host.style.height = "0";
    if (this.options.launcher === "never") this.launcher.hidden = true;
    root.append(this.panel, this.launcherStatus, this.launcher);
    this._renderLauncher();
    if (options.show !== false) this.show();
    if (this.feed) this.view.attach(this.feed);
    return Promise.resolve();
  }

  show() {
    this.visible = true;
    this.panel.hidden = false;
    this.launcher.classList.add("open");
    this.launcher.setAttribute("aria-expanded", "true");
    this._renderLauncher();
    if (this.options.launcher === "close-only") this.launcher.hidden = false;
    if (this.view.form.hidden) this.panel.focus();
    else this.view.focus();
    this.view._markRead();
    this.emit("open", {});
  }

  hide() {
    this.visible = false;
    this.panel.hidden = true;
    this.launcher.classList.remove("open");
    this.launcher.setAttribute("aria-expanded", "false");
    this._renderLauncher();
    if (this.options.launcher === "close-only") this.launcher.hidden = true;
    this.launcher.focus();
    this.emit("close", {});
  }

  toggle() {
    if (this.visible) this.hide();
    else this.show();
  }

  onOpen(handler) { return this.subscribe("open", handler); }
  onClose(handler) { return this.subscribe("close", handler); }

  /** The launcher counts what it opens: the unread messages of the popup's conversation. */
  _badge(list) {
    const id = this.feed ? this.feed.id : null;
    const total = list.filter((u) => u.conversation.id === id).reduce((n, u) => n + u.unreadMessageCount, 0);
    this.badge.hidden = !total;
    this.badge.textContent = total > 99 ? "99+" : String(total);
    this.badge.setAttribute("aria-hidden", "true");
    this._unreadTotal = total;
    this._renderLauncher();
  }

  /** The launcher's name says what it does, the unread count and a lost connection. */
  _renderLauncher() {
    const state = this.session.connectionState;
    const lost = state === "reconnecting" || state === "offline";
    const total = this._unreadTotal || 0;
    const parts = [this.visible ? "Close chat" : "Open chat"];
    if (total) parts.push(`${total} unread`);
    if (lost) parts.push(state === "offline" ? "offline" : "reconnecting");
    this.launcher.setAttribute("aria-label", parts.join(", "));
    const text = lost && !this.visible && !this.launcher.hidden ? (state === "offline" ? "Offline" : "Reconnecting…") : "";
    this.launcherStatus.textContent = text;
    this.launcherStatus.classList.toggle("shown", !!text);
  }

  destroy() {
    this._unreads.unsubscribe();
    this._connection.unsubscribe();
    super.destroy();
  }
}
