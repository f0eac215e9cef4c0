-- Notices people choose: every announcement has a kind; a closure also names the local days
-- the MPP is closed (they feed the opening-hours answer); a subscription may list the kinds
-- wanted (NULL: every kind).
ALTER TABLE announcements ADD COLUMN kind TEXT NOT NULL DEFAULT 'general'
    CHECK (kind IN ('quota', 'outage', 'closure', 'general'));
ALTER TABLE announcements ADD COLUMN closed_from TEXT;
ALTER TABLE announcements ADD COLUMN closed_to TEXT;
CREATE INDEX announcements_closures ON announcements (closed_to) WHERE kind = 'closure';

ALTER TABLE subscriptions ADD COLUMN kinds TEXT;

-- The drafting conversation gains two steps (the kind first, the closed days for a closure):
-- the table is rebuilt for its CHECK, keeping drafts in progress.
CREATE TABLE announcement_drafts_new (
    channel      TEXT NOT NULL,
    user_key     TEXT NOT NULL,
    step         TEXT NOT NULL
        CHECK (step IN ('kind', 'text_id', 'text_en', 'closure', 'expiry', 'confirm')),
    kind         TEXT NOT NULL DEFAULT 'general',
    text_id      TEXT,
    text_en      TEXT,
    closed_from  TEXT,
    closed_to    TEXT,
    expires_on   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (channel, user_key)
);
INSERT INTO announcement_drafts_new (channel, user_key, step, text_id, text_en, expires_on,
    updated_at)
    SELECT channel, user_key, step, text_id, text_en, expires_on, updated_at
    FROM announcement_drafts;
DROP TABLE announcement_drafts;
ALTER TABLE announcement_drafts_new RENAME TO announcement_drafts;
