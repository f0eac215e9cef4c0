-- Proactive messages (queue reminders, later broadcasts). A row is written in the same
-- transaction as the change that causes it; `key` names that cause, so it cannot be written
-- twice. The worker marks a row done only after the send succeeded (or it expired or failed).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL,
    chat_key    TEXT NOT NULL,
    replies     TEXT NOT NULL,    -- JSON list of replies
    created_at  TEXT NOT NULL,
    expires_at  TEXT,             -- not sent after this moment; NULL = no expiry
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,             -- the exception's type name only, never message text
    done_at     TEXT,
    outcome     TEXT CHECK (outcome IN ('sent', 'expired', 'failed', 'skipped'))
);
CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL;
