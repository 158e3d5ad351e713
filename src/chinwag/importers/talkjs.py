"""``chinwag import-talkjs``: copy a whole app from the hosted product's REST API into Chinwag.

Rules kept, stated first:

- **Through the services.** Users, conversations and memberships are written with the same
  service calls REST makes (so every check, limit and audit entry applies), messages with
  :func:`chinwag.services.imports.import_messages` (their own times, ``origin: "import"``, read
  state from ``readBy``, no push, no notification, no webhook).
- **Nothing twice.** Users and memberships are upserts. Each message keeps its source id and
  carries the idempotency key ``talkjs:<id>``, a marker that makes a repeated message a no-op.
  A state file records the last user page and the last conversation finished, so a run stopped
  anywhere (Ctrl+C, a network failure, a 429 storm that outlasts the patience of the client)
  resumes there; even without the file, a rerun duplicates nothing.
- **History as it was.** A conversation's messages are read newest first (as the API lists
  them), spooled to a temporary file, and imported oldest first. Senders who are no longer
  participants (they left, or wrote as guests) are added for the import and removed after it,
  so their messages keep their sender and they keep the history they saw. Participants whose
  access is ``None`` are given it after the import, so their frozen view holds the history.
- **Say what was skipped.** Anything that cannot be carried (an invalid id, a field over a
  Chinwag limit, a conversation over the participant limit, history older than messages already
  in the target conversation) is skipped with its reason and listed in the summary; the rest
  goes on. ``dry_run`` reads everything and writes nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError

from chinwag import ids
from chinwag.domain import limits as L
from chinwag.domain.settings import AppSettings
from chinwag.errors import ChinwagError
from chinwag.importers.talkjs_api import TalkJSApi
from chinwag.schemas import ConversationPut, ParticipantPatch, ParticipantPut, UserPut
from chinwag.services import conversations, participants, users
from chinwag.services.context import Context
from chinwag.services.imports import ImportedMessage, import_messages
from chinwag.storage import apps as app_store

BATCH = 100  # messages per transaction
USER_FIELDS = ("name", "email", "phone", "photoUrl", "role", "locale", "welcomeMessage", "custom")


@dataclass
class Summary:
    dry_run: bool = False
    users: int = 0
    conversations: int = 0
    participants: int = 0
    messages: int = 0
    messages_present: int = 0  # already imported by an earlier run (their marker)
    former_senders: int = 0
    attachments_as_links: int = 0
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, id, reason)
    rate_limited: int = 0
    resumed: bool = False

    def skip(self, kind: str, item: str, reason: str) -> None:
        self.skipped.append((kind, item, reason))

    def to_json(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "users": self.users,
            "conversations": self.conversations,
            "participants": self.participants,
            "messages": self.messages,
            "messagesAlreadyPresent": self.messages_present,
            "formerSendersAddedAsRemoved": self.former_senders,
            "attachmentsAsLinks": self.attachments_as_links,
            "rateLimited": self.rate_limited,
            "skipped": [{"kind": k, "id": i, "reason": r} for k, i, r in self.skipped],
        }


class State:
    """Where a run got to, in a JSON file written atomically after each step."""

    def __init__(self, path: str | None, source_app: str) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "source": source_app,
            "users": {"after": None, "done": False},
            "conversations": {"after": None, "done": False},
        }
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            if saved.get("source") != source_app:
                raise ValueError(f"{path} is the state of an import of {saved.get('source')!r}")
            self.data = saved

    @property
    def started(self) -> bool:
        return bool(self.data["users"]["after"] or self.data["users"]["done"])

    def save(self) -> None:
        if not self.path:
            return
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ChinwagError):
        return f"{exc.code}: {'; '.join(exc.reasons)}"
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


class _Spool:
    """A conversation's message pages on disk, read back oldest message first."""

    def __init__(self) -> None:
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._offsets: list[int] = []
        self.count = 0
        self.senders: set[str] = set()

    def add(self, page: list[dict[str, Any]]) -> None:
        self._offsets.append(self._file.tell())
        self._file.write(json.dumps(page) + "\n")
        self.count += len(page)
        self.senders.update(m["senderId"] for m in page if isinstance(m.get("senderId"), str))

    def oldest_first(self) -> Iterator[dict[str, Any]]:
        for offset in reversed(self._offsets):
            self._file.seek(offset)
            page = json.loads(self._file.readline())
            yield from reversed(page)

    def close(self) -> None:
        self._file.close()


