-- Questions the bot could not answer outright, for staff to turn into sample questions.
-- Only the normalised text: no user id, no channel. Rows unseen for 90 days are deleted.
CREATE TABLE questions (
    normalised  TEXT NOT NULL,
    route       TEXT NOT NULL CHECK (route IN ('unknown', 'clarify')),
    count       INTEGER NOT NULL DEFAULT 1,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (normalised, route)
);
CREATE INDEX questions_last_seen ON questions (last_seen);
