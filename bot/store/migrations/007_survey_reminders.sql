-- The satisfaction survey (SKM) and expiry reminders.

-- One row per completed survey. Anonymous by construction: no channel, no user or chat key,
-- no time of day; only the local day, the service and the answers (U1-U9 on 1-4, the profile
-- codes or NULL when skipped).
CREATE TABLE skm_responses (
    id          INTEGER PRIMARY KEY,
    day         TEXT NOT NULL,
    service     TEXT NOT NULL,
    u1 INTEGER NOT NULL CHECK (u1 BETWEEN 1 AND 4),
    u2 INTEGER NOT NULL CHECK (u2 BETWEEN 1 AND 4),
    u3 INTEGER NOT NULL CHECK (u3 BETWEEN 1 AND 4),
    u4 INTEGER NOT NULL CHECK (u4 BETWEEN 1 AND 4),
    u5 INTEGER NOT NULL CHECK (u5 BETWEEN 1 AND 4),
    u6 INTEGER NOT NULL CHECK (u6 BETWEEN 1 AND 4),
    u7 INTEGER NOT NULL CHECK (u7 BETWEEN 1 AND 4),
    u8 INTEGER NOT NULL CHECK (u8 BETWEEN 1 AND 4),
    u9 INTEGER NOT NULL CHECK (u9 BETWEEN 1 AND 4),
    gender      TEXT,
    age         TEXT,
    education   TEXT,
    occupation  TEXT
);
CREATE INDEX skm_responses_day ON skm_responses (day);

-- Suggestions typed after a survey: the text and the local day, linked to no one and to no
-- response.
CREATE TABLE skm_comments (
    id    INTEGER PRIMARY KEY,
    day   TEXT NOT NULL,
    text  TEXT NOT NULL
);

-- Per person, only what the 30-day rule needs: the day they were last invited (or started the
-- survey), whether that invitation was used, and until when a typed message counts as their
-- suggestion. No answers. Rows older than 30 days mean nothing and are deleted.
CREATE TABLE skm_invitations (
    channel        TEXT NOT NULL,
    chat_key       TEXT NOT NULL,
    offered_on     TEXT NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0,
    comment_until  TEXT,
    PRIMARY KEY (channel, chat_key)
);
CREATE INDEX skm_invitations_offered ON skm_invitations (offered_on);

-- Expiry reminders: a document kind and its expiry date (local day), nothing else about the
-- document. next_due is the local day of the next reminder (NULL when all went out);
-- next_lead indexes the document's lead times in content/reminders.yaml.
CREATE TABLE expiry_reminders (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    chat_key    TEXT NOT NULL,
    language    TEXT NOT NULL CHECK (language IN ('id', 'en')),
    document    TEXT NOT NULL,
    expires_on  TEXT NOT NULL,
    next_due    TEXT,
    next_lead   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    UNIQUE (channel, chat_key, document, expires_on)
);
CREATE INDEX expiry_reminders_due ON expiry_reminders (next_due) WHERE next_due IS NOT NULL;

-- A person who tapped a document and has yet to type its expiry date (for an hour).
CREATE TABLE expiry_reminder_drafts (
    channel     TEXT NOT NULL,
    chat_key    TEXT NOT NULL,
    document    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_key)
);
