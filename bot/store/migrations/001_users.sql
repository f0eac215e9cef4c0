-- People who have talked to the bot: only a channel key, the language choice and two dates.
CREATE TABLE users (
    channel     TEXT NOT NULL,
    user_key    TEXT NOT NULL,
    language    TEXT CHECK (language IN ('id', 'en')),
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (channel, user_key)
);
