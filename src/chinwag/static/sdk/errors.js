// Errors that reach the integrator's page: rejected promises and console errors that say what to change.

export const ErrorCode = Object.freeze({
  NOTIFICATIONS_PERMISSION_DENIED: 0,
  NOTIFICATIONS_NOT_SUPPORTED: 1,
  ARGUMENT_INVALID: 2,
});

/** A wrong argument given to the SDK (the hosted product's `Talk.Error`). */
export class TalkError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "TalkError";
    this.code = code;
  }
}

const HINTS = {
  UNAUTHORIZED:
    "Identity verification is on for this app, or the credentials are wrong. Pass `signature` (hex " +
    "HMAC-SHA256 of the user id, keyed by the app's secret key, computed on your backend) or `token` " +
    "(a user JWT) to new Talk.Session({...}).",
  SYNC_NOT_ALLOWED:
    "The app disallows this synchronization via the browser (dashboard, Security settings). Create " +
    "users and conversations from your backend with the REST API and refer to existing users with " +
    "new Talk.User(id), or allow browser synchronization in the dashboard.",
  GUEST_ACCESS_NOT_ALLOWED:
    "Guest access needs both \"Disallow user synchronization via the browser\" and \"Disallow " +
    "conversation synchronization via the browser\" unchecked in the dashboard, and a conversation " +
    "whose guestAccess is not \"None\".",
  NOT_A_PARTICIPANT:
    "You are trying to read a conversation which does not exist or does not belong to you. Call " +
    "conversation.setParticipant(me) before selecting it, or select it with {asGuest: true}.",
  CONVERSATION_NOT_FOUND:
    "The conversation does not exist. Create it with session.getOrCreateConversation(id) and " +
    "setParticipant(...), or from your backend with the REST API.",
  USER_NOT_FOUND:
    "The user does not exist yet. Create it with new Talk.User({id, name, ...}) (needs user " +
    "synchronization via the browser) or from your backend with PUT /v1/{appId}/users/{id}.",
  NOT_ALLOWED_TO_WRITE: "This user's access to the conversation (Read or None) does not allow writing.",
  PARTICIPANT_LIMIT_REACHED:
    "The conversation reached the app's participant limit (dashboard: participant limit). Use guest " +
    "access for large audiences.",
  RATE_LIMITED: "Too many requests; slow down and retry.",
};

/** A request the server refused, with its error code, reasons and a hint of what to change. */
export class ChinwagError extends Error {
  constructor(status, body) {
    const code = (body && body.errorCode) || "ERROR";
    const reasons = (body && Array.isArray(body.reasons) && body.reasons) || [];
    const hint = HINTS[code] || "";
    super(`${code}: ${reasons.join("; ") || "request failed"}${hint ? `. ${hint}` : ""}`);
    this.name = "ChinwagError";
    this.status = status;
    this.errorCode = code;
    this.reasons = reasons;
    this.hint = hint;
    /** Seconds to wait before trying again (429 only), else null. */
    this.retryAfter = body && typeof body.retryAfter === "number" ? body.retryAfter : null;
  }
}

/** Failures that say nothing about the request itself: it may be tried again as it is. */
export function isTransient(error) {
  const code = error && error.errorCode;
  return code === "CONNECTION_LOST" || (!!error && typeof error.status === "number" && error.status >= 500);
}

/** One sentence for a person, saying why a message was not sent (the composer shows it). */
export function sendRefusal(error, { muted = false } = {}) {
  const code = error && error.errorCode;
  const reason = (error && error.reasons && error.reasons[0]) || (error && error.message) || String(error);
  if (code === "NOT_ALLOWED_TO_WRITE" && muted) return "You are muted in this conversation.";
  if (code === "NOT_ALLOWED_TO_WRITE" || code === "NOT_A_PARTICIPANT") return `You can't write in this conversation (${reason}).`;
  if (code === "GUEST_ACCESS_NOT_ALLOWED" || code === "GUEST_BANNED") return `You can't write here as a guest (${reason}).`;
  if (code === "RATE_LIMITED") {
    const wait = error.retryAfter ? ` Try again in ${Math.max(1, Math.ceil(error.retryAfter))} s.` : "";
    return `You are sending messages too fast.${wait}`;
  }
  if (code === "PAYLOAD_TOO_LARGE" || (code === "INVALID_REQUEST" && /long|length|characters/i.test(reason))) return `The message is too long (${reason}).`;
  if (code === "SESSION_DESTROYED") return "The chat was closed before the message was sent.";
  return reason;
}

/** Log an error to the console the way every SDK failure is logged, and return it. */
export function report(error, context) {
  const where = context ? ` (${context})` : "";
  console.error(`[Chinwag]${where} ${error && error.message ? error.message : error}`);
  return error;
}
