"""The text of a notification: email (plain text and HTML) and SMS, from the batch content.

``content`` is what the worker stored with the delivery::

    {"appId", "conversation": {"id", "subject"}, "recipient": {"id", "name"},
     "messages": [{"id", "senderId", "senderName", "text", "createdAt"}], "link"}
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


def plain_text(content: dict[str, Any]) -> str:
    name = content["recipient"].get("name") or content["recipient"]["id"]
    lines = [f"Hi {name},", "", f"You have {title(content)}:", ""]
    for m in content["messages"]:
        lines.append(f"{m['senderName']}: {m['text']}")
    lines += ["", f"Reply or read the conversation: {content['link']}", ""]
    return "\n".join(lines)


def html_body(content: dict[str, Any]) -> str:
    esc = html.escape
    name = content["recipient"].get("name") or content["recipient"]["id"]
    items = "\n".join(
        f"<li><strong>{esc(m['senderName'])}</strong>: {esc(m['text'])}</li>"
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
    text = f"{title(content)}. {last['senderName']}: {last['text']}"
    link = f" {content['link']}"
    room = SMS_MAX - len(link)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "\u2026"
    return text + link
