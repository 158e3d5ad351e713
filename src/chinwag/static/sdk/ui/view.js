// One conversation on screen: header, message list with older history on scroll, typing
// indicator, and the message field. Built only on the session's public pieces (Feed, users).

import { h, uid, ICONS } from "./dom.js";
import { clock, colorFor, day, initials, listNames } from "./format.js";
import { renderContent } from "./content.js";
import { report, sendRefusal } from "../errors.js";
import { MAX_TEXT } from "../feed.js";
import { ConnectionBanner } from "./box.js";

export const REMOVED_NOTICE = "You are not part of this conversation anymore.";
/** The reaction picker's choice (any emoji works over the SDK and REST). */
const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];
const COUNTER_FROM = MAX_TEXT - 1000; // the character counter shows from this many characters on
const number = (n) => n.toLocaleString("en-US");

export function avatar(user, size, group) {
  const name = (user && user.name) || (user && user.id) || "?";
  const photo = user && user.photoUrl;
  const el = h("div", { class: `avatar ${size || ""} ${group ? "group" : ""}`.trim(), "aria-hidden": "true" }, initials(name));
  el.style.backgroundColor = colorFor((user && user.id) || name);
  if (photo) {
    // The photo covers the initials; a URL that fails to load leaves the initials showing.
    const img = h("img", { src: String(photo), alt: "", decoding: "async", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => { img.remove(); el.classList.remove("has-photo"); });
    el.classList.add("has-photo");
    el.append(img);
  }
  return el;
}

export class ConversationView {
  constructor(box, { closable = false, back = null, banner = true } = {}) {
    this.box = box;
    this.session = box.session;
    this.options = box.options || {};
    this.feed = null;
    this.editing = null; // {id, draft}
    this.confirming = null;
    this.replying = null; // the message the composer replies to
    this.picking = null; // the message whose reaction picker is open
    this._subs = [];
    const fieldId = uid("chinwag-field");
    const notesId = uid("chinwag-field-notes");
    this.title = h("h2", { class: "title" });
    this.subtitle = h("p", { class: "subtitle" });
    this.guestBadge = h("span", { class: "badge-guest", hidden: true, html: `${ICONS.eye}<span>Guest</span>`, title: "You are watching this conversation as a guest" });
    this.watching = h("span", { class: "badge-watching", role: "status", hidden: true });
    this.headerAvatar = h("div");
    this.backButton = back ? h("button", { class: "icon-button back", type: "button", "aria-label": "Back to conversations", html: ICONS.back, onclick: back }) : null;
    this.closeButton = closable ? h("button", { class: "icon-button", type: "button", "aria-label": "Close chat", html: ICONS.close, onclick: () => box.hide() }) : null;
    this.header = h("header", { class: "header" }, this.backButton, this.headerAvatar, h("div", { class: "titles" }, this.title, this.subtitle), this.watching, this.guestBadge, this.closeButton);
    if (this.options.showChatHeader === false) this.header.hidden = true;
    // The list is re-rendered as a whole; new messages are announced through `announce` instead.
    this.list = h("div", { class: "messages", role: "log", "aria-live": "off", "aria-label": "Messages", tabindex: "0" });
    this.announce = h("div", { class: "sr", "aria-live": "polite" });
    this._stick = true; // keep the newest message in view while the user is at the bottom
    this.list.addEventListener("scroll", () => {
      this._stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
      this._maybeLoadOlder();
    });
    this._resize = new ResizeObserver(() => {
      if (this._stick) this.list.scrollTop = this.list.scrollHeight;
    });
    this._resize.observe(this.list);
    this.typing = h("div", { class: "typing", "aria-live": "polite" });
    const field = this.options.messageField || {};
    this.textarea = h("textarea", {
      id: fieldId,
      rows: "1",
      placeholder: field.placeholder || "Say something...",
      spellcheck: field.spellcheck === false ? "false" : "true",
      "aria-label": "Message",
      "aria-describedby": notesId,
      enterkeyhint: "send",
    });
    this.mentionList = h("ul", { class: "mention-list", role: "listbox", id: `${fieldId}-mentions`, "aria-label": "Mention a participant", hidden: true });
    this.mentioned = new Map(); // "@Name" written in the field -> user id, sent as <@id>
    this.composerError = h("p", { class: "composer-error", role: "alert" });
    this.counter = h("span", { class: "counter", hidden: true });
    this.notes = h("div", { class: "field-notes", id: notesId }, this.composerError, this.counter);
    this._localError = "";
    this.sendButton = h("button", { class: "send", type: "submit", "aria-label": "Send message", html: ICONS.send });
    this.replyQuote = h("span", { class: "reply-text" });
    this.replyBar = h("div", { class: "reply-bar", hidden: true }, this.replyQuote,
      h("button", { type: "button", class: "small", "aria-label": "Cancel the reply", onclick: () => this._reply(null) }, "×"));
    this.form = h("form", { class: "field", hidden: true, "aria-label": "Write a message" }, h("label", { class: "sr", for: fieldId }, "Message"), this.replyBar, this.notes, this.mentionList, this.textarea, this.sendButton);
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this._submit(); });
    this.textarea.addEventListener("keydown", (e) => {
      if (this._mentionKey(e)) return;
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && field.enterSendsMessage !== false) {
        e.preventDefault();
        this._submit();
      }
    });
    this.textarea.addEventListener("input", () => {
      this._offerMentions();
      this._autosize();
      this._renderCounter();
      if (this._localError) this._setLocalError("");
      if (this.textarea.value && this.feed) this.feed.markTyping();
    });
    this.readonly = h("div", { class: "readonly", hidden: true });
    this.status = h("div", { class: "sr", role: "status" });
    this.banner = banner ? new ConnectionBanner(this.session) : null;
    this.el = h("section", { class: "chat", "aria-label": "Chat" }, this.header, this.banner && this.banner.el, this.list, this.typing, this.form, this.readonly, this.status, this.announce);
    this.fieldVisible = field.visible !== false;
    this._onVisible = () => this._markRead();
    document.addEventListener("visibilitychange", this._onVisible);
    this.showEmpty();
  }

  // --- states ---------------------------------------------------------------------------

  showEmpty(text) {
    this._detach();
    this.title.textContent = "";
    this.subtitle.textContent = "";
    this.headerAvatar.replaceChildren();
    this.guestBadge.hidden = true;
    this.watching.hidden = true;
    this.list.replaceChildren(h("div", { class: "empty" }, h("strong", {}, text || "No conversation selected"), "Pick a conversation to start chatting."));
    this.form.hidden = true;
    this.readonly.hidden = true;
    this.typing.replaceChildren();
  }

  showLoading() {
    this.list.replaceChildren(h("div", { class: "empty", "aria-busy": "true" }, "Loading chat…"));
    this.form.hidden = true;
    this.readonly.hidden = true;
  }

  /** Show why the conversation cannot be shown; `attached`: stay on the feed (it may come
   * back, as when guest access is switched on again, and then renders as usual). */
  showError(error, attached = false) {
    if (!attached) this._detach();
    this.form.hidden = true;
    this.readonly.hidden = true;
    const code = error && error.errorCode;
    const title = code === "GUEST_ACCESS_NOT_ALLOWED" ? "Guest access is not allowed"
      : code === "GUEST_KICKED" ? "A moderator removed you from this chat"
      : code === "UNAUTHORIZED" ? "Could not sign in"
      : code === "NOT_A_PARTICIPANT" || code === "CONVERSATION_NOT_FOUND" ? "Chat not found"
      : "Could not open this chat";
    this.title.textContent = title;
    this.list.replaceChildren(h("div", { class: "empty", role: "alert" }, h("strong", {}, title), h("span", { class: "error" }, (error && error.reasons && error.reasons[0]) || String(error && error.message || error))));
  }

  attach(feed) {
    this._detach();
    this.feed = feed;
    this.editing = null;
    this._reply(null);
    this._subs.push(feed.subscribe("change", (change) => this.render(change || {})));
    this._subs.push(feed.subscribe("guests", () => this.feed && this.feed.conversation && this._renderWatching()));
    this._subs.push(feed.subscribe("typing", () => this._renderTyping()));
    this._subs.push(feed.subscribe("ended", (why) => this.showError(why, true)));
    this.render({ reset: true });
    if (this.options.messageField && this.options.messageField.autofocus !== false && this.box.visible) this.focus();
  }

  _detach() {
    for (const s of this._subs) s.unsubscribe();
    this._subs = [];
    this.feed = null;
  }

  destroy() {
    this._detach();
    if (this.banner) this.banner.destroy();
    clearTimeout(this._tick);
    this._resize.disconnect();
    document.removeEventListener("visibilitychange", this._onVisible);
    this.el.remove();
  }

  focus() {
    if (!this.form.hidden) this.textarea.focus();
  }

  // --- rendering ------------------------------------------------------------------------

  render(change) {
    const feed = this.feed;
    if (!feed || !feed.conversation) return;
    this._renderHeader();
    this._renderFooter(); // first, so the list has its final height when it scrolls
    this._renderTyping();
    this._renderMessages(change);
    if (change.reset || (change.added && change.added.senderId !== this.session.me.id)) this._markRead();
    if (change.added && change.added.senderId !== this.session.me.id) {
      const who = change.added.senderId ? this.session.userName(change.added.senderId) : "System";
      this.announce.textContent = `${who}: ${change.added.text}`;
    }
  }

  _participants() {
    const ids = Object.keys(this.feed.conversation.participants || {});
    const me = this.session.me.id;
    return ids
      .map((id) => this.session.userSnapshot(id) || { id, name: id })
      .sort((a, b) => (a.id === me ? -1 : b.id === me ? 1 : String(a.name).localeCompare(String(b.name))));
  }

  /** Participants see how many guests watch (a Chinwag extension); guests never do. */
  _renderWatching() {
    const n = this.feed.view.kind === "participant" ? this.feed.guestCount : 0;
    this.watching.textContent = n === 1 ? "1 guest watching" : `${n} guests watching`;
    this.watching.hidden = !n;
  }

  _renderHeader() {
    const c = this.feed.conversation;
    const me = this.session.me.id;
    const people = this._participants();
    const others = people.filter((u) => u.id !== me);
    const names = others.map((u) => u.name);
    const mode = this.options.chatTitleMode || "subject";
    const title = (mode === "subject" && c.subject) || listNames(names) || c.subject || "Conversation";
    this.title.textContent = title;
    const everyone = people.map((u) => (u.id === me ? "You" : u.name));
    const subtitleMode = this.options.chatSubtitleMode === undefined ? "participants" : this.options.chatSubtitleMode;
    this.subtitle.textContent = subtitleMode === "participants" ? listNames(everyone) : subtitleMode === "subject" && mode !== "subject" ? c.subject || "" : "";
    this.subtitle.hidden = !this.subtitle.textContent;
    const photo = c.photoUrl ? { id: c.id, name: title, photoUrl: c.photoUrl } : others.length === 1 ? others[0] : { id: c.id, name: title };
    this.headerAvatar.replaceChildren(avatar(photo, "", others.length !== 1));
    this.guestBadge.hidden = this.feed.view.kind !== "guest";
    this._renderWatching();
    this.el.setAttribute("aria-label", `Chat: ${title}`);
  }

  _renderMessages(change) {
    const list = this.list;
    const fromBottom = list.scrollHeight - list.scrollTop;
    const atBottom = fromBottom - list.clientHeight < 80;
    const me = this.session.me.id;
    const feed = this.feed;
    const nodes = [];
    if (!feed.hasMore) {
      for (const text of feed.conversation.welcomeMessages || []) nodes.push(h("div", { class: "system", role: "note" }, text));
      nodes.unshift(h("div", { class: "history-edge" }, "This is the start of the conversation."));
    } else {
      nodes.push(h("div", { class: "history-edge", "aria-hidden": "true" }, "Scroll up for older messages"));
    }
    let lastDay = null;
    let previous = null;
    const lastMine = [...feed.messages].reverse().find((m) => m.senderId === me);
    const continues = (a, b) => !!a && !!b && a.senderId && b.senderId === a.senderId && b.type !== "SystemMessage"
      && day(a.createdAt) === day(b.createdAt) && b.createdAt - a.createdAt < 5 * 60000;
    feed.messages.forEach((m, i) => {
      const d = day(m.createdAt);
      if (d !== lastDay) {
        nodes.push(h("div", { class: "day", role: "separator" }, d));
        lastDay = d;
        previous = null;
      }
      if (m.type === "SystemMessage" || !m.senderId) {
        nodes.push(h("div", { class: "system", role: "note", "data-message-id": m.id }, m.text));
        previous = null;
        return;
      }
      const cont = continues(previous, m);
      // One time per run of messages: shown under its last one (every one keeps it on hover).
      const endsRun = !continues(m, feed.messages[i + 1]);
      nodes.push(this._message(m, m.senderId === me, cont, endsRun));
      if (lastMine && m.id === lastMine.id) {
        const receipt = this._receipt(m);
        if (receipt) nodes.push(receipt);
      }
      previous = m;
    });
    for (const p of feed.pending) nodes.push(this._pendingRow(p));
    if (feed.view.kind === "former") nodes.push(h("div", { class: "notice", role: "status" }, REMOVED_NOTICE));
    list.replaceChildren(...nodes);
    this._stick = !!(change.reset || atBottom || (change.added && change.added.senderId === me));
    if (this._stick) list.scrollTop = list.scrollHeight;
    else list.scrollTop = list.scrollHeight - fromBottom;
    if (this.editing) {
      const editor = list.querySelector(".edit-box textarea");
      if (editor && this.shadowFocus !== false) editor.focus();
    }
    requestAnimationFrame(() => this._maybeLoadOlder());
  }

  _message(m, mine, cont, endsRun = true) {
    const sender = this.session.userSnapshot(m.senderId) || { id: m.senderId, name: m.senderId };
    const canChange = mine && this.feed.view.canWrite && this.feed.view.kind !== "former";
    let content;
    if (this.editing && this.editing.id === m.id) {
      const editor = h("textarea", { "aria-label": "Edit message", rows: "2" });
      editor.value = this.editing.draft;
      editor.addEventListener("input", () => { this.editing.draft = editor.value; });
      editor.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this._saveEdit(m); }
        if (e.key === "Escape") { e.preventDefault(); this._cancelEdit(); }
      });
      content = h("div", { class: "edit-box" }, editor, h("div", { class: "edit-actions" },
        h("button", { type: "button", onclick: () => this._cancelEdit() }, "Cancel"),
        h("button", { type: "button", class: "primary", onclick: () => this._saveEdit(m) }, "Save")));
    } else {
      const names = { me: this.session.me.id, of: (id) => this.session.userName(id) };
      content = h("div", { class: "text" }, renderContent(m.content, m.text, names));
    }
    const guest = this.feed.guestIds.has(m.id);
    const tag = guest ? h("span", { class: "tag-guest", title: "Sent by a guest: not a participant of this conversation" }, "Guest") : null;
    const bubble = h("div", { class: "bubble", title: new Date(m.createdAt).toLocaleString() },
      !mine && !cont ? h("span", { class: "sender" }, h("span", { style: `color: ${colorFor(sender.id)}` }, sender.name), tag)
        : h("span", { class: "sr" }, mine ? "You" : sender.name, guest ? " (guest)" : ""),
      (mine || cont) && tag ? h("span", { class: "sender", "aria-hidden": "true" }, tag) : null,
      m.referencedMessageId ? this._quote(m.referencedMessageId) : null,
      content,
      this._reactions(m),
      h("div", { class: endsRun || m.editedAt ? "meta" : "meta sr" }, m.editedAt ? h("span", {}, "edited") : null,
        h("time", { datetime: new Date(m.createdAt).toISOString(), class: endsRun ? null : "sr" }, clock(m.createdAt))));
    const canReply = this.feed.view.canWrite && this.feed.view.kind !== "former" && !m._local;
    const editingThis = this.editing && this.editing.id === m.id;
    const actions = (canChange || canReply) && !editingThis
      ? h("div", { class: "actions" },
          canReply ? h("button", { type: "button", "aria-label": `Reply to ${mine ? "your message" : sender.name}`, onclick: () => this._reply(m) }, "Reply") : null,
          canReply ? h("button", { type: "button", "aria-label": "Add a reaction", "aria-expanded": this.picking === m.id ? "true" : "false", onclick: () => this._togglePicker(m.id) }, "React") : null,
          canChange ? h("button", { type: "button", "aria-label": "Edit message", onclick: () => this._startEdit(m) }, "Edit") : null,
          canChange ? h("button", { type: "button", class: "danger", "aria-label": this.confirming === m.id ? "Confirm delete" : "Delete message", onclick: () => this._delete(m) }, this.confirming === m.id ? "Delete?" : "Delete") : null)
      : null;
    return h("div", { class: `row ${mine ? "mine" : ""} ${cont ? "cont" : ""}`, "data-message-id": m.id, "data-sender-id": m.senderId },
      mine ? null : cont ? h("div", { class: "spacer" }) : avatar(sender, "small"),
      bubble, actions);
  }

  /** A message the outbox is still sending ("Sending…") or could not send ("Not sent · Retry"). */
  _pendingRow(p) {
    const failed = p.state === "failed";
    const status = failed
      ? h("div", { class: "pending-status" }, h("span", {}, "Not sent"), " · ",
          h("button", { type: "button", class: "link", onclick: () => this._retry(p) }, "Retry"), " · ",
          h("button", { type: "button", class: "link", onclick: () => this.feed && this.feed.discard(p.key) }, "Discard"))
      : h("div", { class: "pending-status" }, p.waitUntil ? "Waiting to send…" : "Sending…");
    return h("div", { class: `row mine pending ${failed ? "failed" : ""}`, "data-pending-key": p.key, "data-state": failed ? "failed" : "sending" },
      h("div", { class: "bubble" }, h("span", { class: "sr" }, "You"), h("div", { class: "text" }, p.text), status,
        failed ? h("p", { class: "pending-reason" }, sendRefusal(p.error, { muted: this._muted() })) : null));
  }

  async _retry(p) {
    if (!this.feed) return;
    try {
      await this.feed.retry(p.key);
    } catch (error) {
      report(error, "sending a message again");
    }
  }

  /** A guest who may not write although the conversation lets guests write has been muted. */
  _muted() {
    const feed = this.feed;
    if (!feed || !feed.view || feed.view.kind !== "guest" || feed.view.canWrite) return false;
    return !!feed.muted || (!!feed.conversation && feed.conversation.guestAccess === "ReadWrite");
  }

  _receipt(m) {
    const readers = (m.readBy || []).filter((id) => id !== this.session.me.id);
    const others = Object.keys(this.feed.conversation.participants || {}).filter((id) => id !== this.session.me.id);
    if (!readers.length) return h("div", { class: "receipt", "data-receipt": "sent" }, "Sent");
    const text = others.length <= 1 || readers.length >= others.length ? "Read" : `Read by ${listNames(readers.map((id) => this.session.userName(id)))}`;
    return h("div", { class: "receipt", "data-receipt": "read" }, `✓✓ ${text}`);
  }

  _renderFooter() {
    const view = this.feed.view;
    const writable = view.canWrite && view.kind !== "former";
    this.form.hidden = !(writable && this.fieldVisible);
    this.readonly.hidden = true;
    if (!writable && view.kind !== "former") {
      this.readonly.hidden = false;
      this.readonly.textContent = this._muted() ? "You are muted in this conversation: you can read it but not write in it."
        : view.kind === "guest" ? "You are watching this conversation as a guest (read only)."
        : "You can read this conversation but not write in it.";
    }
    this._renderComposerError();
  }

  /** The composer's error line: a send refused here (too long), a wait after a 429, or the
   * newest message the server refused. */
  _renderComposerError() {
    const pending = this.feed ? this.feed.pending : [];
    const waiting = pending.find((p) => p.waitUntil);
    const failed = [...pending].reverse().find((p) => p.state === "failed");
    let text = this._localError;
    clearTimeout(this._tick);
    if (!text && waiting) {
      const seconds = Math.max(1, Math.ceil((waiting.waitUntil - Date.now()) / 1000));
      text = `You are sending messages too fast; sending again in ${seconds} s.`;
      this._tick = setTimeout(() => this._renderComposerError(), 1000); // count down
    }
    if (!text && failed) text = `Not sent: ${sendRefusal(failed.error, { muted: this._muted() })}`;
    if (this.composerError.textContent !== text) this.composerError.textContent = text;
    this.composerError.hidden = !text;
    this.notes.hidden = this.composerError.hidden && this.counter.hidden;
  }

  _setLocalError(text) {
    this._localError = text || "";
    this._renderComposerError();
  }

  _renderCounter() {
    const value = this.textarea.value;
    const n = value.length < COUNTER_FROM ? 0 : [...value].length;
    this.counter.hidden = n < COUNTER_FROM;
    this.counter.textContent = `${number(n)} / ${number(MAX_TEXT)}`;
    this.counter.classList.toggle("over", n > MAX_TEXT);
    this.notes.hidden = this.composerError.hidden && this.counter.hidden;
  }

  _renderTyping() {
    if (!this.feed) return this.typing.replaceChildren();
    const names = this.feed.typingUsers.map((id) => this.session.userName(id));
    if (!names.length) return this.typing.replaceChildren();
    const text = names.length > 3 ? "Several people are typing" : `${listNames(names)} ${names.length === 1 ? "is" : "are"} typing`;
    this.typing.replaceChildren(h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), ` ${text}…`);
  }

  // --- actions --------------------------------------------------------------------------

  async _maybeLoadOlder() {
    const feed = this.feed;
    if (!feed || !feed.hasMore) return;
    const fills = this.list.scrollHeight > this.list.clientHeight + 10;
    if (this.list.scrollTop < 80 || !fills) {
      try {
        await feed.loadOlder();
      } catch (error) {
        report(error, "loading older messages");
      }
    }
  }

  _markRead() {
    clearTimeout(this._readTimer);
    this._readTimer = setTimeout(() => {
      if (this.feed && this.box.visible && document.visibilityState === "visible") this.feed.markRead();
    }, 250);
  }

  _autosize() {
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight + 2, 140)}px`;
  }

  async _submit() {
    const feed = this.feed;
    const raw = this.textarea.value;
    if (!feed || !raw.trim()) return;
    const outgoing = this.box._beforeSend(this._withMentions(raw.trim()), feed);
    if (!outgoing) return;
    const length = [...outgoing.text].length;
    if (length > MAX_TEXT) {
      // Refused here, before it is shown as sent: the field keeps the text to shorten.
      this._setLocalError(`This message is ${number(length)} characters long; the limit is ${number(MAX_TEXT)}. Shorten it to send it.`);
      return;
    }
    this._setLocalError("");
    this.textarea.value = "";
    this._autosize();
    this._renderCounter();
    const replyTo = this.replying ? this.replying.id : null;
    this._reply(null);
    this.mentioned.clear();
    this._closeMentions();
    try {
      await feed.send(outgoing.text, outgoing.custom, replyTo);
      this.status.textContent = "Message sent";
    } catch (error) {
      // The message stays in the list as "Not sent · Retry", with the reason beside the field.
      this.status.textContent = `Not sent: ${sendRefusal(error, { muted: this._muted() })}`;
      report(error, "sending a message");
    }
  }

  // --- @mentions in the composer -----------------------------------------------------------

  /** The participants (never guests) whose name starts with what follows the "@" being typed. */
  _offerMentions() {
    const before = this.textarea.value.slice(0, this.textarea.selectionStart);
    const match = /(^|\s)@([^\s@]{0,30})$/.exec(before);
    const people = this.feed && this.feed.conversation ? Object.keys(this.feed.conversation.participants || {}) : [];
    if (!match || !people.length) return this._closeMentions();
    const typed = match[2].toLowerCase();
    const me = this.session.me.id;
    this._candidates = people.filter((id) => id !== me)
      .map((id) => ({ id, name: this.session.userName(id) }))
      .filter((p) => p.name.toLowerCase().startsWith(typed) || p.id.toLowerCase().startsWith(typed))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, 6);
    this._mentionAt = before.length - match[2].length - 1;
    if (!this._candidates.length) return this._closeMentions();
    this._active = Math.min(this._active || 0, this._candidates.length - 1);
    this._renderMentions();
  }

  _renderMentions() {
    this.mentionList.replaceChildren(...this._candidates.map((p, i) => h("li", {
      role: "option", id: `${this.mentionList.id}-${i}`, "aria-selected": i === this._active ? "true" : "false",
      class: i === this._active ? "active" : "",
      onmousedown: (e) => { e.preventDefault(); this._pickMention(p); },
    }, p.name)));
    this.mentionList.hidden = false;
    this.textarea.setAttribute("aria-controls", this.mentionList.id);
    this.textarea.setAttribute("aria-activedescendant", `${this.mentionList.id}-${this._active}`);
  }

  _closeMentions() {
    this._candidates = [];
    this._active = 0;
    if (!this.mentionList) return;
    this.mentionList.hidden = true;
    this.textarea.removeAttribute("aria-activedescendant");
  }

  /** Arrow keys, Enter or Tab, Escape while the list is open; whether the key was handled. */
  _mentionKey(e) {
    if (this.mentionList.hidden || !this._candidates.length) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const n = this._candidates.length;
      this._active = (this._active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      this._renderMentions();
    } else if (e.key === "Enter" || e.key === "Tab") {
      this._pickMention(this._candidates[this._active]);
    } else if (e.key === "Escape") {
      this._closeMentions();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  _pickMention(person) {
    const value = this.textarea.value;
    const end = this.textarea.selectionStart;
    const label = `@${person.name}`;
    this.textarea.value = `${value.slice(0, this._mentionAt)}${label} ${value.slice(end)}`;
    const caret = this._mentionAt + label.length + 1;
    this.textarea.setSelectionRange(caret, caret);
    this.mentioned.set(label, person.id);
    this._closeMentions();
    this.textarea.focus();
  }

  /** The text to send: each "@Name" picked from the list becomes the markup <@userId>. */
  _withMentions(text) {
    let out = text;
    for (const [label, id] of [...this.mentioned].sort((a, b) => b[0].length - a[0].length)) {
      out = out.split(label).join(`<@${id}>`);
    }
    return out;
  }

  // --- reactions ---------------------------------------------------------------------------

  /** The chips under a message (and, when open, the picker of common emoji). */
  _reactions(m) {
    const can = this.feed.view.canWrite && this.feed.view.kind !== "former" && !m._local;
    const chips = (m.reactions || []).map((r) => h("button", {
      type: "button", class: r.currentUserReacted ? "chip mine" : "chip", "aria-pressed": r.currentUserReacted ? "true" : "false",
      "aria-label": `${r.emoji} ${r.count}${r.currentUserReacted ? ", including you" : ""}`, disabled: !can,
      onclick: () => this._react(m, r.emoji, !r.currentUserReacted),
    }, `${r.emoji} ${r.count}`));
    const picker = this.picking === m.id && can
      ? h("div", { class: "picker", role: "group", "aria-label": "Pick a reaction" }, COMMON_EMOJI.map((e) => h("button", {
          type: "button", "aria-label": `React with ${e}`, onclick: () => { this.picking = null; this._react(m, e, true); },
        }, e)))
      : null;
    return chips.length || picker ? h("div", { class: "reactions" }, chips, picker) : null;
  }

  _togglePicker(id) {
    this.picking = this.picking === id ? null : id;
    this.render({});
  }

  async _react(m, emoji, on) {
    try {
      await this.feed.react(m.id, emoji, on);
    } catch (error) {
      this.status.textContent = `Reaction not saved: ${sendRefusal(error, { muted: this._muted() })}`;
      report(error, "reacting to a message");
    }
    this.render({});
  }

  /** Reply to `m` from the composer (null: no reply). */
  _reply(m) {
    this.replying = m || null;
    if (!this.replyBar) return;
    this.replyBar.hidden = !m;
    this.replyQuote.textContent = m ? `Replying to ${this._quoteLine(m)}` : "";
    if (m) this.focus();
  }

  /** "Sebastian: the first line" of a message, for quotes. */
  _quoteLine(m) {
    const who = m.senderId ? (m.senderId === this.session.me.id ? "you" : this.session.userName(m.senderId)) : "System";
    const line = (m.text || "").split("\n")[0];
    return `${who}: ${line.length > 80 ? `${line.slice(0, 79)}…` : line}`;
  }

  /** The compact quote of the message a reply refers to; a click shows the original. */
  _quote(id) {
    const original = this.feed.messages.find((x) => x.id === id);
    const label = original ? this._quoteLine(original) : this.feed.hasMore ? "an earlier message" : "deleted message";
    return h("button", { type: "button", class: "quote", "data-quote-of": id, "aria-label": `Show the message replied to: ${label}`, onclick: () => this._jumpTo(id) }, label);
  }

  /** Scroll to a message, loading older history until it is there. */
  async _jumpTo(id) {
    const found = await this.feed.find(id).catch(() => false);
    const row = found ? this.list.querySelector(`[data-message-id="${CSS.escape(id)}"]`) : null;
    if (!row) return;
    row.scrollIntoView({ block: "center" });
    row.classList.add("flash");
    setTimeout(() => row.classList.remove("flash"), 1600);
  }

  _startEdit(m) {
    this.editing = { id: m.id, draft: m.text };
    this.render({});
  }

  _cancelEdit() {
    this.editing = null;
    this.render({});
    this.focus();
  }

  async _saveEdit(m) {
    const text = (this.editing && this.editing.draft || "").trim();
    this.editing = null;
    if (text && text !== m.text) {
      try {
        await this.feed.edit(m.id, text);
      } catch (error) {
        report(error, "editing a message");
      }
    }
    this.render({});
  }

  async _delete(m) {
    if (this.confirming !== m.id) {
      this.confirming = m.id;
      clearTimeout(this._confirmTimer);
      this._confirmTimer = setTimeout(() => { this.confirming = null; if (this.feed) this.render({}); }, 4000);
      this.render({});
      const again = this.list.querySelector(`[data-message-id="${CSS.escape(m.id)}"] .danger`);
      if (again) again.focus();
      return;
    }
    this.confirming = null;
    try {
      await this.feed.remove(m.id);
    } catch (error) {
      report(error, "deleting a message");
    }
  }
}
