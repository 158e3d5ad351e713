// `session.getOrCreateConversation(id)`: a ConversationBuilder whose changes are sent in order.

import { ErrorCode, TalkError, report } from "./errors.js";
import { User, userId } from "./user.js";

const ACCESS = ["ReadWrite", "Read", "None"];

export class ConversationBuilder {
  constructor(session, id) {
    this._session = session;
    this.id = id;
    this.subject = undefined;
    this.photoUrl = undefined;
    this.custom = undefined;
    this.welcomeMessages = undefined;
    // Every change waits for the one before it; select() waits for all of them.
    this._chain = session._ready.then(() => this._ensure());
    this._chain.catch(() => {});
  }

  /** Runs `step` after every earlier change; the promise is returned, and never unhandled. */
  _then(what, step) {
    const next = this._chain.catch(() => {}).then(step);
    this._chain = next;
    next.catch((error) => report(error, `${what} on conversation ${JSON.stringify(this.id)}`));
    return next;
  }

  async _ensure() {
    try {
      await this._session._remote.setConversation(this.id, {});
    } catch (error) {
      // With conversation sync disallowed, existing conversations can still be used.
      if (error.errorCode !== "SYNC_NOT_ALLOWED") throw report(error, `creating conversation ${JSON.stringify(this.id)}`);
    }
  }

  /** Add or change a participant; `access` "ReadWrite" | "Read" (or "None"), `notify` true | false | "MentionsOnly". */
  setParticipant(user, options = {}) {
    const id = userId(user);
    const fields = {};
    if (options.access !== undefined) {
      if (!ACCESS.includes(options.access)) throw new TalkError(ErrorCode.ARGUMENT_INVALID, `access must be one of ${ACCESS.join(", ")}`);
      fields.access = options.access;
    }
    if (options.notify !== undefined) {
      if (typeof options.notify !== "boolean" && options.notify !== "MentionsOnly") throw new TalkError(ErrorCode.ARGUMENT_INVALID, 'notify must be true, false or "MentionsOnly"');
      fields.notify = options.notify;
    }
    const sync = user instanceof User ? user.syncFields : null;
    return this._then("setParticipant", async () => {
      if (sync && id !== this._session.me.id) await this._session._syncUser(id, sync);
      await this._session._remote.setParticipant(this.id, id, fields);
    });
  }

  /** Set subject, photoUrl, custom, welcomeMessages (`null` clears, `undefined` keeps), and
   * (a Chinwag extension) guestAccess "ReadWrite" | "Read" | "None". */
  setAttributes(attributes = {}) {
    const fields = {};
    if (attributes.guestAccess !== undefined && !ACCESS.includes(attributes.guestAccess)) {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, `guestAccess must be one of ${ACCESS.join(", ")}`);
    }
    for (const key of ["subject", "photoUrl", "custom", "welcomeMessages", "guestAccess"]) {
      if (attributes[key] !== undefined) {
        fields[key] = attributes[key];
        this[key] = attributes[key];
      }
    }
    return this._then("setAttributes", () => this._session._remote.setConversation(this.id, fields));
  }

  /** Send a message as the current user. */
  sendMessage(text, options = {}) {
    if (typeof text !== "string" || !text) throw new TalkError(ErrorCode.ARGUMENT_INVALID, "sendMessage needs a non-empty text");
    const ref = options.referencedMessageId || (options.referencedMessage && options.referencedMessage.id) || null;
    return this._then("sendMessage", () => this._session._send(this.id, text, options.custom, null, ref));
  }

  /** Leave the conversation (remove the current user); resolves to whether it worked. */
  leave() {
    return this._then("leave", () => this._session._remote.leave(this.id, this._session.me.id)).then(
      () => true,
      () => false,
    );
  }

  // -- Chinwag extensions: guest moderation, for participants whose role is in the app's
  // moderatorRoles (docs/guests.md); the server refuses anyone else with NOT_A_MODERATOR.

  /** Unlink one guest now, on every node; they may come back unless banned. */
  kickGuest(user, options = {}) {
    return this._moderate("kickGuest", user, "POST", "kick", _reason(options));
  }

  /** Make one guest read-only, for `durationSeconds` or until unmuted. */
  muteGuest(user, options = {}) {
    return this._moderate("muteGuest", user, "PUT", "mute", _restriction(options));
  }

  unmuteGuest(user) {
    return this._moderate("unmuteGuest", user, "DELETE", "mute");
  }

  /** Ban one user as a guest (unlinked now; refused on reconnect), for `durationSeconds` or until unbanned. */
  banGuest(user, options = {}) {
    return this._moderate("banGuest", user, "PUT", "ban", _restriction(options));
  }

  unbanGuest(user) {
    return this._moderate("unbanGuest", user, "DELETE", "ban");
  }

  /** Mint an invite: resolves to `{id, token, access, expiresAt, ...}`; pass `token` as `select(id, {invite})`. */
  createInvite(options = {}) {
    const data = {};
    if (options.access !== undefined) data.access = options.access;
    if (options.expiresInSeconds !== undefined) data.expiresInSeconds = options.expiresInSeconds;
    return this._then("createInvite", () => this._session._remote.createInvite(this.id, data));
  }

  revokeInvite(inviteId) {
    return this._then("revokeInvite", () => this._session._remote.revokeInvite(this.id, inviteId)).then(() => undefined);
  }

  /** How many guests watch now, on every node (participants only; never who). */
  guestCount() {
    return this._then("guestCount", () => this._session._remote.guestCount(this.id)).then((r) => r.count);
  }

  _moderate(what, user, method, action, data) {
    const id = userId(user);
    return this._then(what, () => this._session._remote.moderateGuest(this.id, id, method, action, data)).then(() => undefined);
  }

  /** Resolves once every change made so far reached the server (rejects if one was refused). */
  get synced() {
    return this._chain;
  }
}

function _reason(options) {
  return options.reason !== undefined ? { reason: options.reason } : {};
}

function _restriction(options) {
  const data = _reason(options);
  if (options.durationSeconds !== undefined) data.durationSeconds = options.durationSeconds;
  return data;
}
