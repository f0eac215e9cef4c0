-- Delivery guarantees (issue 13). The outbox is rebuilt to gain:
--  * `priority`: 0 for personal, time-critical messages (queue reminders, officer answers,
--    answers being re-sent, summaries), 1 for bulk (broadcasts); urgent rows go first;
--  * the outcome 'unconfirmed': the send timed out after the platform may have taken the
--    message, so it is not sent again (at most once);
--  * an index per chat, so a chat's later row waits while an earlier one is pending.
CREATE TABLE outbox_new (
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
    outcome     TEXT CHECK (outcome IN ('sent', 'expired', 'failed', 'skipped', 'unconfirmed')),
    not_before  TEXT,             -- a failed send waits until then (backoff)
    priority    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_new (id, key, channel, chat_key, replies, created_at, expires_at, attempts,
                        last_error, done_at, outcome, not_before, priority)
SELECT id, key, channel, chat_key, replies, created_at, expires_at, attempts, last_error,
       done_at, outcome, not_before,
       CASE WHEN key LIKE 'ann:%' OR key LIKE 'skm-offer:%' THEN 1 ELSE 0 END
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL;
CREATE INDEX outbox_due ON outbox (priority, id) WHERE done_at IS NULL;
CREATE INDEX outbox_chat ON outbox (channel, chat_key, id) WHERE done_at IS NULL;

-- One row /healthz (and start-up) rewrites to prove the database can still be written.
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  TEXT NOT NULL
);
