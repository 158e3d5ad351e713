// The body of the `talkjs` package's two entry points (index.mjs and index.cjs). The Chinwag server
// builds them from this file when it serves GET /npm/talkjs.tgz: it puts its own URL in `SERVER`
// above this body and the module's exports below it (see chinwag/web/npm.py).
//
// Like the hosted product's package, this is only a loader. The rules it keeps:
//
// - Importing it in a browser starts loading `${SERVER}/talk.js` (async, once per page); importing
//   it anywhere else (server-side rendering, Node) does nothing.
// - `Talk.ready` is a promise that resolves once the SDK is there; then `Talk.User`,
//   `Talk.Session` and the other members are on `Talk` itself. Where `window` is undefined,
//   reading `Talk.ready` throws an error that says so.
// - While the script loads, `window.Talk` is the same placeholder the hosted product's loader
//   snippet leaves (`{v: 3, ready: {then, catch, c}}`), which `/talk.js` completes and drains; if
//   the page already has `window.Talk` (a script tag, the snippet, another copy of this package)
//   that one is used and the script is not injected again.
// - If the script cannot be loaded, `Talk.ready` rejects with an error naming its URL.

function isPlaceholder(ready) {
  return !!ready && typeof ready === "object" && Array.isArray(ready.c) && typeof ready.then === "function";
}

/** A placeholder `window.Talk` whose `ready` queues callbacks until /talk.js drains them. */
function placeholder() {
  const queue = [];
  const push = (callback) => new Promise((resolve, reject) => queue.push([callback, resolve, reject]));
  return { v: 3, ready: { then: (callback) => push(callback), catch: () => push(undefined), c: queue } };
}

/** Resolves to the page's complete `window.Talk`, injecting the script when nobody else has. */
function loadSdk(win, server) {
  const held = win.Talk;
  if (held && typeof held === "object" && isPlaceholder(held.ready)) {
    return new Promise((resolve) => { held.ready.then(() => resolve(win.Talk)); });
  }
  if (held && typeof held === "object" && typeof held.Session === "function") {
    return Promise.resolve(held.ready).then(() => held);
  }
  const doc = win.document;
  const src = `${server}/talk.js`;
  const loading = placeholder();
  win.Talk = loading;
  return new Promise((resolve, reject) => {
    loading.ready.c.push([() => resolve(win.Talk)]);
    const script = doc.createElement("script");
    script.async = true;
    script.src = src;
    script.onerror = () => reject(new Error(
      `talkjs: could not load ${src}. Is the Chinwag server up at ${server}, and does the page's ` +
      "Content-Security-Policy allow scripts from it?",
    ));
    (doc.head || doc.documentElement).appendChild(script);
  });
}

function createTalk(server) {
  const Talk = {};
  let ready = null;
  const start = () => {
    if (ready) return ready;
    if (typeof window === "undefined") {
      throw new Error(
        "talkjs: Talk.ready needs a browser, and `window` is undefined here (server-side rendering, " +
        "a worker or Node). Use Talk only in code that runs in the page, for example in an effect " +
        "or an event handler.",
      );
    }
    ready = loadSdk(window, server).then((sdk) => {
      for (const key of Object.keys(sdk)) if (key !== "ready") Talk[key] = sdk[key];
    });
    return ready;
  };
  Object.defineProperty(Talk, "ready", { enumerable: true, get: start });
  if (typeof window !== "undefined") start();
  return Talk;
}

const Talk = createTalk(SERVER);
