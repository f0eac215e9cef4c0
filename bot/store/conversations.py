"""What the route needs to know before it answers a message, in one read: the person's language
choice and staff mark, and which conversations the chat has open — so that each conversation
reads its own state only in the rare chat that has one open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import aiosqlite

from bot.core import Lang
from bot.store.db import as_text
from bot.store.handovers import WAIT_FOR_QUESTION
from bot.store.reminders import DRAFT_LIFETIME
from bot.store.users import as_lang

HANDOVER = "handover"  # the bot asked for the question to pass to an officer
SURVEY_COMMENT = "survey-comment"  # the survey asked for a suggestion
REMINDER_DATE = "reminder-date"  # /pengingat asked for a document's expiry date
ANNOUNCEMENT_DRAFT = "announcement-draft"  # a staff member is writing an announcement


@dataclass(frozen=True)
class ChatState:
    language: Lang | None  # the /bahasa choice; None: never chose
    staff: bool  # added as staff (administrators come from the settings, not from here)
    open: frozenset[str]  # the conversation names above this chat (or person) holds


async def chat_state(
    db: aiosqlite.Connection, channel: str, chat_key: str, user_key: str, now: dt.datetime
) -> ChatState:
    """One round trip to the database thread for every message (the reader serves hundreds a
    second; two reads a message kept it half busy). Each conversation's condition is the one
    its own module reads (handovers, survey, reminders, announcements)."""
    rows = await db.execute_fetchall(
        "SELECT (SELECT language FROM users WHERE channel = ? AND user_key = ?) AS language, "
        "EXISTS (SELECT 1 FROM staff WHERE channel = ? AND user_key = ?) AS staff, "
        "(SELECT group_concat(name, ' ') FROM ("
        f"SELECT '{HANDOVER}' AS name FROM handovers WHERE channel = ? AND chat_key = ? "
        "AND waiting = 1 AND created_at >= ? "
        f"UNION ALL SELECT '{SURVEY_COMMENT}' FROM skm_invitations WHERE channel = ? "
        "AND chat_key = ? AND comment_until > ? "
        f"UNION ALL SELECT '{REMINDER_DATE}' FROM expiry_reminder_drafts WHERE channel = ? "
        "AND chat_key = ? AND started_at >= ? "
        f"UNION ALL SELECT '{ANNOUNCEMENT_DRAFT}' FROM announcement_drafts WHERE channel = ? "
        "AND user_key = ?)) AS open",
        (
            *(channel, user_key, channel, user_key),
            *(channel, chat_key, as_text(now - WAIT_FOR_QUESTION)),
            *(channel, chat_key, as_text(now)),
            *(channel, chat_key, as_text(now - DRAFT_LIFETIME)),
            *(channel, user_key),
        ),
    )
    row = next(iter(rows))
    names = row["open"]
    return ChatState(
        as_lang(row["language"]), bool(row["staff"]), frozenset(names.split() if names else ())
    )
