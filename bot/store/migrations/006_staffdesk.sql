-- Announcements staff post, the guided conversation that drafts one, who subscribed to them,
-- hand-overs to an officer and anonymous feedback and view counts per topic and day.

-- expires_on is the last local day (TIMEZONE) it shows; NULL = until staff end it.
-- AUTOINCREMENT: a deleted announcement's number (and its outbox keys) is never reused.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    text_id       TEXT NOT NULL,
    text_en       TEXT,
    expires_on    TEXT,
    ended_at      TEXT,            -- staff expired it early
    channel       TEXT NOT NULL,   -- who created it, and where the broadcast summary goes
    user_key      TEXT NOT NULL,
    chat_key      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    broadcast_at  TEXT             -- when it was put in the outbox for the subscribers
);

-- One staff member's announcement conversation in progress; it survives a restart.
CREATE TABLE announcement_drafts (
    channel     TEXT NOT NULL,
    user_key    TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('text_id', 'text_en', 'expiry', 'confirm')),
    text_id     TEXT,
    text_en     TEXT,
    expires_on  TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (channel, user_key)
);

-- Chats that asked for announcements; active = 0 once the person blocked the bot or stopped.
CREATE TABLE subscriptions (
    channel     TEXT NOT NULL,
    chat_key    TEXT NOT NULL,
    language    TEXT NOT NULL CHECK (language IN ('id', 'en')),
    active      INTEGER NOT NULL DEFAULT 1,
    changed_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_key)
);
CREATE INDEX subscriptions_active ON subscriptions (active);

-- A question handed over to an officer. Only the reference, where to answer and two dates:
-- the question itself goes to the staff group and is not kept. Rows go after 90 days.
CREATE TABLE handovers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- the reference #H-0042, never reused
    channel      TEXT NOT NULL,
    chat_key     TEXT NOT NULL,
    language     TEXT NOT NULL CHECK (language IN ('id', 'en')),
    waiting      INTEGER NOT NULL DEFAULT 1,  -- the bot asked for the question, none came yet
    created_at   TEXT NOT NULL,
    answered_at  TEXT
);
CREATE INDEX handovers_created ON handovers (created_at);

-- Per topic and local day: how often the answer was shown and the 👍 / 👎 it got. No user id.
CREATE TABLE topic_stats (
    day     TEXT NOT NULL,
    topic   TEXT NOT NULL,
    views   INTEGER NOT NULL DEFAULT 0,
    up      INTEGER NOT NULL DEFAULT 0,
    down    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, topic)
);

-- Questions typed per local day (answered or not), for the statistics chart. Only a count.
CREATE TABLE question_days (
    day    TEXT PRIMARY KEY,
    count  INTEGER NOT NULL DEFAULT 0
);

-- A failed send waits until this moment before it is tried again (backoff).
ALTER TABLE outbox ADD COLUMN not_before TEXT;
