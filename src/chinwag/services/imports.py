"""Importing history: messages stored with their own times, as if they had been sent then.

Rules kept, stated first:

- **All or nothing.** One call is one transaction: every message of it is stored, or none (a bad
  sender, an unknown ``readBy`` user, an attachment, a time out of order each refuse the whole
  call before anything is written).
- **Positions stay a total order that follows time.** The messages of a call are stored in
  timestamp order (ties keep the order given), each taking the conversation's next position.
  A message older than the conversation's newest one would get a higher position than a message
  sent after it, so it is refused with ``409 IMPORT_OUT_OF_ORDER``: import a conversation's
  history oldest first, before live traffic starts, or into a fresh conversation. Times in the
  future are refused too (a live message would then sort before history).
- **History, not news.** ``origin`` is ``"import"``; no event is emitted, so nothing is pushed
  live, and no notification or webhook is queued (the outbox only reacts to events). A client
  that is watching sees the positions move on its next change and catches up from the database.
- **Read state from ``readBy``.** Each listed user's read position moves up to the newest
  imported message they read, never past their horizon (a read position is a watermark: having
  read a message means having read those before it).
- **Who may appear.** Senders and ``readBy`` users must have a membership in the conversation,
  of any access, removed ones included: history is imported as it was, before people left.
- **Retries store nothing twice** when an item carries an ``idempotencyKey`` (Chinwag's
  extension): an item whose key is already stored is returned as it is and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chinwag import ids
from chinwag.domain import access as rules
from chinwag.errors import Conflict, InvalidRequest, NotFound
from chinwag.services.context import Context
from chinwag.storage import conversations as conv_store
from chinwag.storage import imports as store
from chinwag.storage import messages as msg_store
from chinwag.storage import participants as part_store
from chinwag.storage.records import Message, Participant

#: How far ahead of the server's clock an imported time may be (clock skew between machines).
FUTURE_SLACK_MS = 60_000


@dataclass(frozen=True)
class ImportedMessage:
    """One message to import. ``sender`` None: a SystemMessage (only the importers make them)."""

    sender: str | None
    text: str
    timestamp: int
    read_by: Sequence[str] = ()
    custom: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    message_id: str | None = None  # keep the source's id (importers), else a fresh one
    attachment_token: str | None = None


@dataclass(frozen=True)
class ImportResult:
    messages: list[Message]  # every item as stored, in the order given
    new: int  # how many were stored now (the others were there already, by idempotencyKey)


def import_messages(
    ctx: Context, app_id: str, conversation_id: str, items: Sequence[ImportedMessage]
) -> ImportResult:
    """Store ``items`` as history of the conversation."""
    if any(i.attachment_token is not None for i in items):
        raise InvalidRequest(
            "attachmentToken: imported attachments are not supported yet; import the text",
            code="ATTACHMENTS_NOT_SUPPORTED",
        )
    with ctx.write() as unit:
        tx = unit.tx
        found, _ = conv_store.lock_with_member(tx, app_id, conversation_id, None)
        if not found:
            raise NotFound(f"no conversation {conversation_id!r}", code="CONVERSATION_NOT_FOUND")
        stored: dict[int, Message] = {}
        fresh: list[tuple[int, ImportedMessage]] = []
        for index, item in enumerate(items):
            existing = (
                msg_store.by_idempotency_key(tx, app_id, conversation_id, item.idempotency_key)
                if item.idempotency_key is not None
                else None
            )
            if existing is not None:
                stored[index] = existing
            else:
                fresh.append((index, item))
        fresh.sort(key=lambda pair: pair[1].timestamp)
        members = {p.user_id: p for p in part_store.list_participants(tx, app_id, conversation_id)}
        _check(fresh, members, store.newest_message_at(tx, app_id, conversation_id), unit.now)
        read_upto: dict[str, int] = {}
        for index, item in fresh:
            position = conv_store.next_seq(tx, app_id, conversation_id, message_at=item.timestamp)
            stored[index] = msg_store.insert_message(
                tx,
                app_id,
                conversation_id,
                position,
                item.message_id or ids.new_message_id(),
                "UserMessage" if item.sender is not None else "SystemMessage",
                item.sender,
                item.text,
                item.custom,
                None,
                "import",
                item.idempotency_key,
                item.timestamp,
            )
            for user in item.read_by:
                read_upto[user] = position
        for user, position in read_upto.items():
            view = rules.participant_view(members[user].membership)
            part_store.set_read_position(
                tx, app_id, conversation_id, user, rules.read_upto(view, position)
            )
    return ImportResult([stored[i] for i in range(len(items))], len(fresh))


def _check(
    fresh: list[tuple[int, ImportedMessage]],
    members: dict[str, Participant],
    newest: int | None,
    now: int,
) -> None:
    reasons: list[str] = []
    for index, item in fresh:
        if item.sender is not None and item.sender not in members:
            reasons.append(f"[{index}].sender: {item.sender!r} has never been a participant")
        for user in item.read_by:
            if user not in members:
                reasons.append(f"[{index}].readBy: {user!r} has never been a participant")
    if reasons:
        raise InvalidRequest(*reasons, code="IMPORT_NOT_A_PARTICIPANT")
    if not fresh:
        return
    latest = fresh[-1][1].timestamp
    if latest > now + FUTURE_SLACK_MS:
        raise InvalidRequest(f"timestamp {latest} is in the future (now is {now})")
    oldest = fresh[0][1].timestamp
    if newest is not None and oldest < newest:
        raise Conflict(
            f"timestamp {oldest} is older than the conversation's newest message ({newest}): "
            "positions follow time, so import a conversation's history oldest first and before "
            "live traffic starts, or into a fresh conversation",
            code="IMPORT_OUT_OF_ORDER",
        )
