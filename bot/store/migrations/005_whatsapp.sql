-- WhatsApp message ids already handled: Meta redelivers for days, so a wamid is answered once,
-- also across restarts. Rows older than the retention in bot/store/db.py are deleted.
CREATE TABLE whatsapp_messages (
    wamid     TEXT PRIMARY KEY,
    received  TEXT NOT NULL
);
CREATE INDEX whatsapp_messages_received ON whatsapp_messages (received);
-- Per WhatsApp user: when they last wrote (it opens the 24-hour window for free-form messages)
-- and when the Graph API last refused a message because that window had closed (131047).
CREATE TABLE whatsapp_windows (
    user_key      TEXT PRIMARY KEY,
    last_inbound  TEXT NOT NULL,
    closed_at     TEXT
);
