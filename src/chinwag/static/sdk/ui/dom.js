// A tiny DOM builder: h("div", {class: "x", onclick: fn}, child, "text", ...).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "html") el.innerHTML = value; // only for our own constant icons
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A shadow root inside `element` with the SDK's styles; returns {host, root}. */
export function shadowHost(element, css, className) {
  const host = h("div", { class: `chinwag-host ${className || ""}`.trim() });
  element.append(host);
  const root = host.attachShadow({ mode: "open" });
  root.append(h("style", { text: css }));
  return { host, root };
}

/** The UI fills `element` exactly; an element that takes its height from its content (no
 * height of its own) gets a 360 px tall UI instead, and a console hint. */
export function fitHeight(element, host) {
  if (!element.getClientRects().length) return; // not rendered now (display: none): nothing to measure
  host.style.height = "0px";
  const own = element.getBoundingClientRect().height;
  host.style.height = "";
  if (own >= 120) return;
  host.classList.add("content-sized");
  host.style.height = "360px";
  console.warn("[Chinwag] the element the chat is mounted in has no height of its own, so the chat is 360 px tall; give the element a height (for example height: 500px, or a flex or grid cell) and the chat fills it and scrolls inside it.");
}

export const ICONS = {
  send: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"/></svg>',
  chat: '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>',
  close: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z"/></svg>',
  back: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M15.4 5 9 11.9l6.4 7 1.5-1.4-5.1-5.6 5.1-5.5z"/></svg>',
  eye: '<svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="M12 5c5 0 9 4.5 10 7-1 2.5-5 7-10 7S3 14.5 2 12c1-2.5 5-7 10-7zm0 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm0 2a2 2 0 1 1 0 4 2 2 0 0 1 0-4z"/></svg>',
};
