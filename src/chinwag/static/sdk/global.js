// How `/talk.js` becomes `window.Talk`, whether the page loads it with a plain `<script src>`, with
// the hosted product's async loader snippet, or through the `talkjs` npm package's loader.
//
// The snippet and the npm loader both leave a placeholder before the script arrives:
// `window.Talk = {v: 3, ready: {then, catch, c: [...]}}`, whose `then`/`catch` push entries onto
// the queue `ready.c` (each entry a callback, or `[callback, resolve, reject]` when the snippet
// hands back a promise). The rules kept here:
//
// - The object the page holds as `window.Talk` stays that object: the SDK's members are added to
//   it, so a reference taken before the script loaded works after.
// - Everything queued on the placeholder runs once, in the order it was queued, after the whole
//   SDK is defined, and before anything chained on `Talk.ready` later; the promise each `then`
//   handed back settles with its callback's result (or error).
// - The placeholder's old `ready` object keeps working: later `then`/`catch` calls on it go to the
//   real promise, so `await oldReady` resolves too.
// - A second copy of the script on one page (a plain tag and the snippet, say) keeps the first
//   copy's SDK, so there is one `Talk.User` class per page and `instanceof` checks hold.

const FIRST = Symbol.for("chinwag.talk.sdk");

/** Whether `ready` is a loader's placeholder rather than a promise of ours. */
function isPlaceholder(ready) {
  return !!ready && typeof ready === "object" && Array.isArray(ready.c) && typeof ready.then === "function";
}

/** Run the placeholder's queued entries on `ready`, in order. */
function drain(queue, ready) {
  for (const entry of queue.splice(0)) {
    const [callback, resolve, reject] = Array.isArray(entry) ? entry : [entry];
    const settled = ready.then(typeof callback === "function" ? callback : undefined);
    if (typeof resolve === "function") settled.then(resolve, typeof reject === "function" ? reject : undefined);
  }
}

/** Define (or complete) `win.Talk` from the SDK namespace `sdk`; returns `win.Talk`. */
export function installGlobal(win, sdk) {
  if (win[FIRST]) sdk = win[FIRST];
  else Object.defineProperty(win, FIRST, { value: sdk });
  const held = win.Talk && typeof win.Talk === "object" ? win.Talk : {};
  const placeholder = isPlaceholder(held.ready) ? held.ready : null;
  for (const [key, value] of Object.entries(sdk)) held[key] = value;
  win.Talk = held;
  if (placeholder) {
    drain(placeholder.c, sdk.ready);
    placeholder.then = (onFulfilled, onRejected) => sdk.ready.then(onFulfilled, onRejected);
    placeholder.catch = (onRejected) => sdk.ready.catch(onRejected);
  }
  return held;
}
