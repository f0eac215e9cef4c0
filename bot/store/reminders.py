"""Expiry reminder tables: per chat a document kind and its expiry day (nothing else about the
document), when the next reminder is due, and the half-finished request waiting for a date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import aiosqlite

from bot.core import Lang
from bot.store.db import as_text, select_rows

MAX_PER_CHAT = 10
DRAFT_LIFETIME = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Reminder:
    id: int
    channel: str
    chat_key: str
    lang: Lang
    document: str
    expires_on: dt.date
    next_due: dt.date | None
    next_lead: int


def _reminder(row: aiosqlite.Row) -> Reminder:
    lang: Lang = "en" if row["language"] == "en" else "id"
    due = row["next_due"]
    return Reminder(
        row["id"],
        row["channel"],
        row["chat_key"],
        lang,
        row["document"],
        dt.date.fromisoformat(row["expires_on"]),
        None if due is None else dt.date.fromisoformat(due),
        row["next_lead"],
    )


async def add(
    db: aiosqlite.Connection,
    reminder: Reminder,
    now: dt.datetime,
) -> bool:
    """Keep a reminder (its id is ignored); False when this chat has the same one already or
    MAX_PER_CHAT of them."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM expiry_reminders WHERE channel = ? AND chat_key = ?",
        (reminder.channel, reminder.chat_key),
    )
    if int(next(iter(rows))[0]) >= MAX_PER_CHAT:
        return False
    cursor = await db.execute(
        "INSERT OR IGNORE INTO expiry_reminders (channel, chat_key, language, document, "
        "expires_on, next_due, next_lead, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reminder.channel,
            reminder.chat_key,
            reminder.lang,
            reminder.document,
            reminder.expires_on.isoformat(),
            None if reminder.next_due is None else reminder.next_due.isoformat(),
            reminder.next_lead,
            as_text(now),
        ),
    )
    return cursor.rowcount == 1


async def list_for(db: aiosqlite.Connection, channel: str, chat_key: str) -> list[Reminder]:
    """This chat's reminders, soonest expiry first."""
    rows = await db.execute_fetchall(
        "SELECT * FROM expiry_reminders WHERE channel = ? AND chat_key = ? ORDER BY expires_on, id",
        (channel, chat_key),
    )
    return [_reminder(row) for row in rows]


async def cancel(db: aiosqlite.Connection, channel: str, chat_key: str, reminder_id: int) -> bool:
    """Forget one of this chat's reminders (another chat's id does nothing)."""
    cursor = await db.execute(
        "DELETE FROM expiry_reminders WHERE id = ? AND channel = ? AND chat_key = ?",
        (reminder_id, channel, chat_key),
    )
    return cursor.rowcount == 1


async def forget_chat(db: aiosqlite.Connection, channel: str, chat_key: str) -> int:
    """Erase every reminder of this chat and its unfinished request; how many reminders."""
    await drop_draft(db, channel, chat_key)
    cursor = await db.execute(
        "DELETE FROM expiry_reminders WHERE channel = ? AND chat_key = ?", (channel, chat_key)
    )
    return cursor.rowcount


async def due(db: aiosqlite.Connection, up_to: dt.date) -> list[Reminder]:
    """Reminders whose next reminder is due on or before `up_to`, in the person's current
    language (a later /bahasa choice wins over the one when the reminder was set)."""
    rows = await db.execute_fetchall(
        "SELECT r.id, r.channel, r.chat_key, COALESCE(u.language, r.language) AS language, "
        "r.document, r.expires_on, r.next_due, r.next_lead FROM expiry_reminders r "
        "LEFT JOIN users u ON u.channel = r.channel AND u.user_key = r.chat_key "
        "WHERE r.next_due IS NOT NULL AND r.next_due <= ? ORDER BY r.next_due, r.id",
        (up_to.isoformat(),),
    )
    return [_reminder(row) for row in rows]


async def advance(
    db: aiosqlite.Connection, reminder_id: int, next_lead: int, next_due: dt.date | None
) -> None:
    await db.execute(
        "UPDATE expiry_reminders SET next_lead = ?, next_due = ? WHERE id = ?",
        (next_lead, None if next_due is None else next_due.isoformat(), reminder_id),
    )


async def forget_expired(db: aiosqlite.Connection, today: dt.date) -> None:
    """Reminders of documents that have expired are no longer needed."""
    await db.execute("DELETE FROM expiry_reminders WHERE expires_on < ?", (today.isoformat(),))


async def open_draft(
    db: aiosqlite.Connection, channel: str, chat_key: str, document: str, now: dt.datetime
) -> None:
    """The person chose a document; their next typed message may be its expiry date."""
    await db.execute(
        "INSERT INTO expiry_reminder_drafts (channel, chat_key, document, started_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (channel, chat_key) DO UPDATE SET "
        "document = excluded.document, started_at = excluded.started_at",
        (channel, chat_key, document, as_text(now)),
    )


async def draft(
    db: aiosqlite.Connection, channel: str, chat_key: str, now: dt.datetime
) -> str | None:
    """The document whose date this chat is typing, if chosen within the last hour."""
    rows = await db.execute_fetchall(
        "SELECT document FROM expiry_reminder_drafts WHERE channel = ? AND chat_key = ? "
        "AND started_at >= ?",
        (channel, chat_key, as_text(now - DRAFT_LIFETIME)),
    )
    return next((row["document"] for row in rows), None)


async def drop_draft(db: aiosqlite.Connection, channel: str, chat_key: str) -> None:
    await db.execute(
        "DELETE FROM expiry_reminder_drafts WHERE channel = ? AND chat_key = ?",
        (channel, chat_key),
    )


async def forget_old_drafts(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM expiry_reminder_drafts WHERE started_at < ?",
        (as_text(now - DRAFT_LIFETIME),),
    )


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    mine = (channel, key)
    return {
        "expiry_reminders": await select_rows(
            db,
            "SELECT * FROM expiry_reminders WHERE channel = ? AND chat_key = ? ORDER BY id",
            mine,
        ),
        "expiry_reminder_drafts": await select_rows(
            db, "SELECT * FROM expiry_reminder_drafts WHERE channel = ? AND chat_key = ?", mine
        ),
    }
