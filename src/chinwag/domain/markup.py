"""The hosted product's message markup, parsed into its content blocks (pure).

A message's ``text`` is plain text with light markup; its ``content`` is the block list the
hosted product's SDK shows (``../shared/reference/talkjs-api.md`` section 3.7): one ``text``
block whose children are strings and nodes. Rules kept here:

- ``*bold*``, ``_italic_``, ``~strikethrough~`` wrap text (and may nest, a few levels deep); a
  marker opens only at the start of a word and closes only at the end of one, so ``snake_case``
  and ``2*3*4`` stay as they are, and a marker that never closes is plain text.
- ```code``` is a ``codeSpan``: its text is taken as written, no markup inside.
- ``<https://example.com|label>`` is a ``link`` with its label; ``<@userId>`` a ``mention``;
  a bare ``http(s)://`` address an ``autoLink``. Only ``http``, ``https`` and ``mailto`` are ever
  links: anything else (``javascript:``, ``data:``) stays plain text.
- Lines starting with ``- `` or ``• `` form a ``bulletList`` of ``bulletPoint`` nodes.
- Nothing is ever HTML: the tree holds strings, never markup for a browser to interpret.
- Linear enough for a 10,000-character line: each marker is searched for once per nesting
  level, and a text without any markup character costs one scan.
"""

from __future__ import annotations

import re
from typing import Any

from chinwag.ids import ID_PATTERN

Node = str | dict[str, Any]

#: Characters that may start markup; a text without any is one plain string.
_MARKUP = re.compile(r"[*_~`<]|https?://|(?:^|\n)(?:- |• )")
_EMPHASIS = {"*": "bold", "_": "italic", "~": "strikethrough"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_BARE_URL = re.compile(r"https?://[^\s<>|]+")
_TRAILING = ".,;:!?)]}'\""
_MAX_DEPTH = 4


def content(text: str) -> list[dict[str, Any]]:
    """The content blocks of a message text."""
    if not _MARKUP.search(text):
        return [{"type": "text", "children": [text] if text else []}]
    return [{"type": "text", "children": _blocks(text)}]


def mentions(text: str) -> list[str]:
    """The user ids a text mentions (``<@userId>``), in order, once each."""
    found = re.findall(r"<@([^<>|\s]{1,128})>", text)
    return list(dict.fromkeys(uid for uid in found if ID_PATTERN.match(uid)))


def _blocks(text: str) -> list[Node]:
    """Bullet lists apart, the rest inline."""
    out: list[Node] = []
    lines = text.split("\n")
    i = 0
    plain: list[str] = []
    while i < len(lines):
        if _bullet(lines[i]) is None:
            plain.append(lines[i])
            i += 1
            continue
        if plain:
            _extend(out, _inline("\n".join(plain) + "\n", 0))
            plain = []
        points: list[Node] = []
        while i < len(lines) and (item := _bullet(lines[i])) is not None:
            points.append({"type": "bulletPoint", "children": _inline(item, 0)})
            i += 1
        out.append({"type": "bulletList", "children": points})
    if plain:
        _extend(out, _inline("\n".join(plain), 0))
    return out


def _bullet(line: str) -> str | None:
    for marker in ("- ", "• "):
        if line.startswith(marker):
            return line[len(marker) :]
    return None


def _extend(out: list[Node], nodes: list[Node]) -> None:
    """Append, joining adjacent strings."""
    for node in nodes:
        if isinstance(node, str) and out and isinstance(out[-1], str):
            out[-1] += node
        elif node != "":
            out.append(node)


def _inline(text: str, depth: int) -> list[Node]:
    out: list[Node] = []
    i, start, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        node: Node | None = None
        end = i
        if ch == "`":
            close = text.find("`", i + 1)
            if close > i + 1:
                node, end = {"type": "codeSpan", "text": text[i + 1 : close]}, close + 1
        elif ch in _EMPHASIS and depth < _MAX_DEPTH and _opens(text, i):
            closing = _closing(text, ch, i + 1)
            if closing is not None:
                inner = _inline(text[i + 1 : closing], depth + 1)
                node, end = {"type": _EMPHASIS[ch], "children": inner}, closing + 1
        elif ch == "<":
            node, end = _angle(text, i, depth)
        elif ch == "h" and (text.startswith("http://", i) or text.startswith("https://", i)):
            if i == 0 or not text[i - 1].isalnum():
                node, end = _auto_link(text, i)
        if node is None:
            i += 1
            continue
        _extend(out, [text[start:i], node])
        i = start = end
    _extend(out, [text[start:]])
    return out


def _opens(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not before.isalnum() and not after.isspace() and after != text[i]


def _closing(text: str, marker: str, start: int) -> int | None:
    """The index of the marker that closes an emphasis opened before ``start``, on this line."""
    line_end = text.find("\n", start)
    limit = len(text) if line_end == -1 else line_end
    j = text.find(marker, start + 1)
    while j != -1 and j < limit:
        after = text[j + 1] if j + 1 < len(text) else " "
        if not text[j - 1].isspace() and not after.isalnum():
            return j
        j = text.find(marker, j + 1)
    return None


def _angle(text: str, i: int, depth: int) -> tuple[Node | None, int]:
    close = text.find(">", i + 1)
    if close == -1:
        return None, i
    inside = text[i + 1 : close]
    if "<" in inside or "\n" in inside:
        return None, i
    if inside.startswith("@"):
        uid = inside[1:]
        if ID_PATTERN.match(uid):
            return {"type": "mention", "id": uid, "text": uid}, close + 1
        return None, i
    url, bar, label = inside.partition("|")
    if not _is_link(url):
        return None, i
    if not bar:
        return {"type": "autoLink", "url": url, "text": url}, close + 1
    children = _inline(label, depth + 1) if label else [url]
    return {"type": "link", "url": url, "children": children}, close + 1


def _auto_link(text: str, i: int) -> tuple[Node | None, int]:
    match = _BARE_URL.match(text, i)
    if match is None:
        return None, i
    url = match.group(0).rstrip(_TRAILING)
    if len(url) <= len("https://"):
        return None, i
    return {"type": "autoLink", "url": url, "text": url}, i + len(url)


def _is_link(url: str) -> bool:
    lower = url.lower()
    return (
        any(lower.startswith(s) for s in _LINK_SCHEMES)
        and len(url) > len("mailto:")
        and not any(c.isspace() for c in url)
    )
