// The UI's styles. Theme them from the page with CSS custom properties (they cross the shadow
// root): --chinwag-accent, --chinwag-accent-text, --chinwag-bg, --chinwag-surface,
// --chinwag-text, --chinwag-muted, --chinwag-border, --chinwag-mine, --chinwag-mine-text,
// --chinwag-theirs, --chinwag-theirs-text, --chinwag-radius, --chinwag-font, --chinwag-danger.

export const STYLES = `
:host {
  --accent: var(--chinwag-accent, #4f46e5);
  --accent-text: var(--chinwag-accent-text, #ffffff);
  --bg: var(--chinwag-bg, #f6f7fb);
  --surface: var(--chinwag-surface, #ffffff);
  --text: var(--chinwag-text, #1f2430);
  --muted: var(--chinwag-muted, #5f6673);
  --border: var(--chinwag-border, #e3e6ee);
  --mine: var(--chinwag-mine, var(--accent));
  --mine-text: var(--chinwag-mine-text, var(--accent-text));
  --theirs: var(--chinwag-theirs, #ffffff);
  --theirs-text: var(--chinwag-theirs-text, var(--text));
  --radius: var(--chinwag-radius, 16px);
  --danger: var(--chinwag-danger, #dc2626);
  --font: var(--chinwag-font, system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif);
  display: block;
  height: 100%;
  min-width: 0;
  color: var(--text);
  font: 14px/1.45 var(--font);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
button { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
/* Hidden text that joins the words around it in an accessible name (an absolutely placed .sr
   would add a space before it). */
.inline-sr { font-size: 0; }

/* The UI fills the element it is mounted in (give that element a height) and scrolls inside it. */
.frame { display: flex; height: 100%; min-height: 0; max-width: 100%; background: var(--surface); border: 1px solid var(--border);
  border-radius: var(--radius); overflow: hidden; box-shadow: 0 1px 3px rgb(16 24 40 / 6%); }

.chat { display: flex; flex-direction: column; flex: 1; min-width: 0; min-height: 0; background: var(--bg); position: relative; }
.header { display: flex; align-items: center; gap: 12px; padding: 12px 16px; background: var(--surface);
  border-bottom: 1px solid var(--border); min-height: 64px; }
.header .titles { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 15px; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.subtitle { margin: 2px 0 0; color: var(--muted); font-size: 12.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.badge-watching { padding: 2px 8px; border-radius: 999px; font-size: 11.5px; white-space: nowrap; color: var(--muted);
  background: color-mix(in srgb, var(--muted) 12%, transparent); }
.badge-guest { display: inline-flex; align-items: center; gap: 4px; padding: 2px 8px; border-radius: 999px; font-size: 11.5px;
  background: color-mix(in srgb, var(--accent) 12%, transparent); color: var(--accent); font-weight: 600; white-space: nowrap; }
.icon-button { display: inline-grid; place-items: center; width: 36px; height: 36px; border: 0; border-radius: 10px;
  background: transparent; cursor: pointer; color: var(--muted); }
.icon-button:hover { background: var(--bg); color: var(--text); }

.avatar { flex: none; display: grid; place-items: center; width: 36px; height: 36px; border-radius: 50%; color: #fff;
  font-weight: 650; font-size: 13px; background-size: cover; background-position: center; user-select: none; }
.avatar.small { width: 28px; height: 28px; font-size: 11px; }
.avatar { position: relative; overflow: hidden; }
.avatar img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; }
.avatar.group { border-radius: 12px; }

.messages { flex: 1; min-height: 0; overflow-y: auto; overflow-x: hidden; padding: 16px 16px 8px; display: flex; flex-direction: column; gap: 2px; scroll-behavior: auto; }
.messages:focus-visible { outline-offset: -2px; }
.history-edge { align-self: center; color: var(--muted); font-size: 12px; padding: 4px 0 12px; }
.day { align-self: center; margin: 12px 0 8px; padding: 2px 10px; border-radius: 999px; font-size: 11.5px; color: var(--muted);
  background: var(--surface); border: 1px solid var(--border); }
.row { display: flex; align-items: flex-end; gap: 8px; margin-top: 6px; max-width: 100%; }
.row.cont { margin-top: 1px; }
.row.mine { flex-direction: row-reverse; }
.row .spacer { width: 28px; flex: none; }
.bubble { position: relative; max-width: min(78%, 560px); padding: 8px 12px; border-radius: var(--radius);
  background: var(--theirs); color: var(--theirs-text); box-shadow: 0 1px 1px rgb(16 24 40 / 6%); overflow-wrap: anywhere; }
.row.mine .bubble { background: var(--mine); color: var(--mine-text); }
.sender { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; font-size: 12px; font-weight: 650; margin-bottom: 2px; }
.tag-guest { padding: 0 6px; border-radius: 999px; font-size: 10.5px; font-weight: 650; letter-spacing: .02em;
  color: #3730a3; background: #e0e7ff; border: 1px solid #c7d2fe; }
.text { white-space: pre-wrap; }
.text a { color: inherit; text-decoration: underline; }
.text code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.92em;
  padding: 0 3px; border-radius: 4px; background: color-mix(in srgb, currentColor 12%, transparent); }
.text .mention { font-weight: 600; }
.text .mention.me { text-decoration: underline; text-decoration-thickness: 2px; }
.text ul.bullets { margin: 2px 0; padding-left: 1.2em; white-space: normal; }
.quote { display: block; width: 100%; text-align: left; font: inherit; font-size: 12.5px; color: inherit;
  border: 0; border-left: 3px solid currentColor; border-radius: 4px; margin: 2px 0 4px; padding: 2px 8px;
  background: color-mix(in srgb, currentColor 10%, transparent); cursor: pointer; overflow-wrap: anywhere; }
.reply-bar { order: -2; flex-basis: 100%; display: flex; align-items: center; gap: 8px; font-size: 12.5px; color: var(--muted); padding: 0 8px; }
.reply-bar .reply-text { flex: 1; overflow-wrap: anywhere; }
.reply-bar button { border: 0; background: transparent; color: var(--muted); cursor: pointer; font-size: 16px; }
.mention-list { order: -3; flex-basis: 100%; list-style: none; margin: 0; padding: 4px; border: 1px solid var(--border);
  border-radius: 10px; background: var(--bg); max-height: 180px; overflow-y: auto; }
.mention-list li { padding: 6px 10px; border-radius: 6px; cursor: pointer; }
.mention-list li.active, .mention-list li:hover { background: color-mix(in srgb, var(--accent) 14%, transparent); }
.reactions { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.reactions .chip { font: inherit; font-size: 12.5px; padding: 1px 8px; border-radius: 999px; cursor: pointer;
  border: 1px solid var(--border); background: var(--surface); color: var(--text); }
.reactions .chip.mine { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 14%, var(--surface)); }
.reactions .chip:disabled { cursor: default; }
.reactions .picker { display: flex; gap: 2px; padding: 2px; border: 1px solid var(--border); border-radius: 999px; background: var(--surface); }
.reactions .picker button { border: 0; background: transparent; font-size: 16px; padding: 2px 5px; border-radius: 999px; cursor: pointer; }
.reactions .picker button:hover { background: var(--bg); }
.row.flash .bubble { outline: 2px solid var(--accent); outline-offset: 2px; }
.meta { display: flex; justify-content: flex-end; gap: 6px; margin-top: 2px; font-size: 11px; color: var(--muted); }
.row.mine .meta { color: inherit; }
.actions { display: flex; gap: 2px; opacity: 0; transition: opacity .12s; align-self: center; }
.row:hover .actions, .row:focus-within .actions { opacity: 1; }
.actions button { border: 0; background: transparent; color: var(--muted); font-size: 12px; padding: 4px 6px; border-radius: 8px; cursor: pointer; }
.actions button:hover { background: var(--surface); color: var(--text); }
.actions button.danger { color: var(--danger); }
.edit-box { display: flex; flex-direction: column; gap: 6px; min-width: min(320px, 70vw); }
.edit-box textarea { font: inherit; color: var(--text); border: 1px solid var(--border); border-radius: 10px; padding: 6px 8px; resize: vertical; }
.edit-box .edit-actions { display: flex; gap: 6px; justify-content: flex-end; }
.edit-box button { border: 0; border-radius: 8px; padding: 4px 10px; cursor: pointer; background: var(--surface); color: var(--text); }
.edit-box button.primary { background: var(--accent-text); color: var(--accent); font-weight: 600; }
.row:not(.mine) .edit-box button.primary { background: var(--accent); color: var(--accent-text); }
.system { overflow-wrap: anywhere; align-self: center; max-width: 85%; text-align: center; margin: 10px 0; padding: 6px 12px; font-size: 12.5px;
  color: var(--muted); background: color-mix(in srgb, var(--surface) 70%, transparent); border: 1px dashed var(--border); border-radius: 12px; }
.notice { overflow-wrap: anywhere; margin: 12px auto 4px; text-align: center; font-size: 13px; color: var(--text); background: var(--surface);
  border: 1px solid var(--border); border-radius: 12px; padding: 10px 14px; max-width: 90%; }
.receipt { align-self: flex-end; font-size: 11px; color: var(--muted); margin: 2px 4px 0; }
.empty { overflow-wrap: anywhere; margin: auto; text-align: center; color: var(--muted); padding: 24px; max-width: 320px; }
.empty strong { display: block; color: var(--text); font-size: 15px; margin-bottom: 4px; }
.error { color: var(--danger); }

.typing { min-height: 22px; padding: 0 18px 2px; font-size: 12px; color: var(--muted); }
.typing .dots span { display: inline-block; width: 4px; height: 4px; margin-right: 2px; border-radius: 50%; background: currentColor; animation: blink 1.2s infinite; }
.typing .dots span:nth-child(2) { animation-delay: .2s; } .typing .dots span:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }

.field { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 8px; padding: 10px 12px 12px; background: var(--surface); border-top: 1px solid var(--border); }
.field textarea { flex: 1; min-width: 0; resize: none; max-height: 140px; min-height: 40px; padding: 9px 14px; border-radius: 20px; border: 1px solid var(--border);
  background: var(--bg); color: var(--text); font: inherit; line-height: 1.4; }
.field textarea:focus { outline: none; border-color: var(--accent); background: var(--surface); box-shadow: 0 0 0 3px color-mix(in srgb, var(--accent) 18%, transparent); }
.send { flex: none; display: grid; place-items: center; width: 40px; height: 40px; border: 0; border-radius: 50%;
  background: var(--accent); color: var(--accent-text); cursor: pointer; }
.send:disabled { opacity: .45; cursor: default; }
.field-notes { order: -1; flex-basis: 100%; display: flex; gap: 8px; align-items: baseline; font-size: 12.5px; }
.composer-error { flex: 1; margin: 0; color: var(--danger); overflow-wrap: anywhere; }
.counter { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.counter.over { color: var(--danger); font-weight: 650; }

/* Connection state: shown while the socket is lost, gone once connected and caught up. */
.connection { display: flex; align-items: center; justify-content: center; gap: 10px; flex-wrap: wrap; padding: 6px 12px;
  font-size: 12.5px; background: #fef3c7; color: #78350f; border-bottom: 1px solid #fcd34d; text-align: center; }
.connection[data-connection="offline"], .connection[data-connection="closed"] { background: #fee2e2; color: #7f1d1d; border-bottom-color: #fca5a5; }
.connection:not(.shown) { display: none; }
.connection-retry { border: 1px solid currentColor; background: transparent; border-radius: 999px; padding: 1px 10px; cursor: pointer; font-weight: 600; }

/* Messages still being sent, or refused. */
.row.pending .bubble { opacity: .85; }
.row.pending.failed .bubble { opacity: 1; background: var(--surface); color: var(--text); border: 1px solid var(--danger); }
.pending-status { display: flex; justify-content: flex-end; gap: 4px; margin-top: 2px; font-size: 11px; }
.row.failed .pending-status { color: var(--danger); font-weight: 600; }
.pending-status .link { border: 0; padding: 0; background: none; color: inherit; text-decoration: underline; cursor: pointer; font-size: inherit; font-weight: 600; }
.pending-reason { margin: 4px 0 0; font-size: 12px; color: var(--text); }

.readonly { padding: 12px 16px; text-align: center; color: var(--muted); font-size: 12.5px; background: var(--surface); border-top: 1px solid var(--border); }

/* Inbox */
.frame.inbox { flex-direction: column; }
.panes { display: flex; flex: 1; min-height: 0; min-width: 0; }
.feed { width: 320px; flex: none; min-height: 0; display: flex; flex-direction: column; border-right: 1px solid var(--border); background: var(--surface); min-width: 0; }
.feed-top { display: flex; align-items: center; justify-content: space-between; gap: 8px; border-bottom: 1px solid var(--border); }
.feed-top .feed-header { border-bottom: 0; }
.feed-header { padding: 16px; font-size: 17px; font-weight: 700; border-bottom: 1px solid var(--border); margin: 0; }
.notify-toggle { margin-right: 12px; padding: 4px 10px; border: 1px solid var(--border); border-radius: 999px; background: transparent; color: var(--muted); font: inherit; font-size: 12.5px; cursor: pointer; white-space: nowrap; }
.notify-toggle[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
.notify-toggle:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.feed ul { list-style: none; margin: 0; padding: 6px; overflow-y: auto; flex: 1; }
.item { width: 100%; display: flex; gap: 10px; align-items: center; padding: 10px; border: 0; background: transparent; border-radius: 12px; text-align: left; cursor: pointer; }
.item:hover { background: var(--bg); }
.item[aria-current="true"] { background: color-mix(in srgb, var(--accent) 10%, var(--surface)); }
.item .body { flex: 1; min-width: 0; }
.item .line { display: flex; gap: 8px; align-items: baseline; }
.item .name { flex: 1; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.item .name .with { font-weight: 400; color: var(--muted); }
.item .when { font-size: 11.5px; color: var(--muted); }
.item .preview { flex: 1; color: var(--muted); font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.item.unread .name, .item.unread .preview { color: var(--text); font-weight: 650; }
.count { min-width: 20px; height: 20px; padding: 0 6px; border-radius: 999px; background: var(--accent); color: var(--accent-text); font-size: 11.5px; font-weight: 700; display: inline-grid; place-items: center; }
.frame.narrow .feed { width: 100%; border-right: 0; }
.frame.narrow.showing-chat .feed { display: none; }
.frame.narrow:not(.showing-chat) .chat { display: none; }
.back { display: none; }
.frame.narrow .back { display: inline-grid; }

/* Popup */
.launcher { position: fixed; right: 20px; bottom: 20px; width: 58px; height: 58px; border-radius: 50%; border: 0; cursor: pointer;
  background: var(--accent); color: var(--accent-text); box-shadow: 0 8px 24px rgb(16 24 40 / 22%); display: grid; place-items: center; z-index: 2147483000; }
.launcher .count { position: absolute; top: -2px; right: -2px; background: var(--danger); color: #fff; }
.launcher-status { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; padding: 3px 10px; border-radius: 999px;
  font-size: 12px; background: #fee2e2; color: #7f1d1d; border: 1px solid #fca5a5; }
.launcher-status:not(.shown) { display: none; }
.panel { position: fixed; right: 20px; bottom: 90px; width: 380px; height: min(600px, calc(100vh - 120px)); z-index: 2147483000;
  border-radius: var(--radius); box-shadow: 0 18px 48px rgb(16 24 40 / 24%); }
.panel[hidden] { display: none; }
.panel:focus { outline: none; }
.panel .frame { min-height: 0; }
@media (max-width: 520px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
  .panel .frame { border-radius: 0; border: 0; }
  .launcher.open { display: none; }
  .bubble { max-width: 86%; }
}
`;