class TalkJSImporter:
    def __init__(
        self,
        api: TalkJSApi,
        ctx: Context,
        app_id: str,
        state: State,
        dry_run: bool = False,
        progress: Callable[[Summary], None] = lambda s: None,
    ) -> None:
        self.api = api
        self.ctx = ctx
        self.app_id = app_id
        self.state = state
        self.dry_run = dry_run
        self.progress = progress
        self.summary = Summary(dry_run=dry_run, resumed=state.started)

    def run(self) -> Summary:
        try:
            self._users()
            self._conversations()
        finally:
            self.summary.rate_limited = self.api.rate_limited
        return self.summary

    def _save(self) -> None:
        if not self.dry_run:
            self.state.save()

    # Users ---------------------------------------------------------------------------------

    def _users(self) -> None:
        step = self.state.data["users"]
        if step["done"]:
            return
        for page in self.api.users(step["after"]):
            for user in page:
                self._user(user)
            step["after"] = page[-1]["id"]
            self._save()
            self.progress(self.summary)
        step["done"] = True
        self._save()

    def _user(self, user: dict[str, Any]) -> None:
        uid = user["id"]
        try:
            ids.check_id(uid, "user id")
            body = UserPut.model_validate(
                {k: user[k] for k in USER_FIELDS if user.get(k) is not None}
            )
            if body.name is None:
                body = body.model_copy(update={"name": uid})
            if not self.dry_run:
                users.put_user(self.ctx, self.app_id, uid, body)
        except (ChinwagError, ValidationError) as exc:
            self.summary.skip("user", uid, _reason(exc))
            return
        self.summary.users += 1

    # Conversations -------------------------------------------------------------------------

    def _conversations(self) -> None:
        step = self.state.data["conversations"]
        if step["done"]:
            return
        for page in self.api.conversations(step["after"]):
            for conv in page:
                self._conversation(conv)
                step["after"] = conv["id"]
                self._save()
                self.progress(self.summary)
        step["done"] = True
        self._save()

    def _conversation(self, conv: dict[str, Any]) -> None:
        cid = conv["id"]
        try:
            ids.check_id(cid, "conversation id")
        except ChinwagError as exc:
            self.summary.skip("conversation", cid, _reason(exc))
            return
        spool = _Spool()
        try:
            for page in self.api.messages(cid):
                spool.add(page)
            try:
                body = ConversationPut.model_validate(
                    {
                        k: conv[k]
                        for k in ("subject", "photoUrl", "welcomeMessages", "custom")
                        if conv.get(k) is not None
                    }
                )
                if not self.dry_run:
                    conversations.put_conversation(self.ctx, self.app_id, cid, body)
            except (ChinwagError, ValidationError) as exc:
                self.summary.skip("conversation", cid, _reason(exc))
                return
            self.summary.conversations += 1
            if self.dry_run:
                self._count_dry(conv, spool)
                return
            members, withdrawn = self._participants(cid, conv.get("participants") or {})
            former = sorted(spool.senders - members)
            for uid in former:  # left, or wrote as a guest: here for the import only
                if self._join(cid, uid, ParticipantPut(notify=False), count=False):
                    members.add(uid)
                    self.summary.former_senders += 1
            self._messages(cid, spool, members)
            for uid in withdrawn:
                self._apply(
                    cid,
                    uid,
                    lambda u: participants.patch_participant(
                        self.ctx, self.app_id, cid, u, ParticipantPatch(access="None")
                    ),
                )
            for uid in former:
                if uid in members:
                    self._apply(
                        cid,
                        uid,
                        lambda u: participants.delete_participant(self.ctx, self.app_id, cid, u),
                    )
        finally:
            spool.close()

    def _count_dry(self, conv: dict[str, Any], spool: _Spool) -> None:
        listed = set(conv.get("participants") or {})
        self.summary.participants += len(listed)
        self.summary.messages += spool.count
        needed = len(listed | spool.senders)
        limit = self._participant_limit()
        if needed > limit:
            self.summary.skip(
                "participants",
                conv["id"],
                f"PARTICIPANT_LIMIT_REACHED: {needed} participants and former senders, the "
                f"app's participantLimit is {limit}: raise it before importing",
            )

    def _participant_limit(self) -> int:
        with self.ctx.read() as tx:
            app = app_store.get_app(tx, self.app_id)
        return (app.settings if app else AppSettings()).participantLimit

    def _apply(self, cid: str, uid: str, change: Callable[[str], None]) -> bool:
        try:
            change(uid)
        except (ChinwagError, ValidationError) as exc:
            self.summary.skip("participant", f"{cid}/{uid}", _reason(exc))
            return False
        return True

    def _join(self, cid: str, uid: str, body: ParticipantPut, count: bool = True) -> bool:
        joined = self._apply(
            cid, uid, lambda u: participants.put_participant(self.ctx, self.app_id, cid, u, body)
        )
        if joined and count:
            self.summary.participants += 1
        return joined

    def _participants(self, cid: str, listed: dict[str, Any]) -> tuple[set[str], list[str]]:
        members: set[str] = set()
        withdrawn: list[str] = []
        for uid, p in listed.items():
            p = p if isinstance(p, dict) else {}
            access = p.get("access", "ReadWrite")
            try:
                body = ParticipantPut.model_validate(
                    {
                        "access": "Read" if access == "Read" else "ReadWrite",
                        "notify": p.get("notify", True),
                    }
                )
            except ValidationError as exc:
                self.summary.skip("participant", f"{cid}/{uid}", _reason(exc))
                continue
            if self._join(cid, uid, body):
                members.add(uid)
                if access == "None":
                    withdrawn.append(uid)
        return members, withdrawn

    # Messages ------------------------------------------------------------------------------

    def _message(self, cid: str, m: dict[str, Any], members: set[str]) -> ImportedMessage | None:
        mid = m["id"]
        sender = m.get("senderId") if m.get("type") != "SystemMessage" else None
        if sender is not None and sender not in members:
            self.summary.skip("message", f"{cid}/{mid}", f"sender {sender!r} could not be added")
            return None
        raw_text = m.get("text")
        text: str = raw_text if isinstance(raw_text, str) else ""
        attachment = m.get("attachment")
        if isinstance(attachment, dict) and isinstance(attachment.get("url"), str):
            text = f"{text}\n{attachment['url']}" if text else attachment["url"]
            self.summary.attachments_as_links += 1
        location = m.get("location")
        if not text and isinstance(location, list) and len(location) == 2:
            text = f"location: {location[0]},{location[1]}"
        if len(text) > L.MAX_TEXT:
            self.summary.skip("message", f"{cid}/{mid}", f"text over {L.MAX_TEXT} characters")
            return None
        created = m.get("createdAt")
        if not text or not isinstance(created, int) or isinstance(created, bool):
            self.summary.skip("message", f"{cid}/{mid}", "no text, attachment or createdAt")
            return None
        custom = m.get("custom") if isinstance(m.get("custom"), dict) else {}
        read_by = [u for u in m.get("readBy") or [] if isinstance(u, str) and u in members]
        return ImportedMessage(
            sender=sender,
            text=text,
            timestamp=created,
            read_by=read_by,
            custom={str(k): str(v) for k, v in (custom or {}).items()},
            idempotency_key=f"talkjs:{mid}",
            message_id=mid if ids.ID_PATTERN.match(mid) else None,
        )

    def _messages(self, cid: str, spool: _Spool, members: set[str]) -> None:
        batch: list[ImportedMessage] = []
        for m in spool.oldest_first():
            item = self._message(cid, m, members)
            if item is not None:
                batch.append(item)
            if len(batch) >= BATCH:
                if not self._store(cid, batch):
                    return
                batch = []
        if batch:
            self._store(cid, batch)

    def _store(self, cid: str, batch: list[ImportedMessage]) -> bool:
        try:
            result = import_messages(self.ctx, self.app_id, cid, batch)
        except ChinwagError as exc:
            self.summary.skip("messages", cid, f"the rest of the history: {_reason(exc)}")
            return False
        self.summary.messages += result.new
        self.summary.messages_present += len(batch) - result.new
        self.progress(self.summary)
        return True
