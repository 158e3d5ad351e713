// Desktop notifications: `session.setDesktopNotificationEnabled(...)` and what it shows.
//
// Rules kept:
// - Off until the user turns them on (the Inbox's toggle, or the integrator's call); the choice
//   is remembered per app and user in this browser (localStorage), as the permission is.
// - Turning them on asks the browser's permission when it was never given: the
//   `browserPermissionNeeded` handlers run first and may `preventDefault()` to explain it in
//   their own UI before asking; a refusal runs the `browserPermissionDenied` handlers (and an
//   alert unless `alertOnFailure: false`), and they stay off.
// - Shown for a message by someone else in a conversation where the user is a participant, and
//   only when the user is not looking at it: the page is hidden or unfocused, or no open box
//   shows that conversation. Never for what the user watches as a guest.
// - One notification per conversation at a time (a newer one replaces it). Clicking it focuses
//   the page and runs the `desktopNotificationClicked` handlers; with none, the conversation
//   opens in the page's Inbox (or Popup, or Chatbox).

import { Emitter } from "./emitter.js";
import { plainText } from "./ui/content.js";

export class DesktopNotifications extends Emitter {
  constructor(session) {
    super();
    this.session = session;
    this._key = `chinwag.desktopNotifications.${session.appId}.${session.me.id}`;
  }

  /** The user's choice (on or off), whatever the browser's permission. */
  get isEnabled() {
    try {
      return globalThis.localStorage?.getItem(this._key) === "on";
    } catch {
      return false; // storage blocked (a sandboxed frame): never on
    }
  }

  _remember(on) {
    try {
      globalThis.localStorage?.setItem(this._key, on ? "on" : "off");
    } catch {
      // storage blocked: the choice lasts as long as nothing asks again
    }
    this.emit("toggled", { isEnabled: on });
  }

  async setEnabled(enabled, { alertOnFailure = true } = {}) {
    if (!enabled) {
      this._remember(false);
      return;
    }
    const api = globalThis.Notification;
    if (!api) {
      this._denied("this browser does not support desktop notifications", alertOnFailure);
      return;
    }
    let permission = api.permission;
    if (permission === "default") {
      let prevented = false;
      this.session.emit("browserPermissionNeeded", { type: "notifications", preventDefault: () => { prevented = true; } });
      if (prevented) return; // the integrator asks later, by calling this again
      permission = await api.requestPermission();
    }
    if (permission !== "granted") {
      this._denied("the browser's permission for notifications was refused", alertOnFailure);
      return;
    }
    this._remember(true);
  }

  _denied(why, alertOnFailure) {
    this._remember(false);
    this.session.emit("browserPermissionDenied", { type: "notifications", reason: why });
    if (alertOnFailure && typeof globalThis.alert === "function") {
      globalThis.alert(`Desktop notifications are off: ${why}.`);
    }
  }

  /** Whether the user can see `conversationId` right now in one of the page's boxes. */
  _looking(conversationId) {
    const doc = globalThis.document;
    if (!doc || doc.visibilityState !== "visible" || !doc.hasFocus()) return false;
    return this.session._boxes.some((box) => box.isAlive && box.visible && box.feed && box.feed.id === conversationId && !box.feed.asGuest);
  }

  /** A message arrived in a conversation the user takes part in: show it if it should be. */
  async consider(message, conversation) {
    const api = globalThis.Notification;
    if (!api || api.permission !== "granted" || !this.isEnabled) return;
    if (!message || message.senderId === this.session.me.id) return;
    if (this._looking(message.conversationId)) return;
    const sender = message.senderId ? await this.session._user(message.senderId) : null;
    const names = { me: this.session.me.id, of: (id) => this.session.userName(id) };
    const who = sender ? sender.name || sender.id : "";
    const where = conversation.subject || "";
    const title = who && where ? `${who} in ${where}` : who || where || "New message";
    let note;
    try {
      note = new api(title, {
        body: plainText(message.content, message.text, names).slice(0, 300),
        tag: `chinwag:${message.conversationId}`,
        icon: (sender && sender.photoUrl) || undefined,
        data: { conversationId: message.conversationId, messageId: message.id },
      });
    } catch (error) {
      console.warn("[Chinwag] could not show a desktop notification:", error);
      return;
    }
    note.onclick = () => {
      globalThis.focus?.();
      note.close();
      this._clicked(message, conversation);
    };
  }

  _clicked(message, conversation) {
    const detail = { conversation: { ...conversation }, message: { id: message.id, conversationId: message.conversationId, senderId: message.senderId, text: message.text } };
    const handled = this.session._desktopClickHandlers > 0;
    this.session.emit("desktopNotificationClicked", detail);
    if (handled) return;
    const live = (list) => list.find((box) => box.isAlive);
    const box = live(this.session.getInboxes()) || live(this.session.getPopups()) || live(this.session.getChatboxes());
    if (!box) return;
    box.select(message.conversationId);
    if (typeof box.show === "function" && !box.visible) box.show();
  }
}
