// The `Talk` namespace: what `/talk.js` puts on `window` and `/talk.mjs` exports.

import { ErrorCode, TalkError, ChinwagError } from "./errors.js";
import { sha1Hex } from "./sha1.js";
import { User, userId } from "./user.js";
import { Session, randomHex } from "./session.js";
import { ConversationBuilder } from "./conversation.js";

/** The id of the one-on-one conversation of two users: the hosted product's formula. */
function oneOnOneId(me, other) {
  const pair = [userId(me), userId(other)].sort();
  return sha1Hex(JSON.stringify(pair)).slice(0, 20);
}

/** An unguessable conversation id: 128 random bits as 32 hex characters. */
function randomConversationId() {
  return randomHex(16);
}

export const Talk = {
  version: "chinwag-1",
  ready: Promise.resolve(),
  User,
  Session,
  ConversationBuilder,
  Error: TalkError,
  ErrorCode,
  ChinwagError,
  oneOnOneId,
  randomConversationId,
  unguessableId: randomConversationId,
};

export default Talk;
