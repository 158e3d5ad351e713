// How names, times and avatars look.

// Sender names (on white bubbles) and initials (white on the colour): each colour has at least
// 4.5:1 contrast with white (WCAG 2.1 AA); tests/test_ui_contrast.py checks every one.
export const PALETTE = ["#4f46e5", "#0369a1", "#047857", "#b45309", "#b91c1c", "#7c3aed", "#be185d", "#0f766e"];

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter((p) => /\p{L}|\p{N}/u.test(p[0]));
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function colorFor(id) {
  let hash = 0;
  for (const ch of String(id)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function day(ms) {
  const date = new Date(ms);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year: date.getFullYear() === today.getFullYear() ? undefined : "numeric" });
}

/** "10:04" today, "Mon" this week, else "3 Mar". */
export function shortWhen(ms) {
  if (!ms) return "";
  const date = new Date(ms);
  const age = Date.now() - ms;
  if (date.toDateString() === new Date().toDateString()) return clock(ms);
  if (age < 6 * 86400000) return date.toLocaleDateString([], { weekday: "short" });
  return date.toLocaleDateString([], { day: "numeric", month: "short" });
}

export function listNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
