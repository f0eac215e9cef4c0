"""Which conversations a chat has open, for the route: one read for every typed message, so
that each conversation reads its own state only in the rare chat that has one open."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.store.db import as_text
from bot.store.handovers import WAIT_FOR_QUESTION
from bot.store.reminders import DRAFT_LIFETIME

HANDOVER = "handover"  # the bot asked for the question to pass to an officer
SURVEY_COMMENT = "survey-comment"  # the survey asked for a suggestion
REMINDER_DATE = "reminder-date"  # /pengingat asked for a document's expiry date
ANNOUNCEMENT_DRAFT = "announcement-draft"  # a staff member is writing an announcement


async def open_conversations(
    db: aiosqlite.Connection, channel: str, chat_key: str, user_key: str, now: dt.datetime
) -> frozenset[str]:
    """The names above whose state this chat (or, for a draft, this person) holds; each
    condition is the one its own module reads (handovers, survey, reminders, announcements)."""
    rows = await db.execute_fetchall(
        f"SELECT '{HANDOVER}' FROM handovers WHERE channel = ? AND chat_key = ? AND waiting = 1 "
        "AND created_at >= ? "
        f"UNION ALL SELECT '{SURVEY_COMMENT}' FROM skm_invitations WHERE channel = ? "
        "AND chat_key = ? AND comment_until > ? "
        f"UNION ALL SELECT '{REMINDER_DATE}' FROM expiry_reminder_drafts WHERE channel = ? "
        "AND chat_key = ? AND started_at >= ? "
        f"UNION ALL SELECT '{ANNOUNCEMENT_DRAFT}' FROM announcement_drafts WHERE channel = ? "
        "AND user_key = ?",
        (
            *(channel, chat_key, as_text(now - WAIT_FOR_QUESTION)),
            *(channel, chat_key, as_text(now)),
            *(channel, chat_key, as_text(now - DRAFT_LIFETIME)),
            *(channel, user_key),
        ),
    )
    return frozenset(row[0] for row in rows)
