// A message's content blocks (the server's parse of its markup, docs/api.md) as DOM nodes.
// Safe by construction: every piece of a message becomes a text node or an element made here
// with createElement; nothing from a message is ever parsed as HTML. Links open in a new tab
// with rel="noopener noreferrer", and only http, https and mailto addresses become links (the
// server already allows no other; this checks again).

import { h } from "./dom.js";

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const INLINE = { bold: "strong", italic: "em", strikethrough: "s" };

/** The DOM nodes of `content` (falls back to the plain `text` when there is none). */
export function renderContent(content, text, names) {
  if (!Array.isArray(content) || content.length === 0) return [text || ""];
  const out = [];
  for (const block of content) {
    if (block && block.type === "text") out.push(...nodes(block.children, names));
  }
  return out;
}

function nodes(children, names) {
  return (Array.isArray(children) ? children : []).map((child) => node(child, names));
}

function node(n, names) {
  if (typeof n === "string") return n;
  if (!n || typeof n !== "object") return "";
  if (INLINE[n.type]) return h(INLINE[n.type], {}, nodes(n.children, names));
  switch (n.type) {
    case "codeSpan":
      return h("code", {}, String(n.text || ""));
    case "link":
      return link(n.url, nodes(n.children, names));
    case "autoLink":
      return link(n.url, [String(n.text || n.url || "")]);
    case "mention": {
      const id = String(n.id || "");
      const me = names.me === id;
      return h("span", { class: me ? "mention me" : "mention", "data-user-id": id }, `@${names.of(id) || n.text || id}`);
    }
    case "bulletList":
      return h("ul", { class: "bullets" }, nodes(n.children, names));
    case "bulletPoint":
      return h("li", {}, nodes(n.children, names));
    default:
      return nodes(n.children, names);
  }
}

function link(url, children) {
  const href = String(url || "");
  if (!SAFE_URL.test(href)) return h("span", {}, children);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, children);
}

/** A message's content as one line of plain text (previews): mentions by name, links by label. */
export function plainText(content, text, names) {
  if (!Array.isArray(content) || content.length === 0) return text || "";
  const parts = [];
  const walk = (nodes) => {
    for (const n of Array.isArray(nodes) ? nodes : []) {
      if (typeof n === "string") parts.push(n);
      else if (!n || typeof n !== "object") continue;
      else if (n.type === "mention") parts.push(`@${names.of(String(n.id || "")) || n.text || n.id}`);
      else if (n.type === "codeSpan") parts.push(String(n.text || ""));
      else if (n.type === "autoLink") parts.push(String(n.text || n.url || ""));
      else if (n.type === "bulletPoint") { parts.push(" • "); walk(n.children); }
      else walk(n.children);
    }
  };
  for (const block of content) if (block && block.type === "text") walk(block.children);
  return parts.join("").replace(/\s+/g, " ").trim();
}
