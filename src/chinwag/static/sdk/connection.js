// The one module that knows the realtime socket: frames `[seq, METHOD, path, data]` answered by
// `[seq, status, body]`, pushes `[n, "PUBLISH", ...events]` acknowledged with `[n, "ACK"]`
// (cumulative: one ACK per burst of pushes, which spares the server a frame per push).
// Everything above it calls `request()` and listens to "event", "open", "reconnected",
// "disconnected", "closed" and "state" (the socket's own state, every time it changes).

import { ChinwagError } from "./errors.js";
import { Emitter } from "./emitter.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const ACK_AFTER_MS = 1000; // pushes within this long share one cumulative ACK (the server needs none)
const PING_AFTER_MS = 25000; // client silence after which a ping keeps proxies from dropping the socket
const PING_ANSWER_MS = 10000; // a ping unanswered this long means the socket died silently

export class Connection extends Emitter {
  /** `urlFor()` returns the socket URL (it may change, e.g. when a token is refreshed). */
  /** `refresh()` (optional) is asked for new credentials when the server refuses a reconnect;
   * it resolves to whether it got some. */
  constructor(urlFor, { WebSocketImpl = globalThis.WebSocket, refresh = null } = {}) {
    super();
    this._urlFor = urlFor;
    this._refresh = refresh;
    this._WebSocket = WebSocketImpl;
    this._socket = null;
    this._seq = 0;
    this._pending = new Map(); // seq -> {resolve, reject, frame}
    this._queue = []; // frames waiting for the socket to open
    this._closed = false;
    this._everOpened = false;
    this._failures = 0;
    this._timer = null;
    this._state = "idle"; // idle | connecting | open | waiting | closed
  }

  /** idle | connecting | open | waiting (for the next attempt) | closed; "state" is emitted on change. */
  get state() {
    return this._state;
  }

  set state(value) {
    if (value === this._state) return;
    this._state = value;
    this.emit("state", value);
  }

  /** Try again now instead of at the end of the backoff (a "Retry" button, the browser going
   * online). Does nothing while a socket is open or opening, or once closed for good. */
  retryNow() {
    if (this._closed || this.state !== "waiting") return;
    clearTimeout(this._timer);
    this._failures = Math.min(this._failures, 1);
    this._connect();
  }

  /** Open the socket; resolves once it is open the first time, rejects if it never opens. */
  start() {
    if (!this._started) {
      this._started = new Promise((resolve, reject) => {
        this._firstOpen = { resolve, reject };
      });
      this._connect();
    }
    return this._started;
  }

  /** Send one request; resolves with the body of a 2xx answer, rejects with a ChinwagError. */
  request(method, path, data) {
    if (this._closed) return Promise.reject(this._error || new ChinwagError(0, { errorCode: "SESSION_DESTROYED", reasons: ["the session was destroyed"] }));
    return new Promise((resolve, reject) => {
      const seq = this._seq++;
      const frame = data === undefined ? [seq, method, path] : [seq, method, path, data];
      this._pending.set(seq, { resolve, reject, frame });
      if (this.state === "open") this._send(frame);
      else this._queue.push(frame);
    });
  }

  /** Give up this socket now rather than when it times out (the browser went offline, or a
   * ping went unanswered), and reconnect as after any lost connection. */
  drop(reason = "the browser went offline") {
    const socket = this._socket;
    if (this._closed || !socket || !socket.onclose) return;
    const lost = socket.onclose;
    socket.onclose = null;
    socket.onmessage = null;
    try {
      socket.close(1000, reason);
    } catch {
      // already closing
    }
    lost({ code: 1006, reason });
  }

  close() {
    this._closed = true;
    this.state = "closed";
    clearTimeout(this._timer);
    clearTimeout(this._pingTimer);
    if (this._socket) this._socket.close(1000, "session destroyed");
    this._failAll(new ChinwagError(0, { errorCode: "SESSION_DESTROYED", reasons: ["the session was destroyed"] }), true);
  }

