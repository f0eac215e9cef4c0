-- The queue per local day (TIMEZONE) and service letter: the state people see, every number
-- called (history, for the pace estimate), who changed what, who is staff, and who asked to be
-- reminded. A new day is a new row, so the day rolls over at local midnight by itself.
CREATE TABLE queue_days (
    day          TEXT NOT NULL,   -- local date, YYYY-MM-DD
    service      TEXT NOT NULL,   -- letter from content/queue.yaml
    status       TEXT NOT NULL CHECK (status IN ('open', 'paused', 'closed')),
    reason       TEXT,            -- why paused or closed, as staff typed it
    now_serving  INTEGER NOT NULL CHECK (now_serving >= 0),
    last_issued  INTEGER CHECK (last_issued >= 0),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (day, service)
);

CREATE TABLE queue_calls (
    id       INTEGER PRIMARY KEY,
    day      TEXT NOT NULL,
    service  TEXT NOT NULL,
    number   INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('call', 'set')),  -- 'set' = staff corrected the number
    at       TEXT NOT NULL
);
CREATE INDEX queue_calls_by_day ON queue_calls (day, service, id);

-- Staff actions and refused attempts: who (channel + user key), when, what, and the outcome.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    channel   TEXT NOT NULL,
    user_key  TEXT NOT NULL,
    action    TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('done', 'refused'))
);

-- People an administrator made staff (administrators themselves come from the settings).
CREATE TABLE staff (
    channel   TEXT NOT NULL,
    user_key  TEXT NOT NULL,
    added_by  TEXT NOT NULL,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (channel, user_key)
);

-- "Remind me" requests; they only count on their own day. triggered_at is set in the same
-- transaction that puts the reminder in the outbox.
CREATE TABLE queue_alerts (
    id            INTEGER PRIMARY KEY,
    day           TEXT NOT NULL,
    service       TEXT NOT NULL,
    number        INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    chat_key      TEXT NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('id', 'en')),
    created_at    TEXT NOT NULL,
    triggered_at  TEXT,
    UNIQUE (day, service, number, channel, chat_key)
);
CREATE INDEX queue_alerts_waiting ON queue_alerts (day, service, number) WHERE triggered_at IS NULL;
