"""The text of a notification: email (plain text and HTML) and SMS, from the batch content.

``content`` is what the worker stored with the delivery::

    {"appId", "conversation": {"id", "subject"}, "recipient": {"id", "name"},
     "messages": [{"id", "senderId", "senderName", "text", "content", "createdAt"}],
     "names": {mentioned user id: name}, "link"}

A message shows as its ``content`` blocks (domain/markup.py), as every other path shows it:
``*bold*`` is bold in the HTML part and plain in the text part and the SMS, ``<@id>`` is the
person's name, a link is its label (and its address in plain text). Only ``http``, ``https`` and
``mailto`` become links; everything from a message is escaped in HTML. A delivery stored before
``content`` existed shows its ``text``.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

SMS_MAX = 320


def title(content: dict[str, Any]) -> str:
    subject = content["conversation"].get("subject") or ""
    count = len(content["messages"])
    noun = "message" if count == 1 else "messages"
    where = f"in {subject}" if subject else "in your conversation"
    return f"{count} new {noun} {where}"


_SAFE_LINK = ("http://", "https://", "mailto:")
_HTML_TAG = {"bold": "strong", "italic": "em", "strikethrough": "s"}


def _blocks(message: dict[str, Any]) -> list[Any]:
    blocks = message.get("content")
    if isinstance(blocks, list) and blocks:
        return [c for b in blocks if isinstance(b, dict) for c in b.get("children", [])]
    return [str(message.get("text", ""))]


def _name(node: dict[str, Any], names: dict[str, str]) -> str:
    uid = str(node.get("id", ""))
    return "@" + (names.get(uid) or str(node.get("text") or uid))


def message_text(message: dict[str, Any], names: dict[str, str], links: bool = True) -> str:
    """A message as plain text: markup gone, mentions as names, links as ``label (url)``
    (or just the label, ``links=False``, for an SMS)."""

    def walk(nodes: list[Any]) -> str:
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(n)
            elif not isinstance(n, dict):
                continue
            elif n.get("type") == "mention":
                out.append(_name(n, names))
            elif n.get("type") in ("codeSpan", "autoLink"):
                out.append(str(n.get("text") or n.get("url") or ""))
            elif n.get("type") == "link":
                label, url = walk(n.get("children", [])), str(n.get("url", ""))
                out.append(f"{label} ({url})" if links and label != url else label)
            elif n.get("type") == "bulletList":
                out.append("".join("\n• " + walk(p.get("children", [])) for p in n["children"]))
            else:
                out.append(walk(n.get("children", [])))
        return "".join(out)

    return walk(_blocks(message)).strip()


def message_html(message: dict[str, Any], names: dict[str, str]) -> str:
    """A message as HTML: the content blocks as elements, everything else escaped."""
    esc = html.escape

    def walk(nodes: list[Any]) -> str:
        out = []
        for n in nodes:
            if isinstance(n, str):
                out.append(esc(n).replace("\n", "<br>"))
            elif not isinstance(n, dict):
                continue
            elif n.get("type") in _HTML_TAG:
                tag = _HTML_TAG[n["type"]]
                out.append(f"<{tag}>{walk(n.get('children', []))}</{tag}>")
            elif n.get("type") == "codeSpan":
                out.append(f"<code>{esc(str(n.get('text', '')))}</code>")
            elif n.get("type") == "mention":
                out.append(f"<strong>{esc(_name(n, names))}</strong>")
            elif n.get("type") in ("link", "autoLink"):
                url = str(n.get("url", ""))
                label = walk(n["children"]) if "children" in n else esc(str(n.get("text", url)))
                if url.lower().startswith(_SAFE_LINK):
                    out.append(
                        f'<a href="{esc(url, quote=True)}" rel="noopener noreferrer">{label}</a>'
                    )
                else:
                    out.append(label)
            elif n.get("type") == "bulletList":
                points = "".join(f"<li>{walk(p.get('children', []))}</li>" for p in n["children"])
                out.append(f"<ul>{points}</ul>")
            else:
                out.append(walk(n.get("children", [])))
        return "".join(out)

    return walk(_blocks(message))


def plain_text(content: dict[str, Any]) -> str:
    name = content["recipient"].get("name") or content["recipient"]["id"]
    names = content.get("names") or {}
    lines = [f"Hi {name},", "", f"You have {title(content)}:", ""]
    for m in content["messages"]:
        lines.append(f"{m['senderName']}: {message_text(m, names)}")
    lines += ["", f"Reply or read the conversation: {content['link']}", ""]
    return "\n".join(lines)


def html_body(content: dict[str, Any]) -> str:
    esc = html.escape
    name = content["recipient"].get("name") or content["recipient"]["id"]
    names = content.get("names") or {}
    items = "\n".join(
        f"<li><strong>{esc(m['senderName'])}</strong>: {message_html(m, names)}</li>"
        for m in content["messages"]
    )
    link = esc(content["link"], quote=True)
    return (
        "<!doctype html>\n<html><body>\n"
        f"<p>Hi {esc(name)},</p>\n"
        f"<p>You have {esc(title(content))}:</p>\n"
        f"<ul>\n{items}\n</ul>\n"
        f'<p><a href="{link}">Open the conversation</a></p>\n'
        "</body></html>\n"
    )


def email_message(content: dict[str, Any], sender: str, to: str, delivery_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = title(content)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    # The delivery id makes the Message-ID stable, so a receiver can drop a duplicate.
    domain = sender.rpartition("@")[2].strip("> ") or "chinwag.invalid"
    msg["Message-ID"] = f"<{delivery_id}@{domain}>"
    msg["X-Chinwag-Conversation"] = content["conversation"]["id"]
    msg.set_content(plain_text(content))
    msg.add_alternative(html_body(content), subtype="html")
    return msg


def sms_body(content: dict[str, Any]) -> str:
    last = content["messages"][-1]
    said = message_text(last, content.get("names") or {}, links=False)
    text = f"{title(content)}. {last['senderName']}: {said}"
    link = f" {content['link']}"
    room = SMS_MAX - len(link)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "\u2026"
    return text + link