  _connect() {
    if (this._closed) return;
    this.state = "connecting";
    let socket;
    try {
      socket = new this._WebSocket(this._urlFor());
    } catch (error) {
      this.state = "closed";
      this._firstOpen.reject(error);
      return;
    }
    this._socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this._refreshing = false;
      this._failures = 0;
      this.state = "open";
      const again = this._everOpened;
      this._everOpened = true;
      const queued = this._queue.splice(0);
      for (const frame of queued) this._send(frame);
      if (again) this.emit("reconnected");
      else this._firstOpen.resolve();
      this.emit("open");
    };
    socket.onmessage = (message) => this._receive(message.data);
    socket.onclose = (event) => {
      if (this._socket !== socket) return;
      this._socket = null;
      clearTimeout(this._ackTimer); // push numbers start again on the next socket
      this._ackTimer = null;
      if (this._closed) return;
      const refused = event.code >= 4400 && event.code < 4500 && event.code !== 4429;
      if (refused && event.code === 4401 && this._everOpened && this._refresh && !this._refreshing) {
        // A token expired while away: fetch a new one and try once more.
        this._refreshing = true;
        this.state = "waiting";
        this._failAll(new ChinwagError(0, { errorCode: "CONNECTION_LOST", reasons: ["reconnecting with new credentials"] }));
        Promise.resolve(this._refresh()).then((ok) => (ok ? this._connect() : this._fatal(event)), () => this._fatal(event));
        return;
      }
      if (refused || (!opened && !this._everOpened && this._failures >= 2)) {
        this._fatal(event);
        return;
      }
      // Requests in flight may or may not have run: fail them, the caller decides to retry.
      this._failAll(new ChinwagError(0, { errorCode: "CONNECTION_LOST", reasons: ["the connection to the chat server was lost"] }));
      this.state = "waiting";
      this.emit("disconnected", event);
      const base = BACKOFF_MS[Math.min(this._failures, BACKOFF_MS.length - 1)];
      this._failures += 1;
      this._timer = setTimeout(() => this._connect(), base / 2 + Math.random() * base);
    };
  }

  /** The server refused this session (4000 + HTTP status, reason "CODE: why"): final. */
  _fatal(event) {
    const refused = event.code >= 4400 && event.code < 4500;
    const [code, ...why] = (event.reason || "").split(": ");
    const error = new ChinwagError(refused ? event.code - 4000 : 0, {
      errorCode: refused && code ? code : "CONNECTION_FAILED",
      reasons: [why.join(": ") || `could not open the realtime connection (close code ${event.code})`],
    });
    this._closed = true;
    clearTimeout(this._pingTimer);
    this._error = error;
    this.state = "closed";
    this._failAll(error);
    this._firstOpen.reject(error);
    this.emit("closed", error);
  }

  _send(frame) {
    this._socket.send(JSON.stringify(frame));
    clearTimeout(this._pingTimer);
    this._pingTimer = setTimeout(() => {
      if (this.state !== "open") return;
      const socket = this._socket;
      const dead = setTimeout(() => { if (this._socket === socket) this.drop("a ping went unanswered"); }, PING_ANSWER_MS);
      this.request("GET", "/ping").catch(() => {}).finally(() => clearTimeout(dead));
    }, PING_AFTER_MS);
  }

  _receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      console.error("[Chinwag] the server sent a frame that is not JSON:", raw);
      return;
    }
    if (!Array.isArray(frame)) return;
    const [seq, status, ...rest] = frame;
    if (status === "PUBLISH") {
      this._ackUpTo = seq;
      const socket = this._socket;
      if (socket && !this._ackTimer) {
        this._ackTimer = setTimeout(() => {
          this._ackTimer = null;
          if (this._socket === socket && socket.readyState === 1) socket.send(JSON.stringify([this._ackUpTo, "ACK"]));
        }, ACK_AFTER_MS);
      }
      for (const event of rest) this.emit("event", event);
      return;
    }
    const pending = this._pending.get(seq);
    if (!pending) return;
    this._pending.delete(seq);
    const body = rest[0];
    if (typeof status === "number" && status >= 200 && status < 300) pending.resolve(body === undefined ? {} : body);
    else pending.reject(new ChinwagError(status, body));
  }

  /** Reject requests in flight (and, when `all`, also those still queued) with `error`. */
  _failAll(error, all = this._closed) {
    for (const [seq, pending] of this._pending) {
      if (!all && this._queue.includes(pending.frame)) continue;
      this._pending.delete(seq);
      pending.reject(error);
    }
    if (all) this._queue = [];
  }
}
