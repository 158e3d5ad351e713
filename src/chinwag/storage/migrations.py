"""Schema migrations, applied in order and recorded in ``schema_migrations``.

One schema for both databases: portable types only (TEXT, BIGINT, INTEGER, BOOLEAN stored as
0/1 INTEGER). JSON is stored as TEXT. Add a migration to change the schema; never edit one that
has shipped.
"""

from __future__ import annotations

import logging
import time

from chinwag.storage.db import Database

log = logging.getLogger(__name__)

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """CREATE TABLE apps (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                settings TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )""",
            """CREATE TABLE secret_keys (
                secret TEXT PRIMARY KEY,
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL
            )""",
            "CREATE INDEX secret_keys_app ON secret_keys(app_id)",
            """CREATE TABLE users (
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                email TEXT,
                phone TEXT,
                photo_url TEXT,
                role TEXT,
                locale TEXT,
                welcome_message TEXT,
                availability_text TEXT,
                custom TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, id)
            )""",
            """CREATE TABLE conversations (
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                subject TEXT,
                photo_url TEXT,
                welcome_messages TEXT,
                custom TEXT NOT NULL,
                guest_access TEXT NOT NULL,
                seq BIGINT NOT NULL,
                last_message_at BIGINT,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, id)
            )""",
            """CREATE TABLE participants (
                app_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                access TEXT NOT NULL,
                notify TEXT NOT NULL,
                member INTEGER NOT NULL,
                horizon BIGINT,
                frozen_activity_at BIGINT,
                read_position BIGINT NOT NULL,
                joined_at BIGINT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (app_id, conversation_id, user_id),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
            "CREATE INDEX participants_by_user ON participants(app_id, user_id)",
            """CREATE TABLE messages (
                app_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                sender_id TEXT,
                text TEXT NOT NULL,
                custom TEXT NOT NULL,
                referenced_message_id TEXT,
                origin TEXT NOT NULL,
                idempotency_key TEXT,
                created_at BIGINT NOT NULL,
                edited_at BIGINT,
                deleted_at BIGINT,
                seq BIGINT NOT NULL,
                PRIMARY KEY (app_id, conversation_id, position),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
            "CREATE UNIQUE INDEX messages_id ON messages(app_id, id)",
            """CREATE UNIQUE INDEX messages_idempotency
                ON messages(app_id, conversation_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL""",
            "CREATE INDEX messages_changes ON messages(app_id, conversation_id, seq)",
        ],
    ),
    (
        2,
        "outbox for notifications and webhooks; webhook endpoints",
        [
            # One row per unit of work: a notification batch, an email, an SMS, a webhook call.
            # See storage/outbox.py for the states.
            """CREATE TABLE outbox (
                id TEXT PRIMARY KEY,
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                due_at BIGINT NOT NULL,
                attempts INTEGER NOT NULL,
                in_flight INTEGER NOT NULL,
                lease_owner TEXT,
                lease_until BIGINT,
                conversation_id TEXT,
                user_id TEXT,
                parent_id TEXT,
                webhook_id TEXT,
                event_type TEXT,
                target TEXT,
                payload TEXT NOT NULL,
                last_status INTEGER,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                done_at BIGINT
            )""",
            "CREATE INDEX outbox_due ON outbox(status, due_at)",
            "CREATE INDEX outbox_batches ON outbox(app_id, conversation_id, kind, status)",
            "CREATE INDEX outbox_log ON outbox(app_id, kind, created_at)",
            """CREATE TABLE webhooks (
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, id)
            )""",
        ],
    ),
    (
        3,
        "guest restrictions, invite links, audit log",
        [
            # A ban or a mute of one user as a guest of one conversation; until NULL: for good.
            """CREATE TABLE guest_restrictions (
                app_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                until BIGINT,
                reason TEXT,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, conversation_id, user_id, kind),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
            """CREATE TABLE invites (
                app_id TEXT NOT NULL,
                id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                access TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, id),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
            "CREATE INDEX invites_conversation ON invites(app_id, conversation_id)",
            # Append-only: rows are inserted, never updated or deleted (not even with the
            # conversation they describe).
            """CREATE TABLE audit_log (
                app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                conversation_id TEXT,
                user_id TEXT,
                data TEXT NOT NULL,
                PRIMARY KEY (app_id, id)
            )""",
            "CREATE INDEX audit_log_conversation ON audit_log(app_id, conversation_id, id)",
        ],
    ),
    (
        4,
        "notification channels per app and role; one pending batch per user and conversation",
        [
            # JSON {"email": bool, "sms": bool, "roles": {role: {"email"?: bool, "sms"?: bool}}}
            """CREATE TABLE notification_settings (
                app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
                settings TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )""",
            """CREATE UNIQUE INDEX outbox_one_pending_batch
                ON outbox(app_id, conversation_id, user_id)
                WHERE kind = 'notification' AND status = 'pending'""",
        ],
    ),
    (
        5,
        "who set each membership field and guest policy; frozen views; message revisions",
        [
            # Who set a membership's access (and membership) and its notify last: "backend",
            # "moderator" or "browser" (domain/permissions.py). Rows from before this migration
            # count as the backend's, the safe reading of a decision nobody recorded.
            "ALTER TABLE participants ADD COLUMN access_set_by TEXT NOT NULL DEFAULT 'backend'",
            "ALTER TABLE participants ADD COLUMN notify_set_by TEXT NOT NULL DEFAULT 'backend'",
            # JSON: the conversation as this user last saw it, written when access is withdrawn
            # or the membership removed (services/horizons.py); NULL while the member is live.
            "ALTER TABLE participants ADD COLUMN frozen TEXT",
            # The actor that created the conversation ("backend", "user:<id>", "admin:<name>").
            "ALTER TABLE conversations ADD COLUMN created_by TEXT",
            # Who set guestAccess explicitly; NULL: never set, the default policy applies.
            "ALTER TABLE conversations ADD COLUMN guest_access_set_by TEXT",
            "UPDATE conversations SET guest_access_set_by = 'backend' "
            "WHERE guest_access <> 'ReadWrite'",
            # The default policy: a conversation of exactly two participants admits no guests.
            "UPDATE conversations SET guest_access = 'None' WHERE guest_access_set_by IS NULL "
            "AND (SELECT COUNT(*) FROM participants p WHERE p.app_id = conversations.app_id "
            "AND p.conversation_id = conversations.id) = 2",
            # A message's earlier versions: each edit keeps what it replaced, with the position
            # of the edit (replaced_at) and of that version's own change (version_seq), so a
            # former participant reads the text as it was at their horizon.
            """CREATE TABLE message_revisions (
                app_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                replaced_at BIGINT NOT NULL,
                version_seq BIGINT NOT NULL,
                text TEXT NOT NULL,
                custom TEXT NOT NULL,
                edited_at BIGINT,
                PRIMARY KEY (app_id, conversation_id, message_id, replaced_at),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
        ],
    ),
    (
        6,
        "dashboard sessions, so signing out ends a session everywhere",
        [
            # One row per dashboard sign-in (the cookie names the id); a revoked or expired
            # session is refused on every node, whatever its cookie says.
            """CREATE TABLE admin_sessions (
                id TEXT PRIMARY KEY,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT
            )""",
            "CREATE INDEX admin_sessions_expiry ON admin_sessions(expires_at)",
        ],
    ),
    (
        7,
        "what a resume needs to replay events as they were sent live",
        [
            # 1 when the sender watched as a guest: live events, resume and webhooks say so
            # alike (a guest keeps no membership row that would tell it later).
            "ALTER TABLE messages ADD COLUMN by_guest INTEGER NOT NULL DEFAULT 0",
            # The position at which the current membership began (a join or a re-join), so a
            # resume replays it as participant.joined; NULL for rows from before.
            "ALTER TABLE participants ADD COLUMN joined_seq BIGINT",
        ],
    ),
    (
        8,
        "emoji reactions",
        [
            # One row per user, message and emoji; a deleted message loses its reactions.
            """CREATE TABLE reactions (
                app_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                emoji TEXT NOT NULL,
                user_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (app_id, conversation_id, message_id, emoji, user_id),
                FOREIGN KEY (app_id, conversation_id)
                    REFERENCES conversations(app_id, id) ON DELETE CASCADE
            )""",
        ],
    ),
]

LATEST = MIGRATIONS[-1][0]


def current_version(db: Database) -> int:
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        )
        row = tx.one("SELECT MAX(version) AS v FROM schema_migrations")
    return int(row["v"]) if row and row["v"] is not None else 0


def migrate(db: Database) -> int:
    """Apply every migration newer than the database's version; return the new version.

    Each migration runs in its own transaction together with its record, so a failure leaves
    the database at the previous version. On PostgreSQL an advisory lock keeps two nodes
    starting at once from racing.
    """
    version = current_version(db)
    for number, name, statements in MIGRATIONS:
        if number <= version:
            continue
        with db.transaction() as tx:
            if tx.dialect == "postgresql":
                tx.execute("SELECT pg_advisory_xact_lock(7253661)")
            row = tx.one("SELECT 1 AS x FROM schema_migrations WHERE version = ?", (number,))
            if row:
                continue
            log.info("applying migration %d: %s", number, name)
            for sql in statements:
                tx.execute(sql)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, int(time.time() * 1000)),
            )
        version = number
    return version
