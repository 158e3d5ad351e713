// Every realtime path the SDK uses, in one place, and the events it understands. The paths mirror
// the REST resources (docs/protocol.md); nothing else in the SDK spells a path.

const enc = encodeURIComponent;

export class Remote {
  constructor(connection) {
    this.connection = connection;
  }

  call(method, path, data) {
    return this.connection.request(method, path, data);
  }

  syncUser(id, fields) {
    return this.call("PUT", `/users/${enc(id)}`, fields);
  }

  getUser(id) {
    return this.call("GET", `/users/${enc(id)}`);
  }

  setConversation(id, fields) {
    return this.call("PUT", `/conversations/${enc(id)}`, fields);
  }

  setParticipant(conversationId, userId, fields) {
    return this.call("PUT", `/conversations/${enc(conversationId)}/participants/${enc(userId)}`, fields);
  }

  leave(conversationId, userId) {
    return this.call("DELETE", `/conversations/${enc(conversationId)}/participants/${enc(userId)}`);
  }

  ping() {
    return this.call("GET", "/ping");
  }

  myConversations(limit = 100) {
    return this.call("GET", "/me/conversations", { limit });
  }

  /** Start following a conversation (as a participant, or as a guest). */
  select(conversationId, asGuest, invite, after) {
    const data = { asGuest: !!asGuest };
    if (invite) data.invite = invite;
    if (typeof after === "number") data.after = after;
    return this.call("SUBSCRIBE", `/me/conversations/${enc(conversationId)}`, data);
  }

  unselect(conversationId) {
    return this.call("UNSUBSCRIBE", `/me/conversations/${enc(conversationId)}`);
  }

  /** A page of messages, newest first, older than the message `before` (an id). */
  history(conversationId, limit, before) {
    const data = { limit };
    if (before) data.before = before;
    return this.call("GET", `/me/conversations/${enc(conversationId)}/messages`, data);
  }

  send(conversationId, message) {
    return this.call("POST", `/conversations/${enc(conversationId)}/messages`, message);
  }

  edit(conversationId, messageId, fields) {
    return this.call("PATCH", `/conversations/${enc(conversationId)}/messages/${enc(messageId)}`, fields);
  }

  /** Add (`on`) or take back the session user's emoji reaction to a message. */
  react(conversationId, messageId, emoji, on) {
    return this.call(on ? "PUT" : "DELETE", `/conversations/${enc(conversationId)}/messages/${enc(messageId)}/reactions/${enc(emoji)}`);
  }

  remove(conversationId, messageId) {
    return this.call("DELETE", `/conversations/${enc(conversationId)}/messages/${enc(messageId)}`);
  }

  markRead(conversationId) {
    return this.call("POST", `/me/conversations/${enc(conversationId)}/read`, {});
  }

  /** How many guests watch (participants only). */
  guestCount(conversationId) {
    return this.call("GET", `/me/conversations/${enc(conversationId)}/guests`);
  }

  /** Guest moderation (moderators only): `action` "kick", or "ban" / "mute" (PUT; DELETE lifts). */
  moderateGuest(conversationId, userId, method, action, data) {
    return this.call(method, `/conversations/${enc(conversationId)}/guests/${enc(userId)}/${action}`, data);
  }

  createInvite(conversationId, data) {
    return this.call("POST", `/conversations/${enc(conversationId)}/invites`, data);
  }

  revokeInvite(conversationId, inviteId) {
    return this.call("DELETE", `/conversations/${enc(conversationId)}/invites/${enc(inviteId)}`);
  }

  typing(conversationId) {
    return this.call("POST", `/me/conversations/${enc(conversationId)}/typing`, { isTyping: true });
  }
}

/** One pushed event: `{type, conversationId, position, ...data}` (docs/protocol.md, Events). */
export function normalizeEvent(raw) {
  if (!raw || typeof raw !== "object" || typeof raw.type !== "string") return null;
  if (raw.conversationId || !raw.message) return raw;
  return { ...raw, conversationId: raw.message.conversationId };
}
