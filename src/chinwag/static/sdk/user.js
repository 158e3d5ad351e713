// `new Talk.User(options | id)`: a user to sync from the browser, or a reference to an existing one.

import { ErrorCode, TalkError } from "./errors.js";

const FIELDS = ["name", "email", "phone", "photoUrl", "welcomeMessage", "role", "locale", "custom", "availabilityText"];

export class User {
  constructor(options) {
    if (typeof options === "string" || typeof options === "number") {
      this.id = String(options);
      this._fields = null; // a reference: never synced, so it works with user sync disallowed
      return;
    }
    if (!options || typeof options !== "object" || options.id === undefined || options.id === null || options.id === "") {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, "new Talk.User(...) needs an id: new Talk.User({id, name}) or new Talk.User(id)");
    }
    if (typeof options.name !== "string" || !options.name) {
      throw new TalkError(ErrorCode.ARGUMENT_INVALID, `new Talk.User({id: ${JSON.stringify(options.id)}}) needs a name; to refer to an existing user without syncing it, use new Talk.User(id)`);
    }
    this.id = String(options.id);
    this._fields = {};
    for (const key of FIELDS) {
      if (options[key] !== undefined) {
        this[key] = options[key];
        this._fields[key] = options[key];
      }
    }
    if (options.configuration !== undefined && options.role === undefined) {
      this.role = this._fields.role = options.configuration;
    }
    if (typeof this._fields.email === "string") this._fields.email = [this._fields.email];
    if (typeof this._fields.phone === "string") this._fields.phone = [this._fields.phone];
  }

  /** The fields to sync, or null for a bare reference. */
  get syncFields() {
    return this._fields ? { ...this._fields } : null;
  }
}

/** The id of a `User`, a user-like object or a bare id. */
export function userId(user) {
  if (typeof user === "string" || typeof user === "number") return String(user);
  if (user && user.id !== undefined && user.id !== null) return String(user.id);
  throw new TalkError(ErrorCode.ARGUMENT_INVALID, "expected a Talk.User or a user id");
}
