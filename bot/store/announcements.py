"""Announcement tables: announcements, the drafting conversation, subscriptions and the
broadcast rows in the outbox.

Functions take the connection, like every table module: writes run inside the caller's
`store.transaction()`. The broadcast rows themselves live in the outbox (bot/store/outbox.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from bot.core import Lang
from bot.store import outbox
from bot.store.db import as_text

Step = Literal["text_id", "text_en", "expiry", "confirm"]
BROADCAST_KEY = "ann"  # outbox keys: ann:<id>:<channel>:<chat>
SUMMARY_KEY = "annsum"  # the creator's summary: annsum:<id>
LIST_LIMIT = 20


@dataclass(frozen=True)
class Announcement:
    id: int
    text_id: str
    text_en: str | None
    expires_on: dt.date | None
    ended: bool
    channel: str
    user_key: str
    chat_key: str
    created_at: str

    def text(self, lang: Lang) -> str:
        """The text in `lang`; the Indonesian one when there is no English text."""
        return self.text_en if lang == "en" and self.text_en else self.text_id

    def active_on(self, day: dt.date) -> bool:
        return not self.ended and (self.expires_on is None or day <= self.expires_on)


@dataclass(frozen=True)
class Draft:
    """An announcement being written: the step it waits at and what was given so far."""

    step: Step
    text_id: str | None = None
    text_en: str | None = None
    expires_on: dt.date | None = None


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _announcement(row: aiosqlite.Row) -> Announcement:
    return Announcement(
        row["id"],
        row["text_id"],
        row["text_en"],
        _day(row["expires_on"]),
        row["ended_at"] is not None,
        row["channel"],
        row["user_key"],
        row["chat_key"],
        row["created_at"],
    )


def broadcast_prefix(announcement_id: int) -> str:
    return f"{BROADCAST_KEY}:{announcement_id}:"


async def get_draft(db: aiosqlite.Connection, channel: str, user_key: str) -> Draft | None:
    rows = await db.execute_fetchall(
        "SELECT * FROM announcement_drafts WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return Draft(row["step"], row["text_id"], row["text_en"], _day(row["expires_on"]))


async def save_draft(
    db: aiosqlite.Connection, channel: str, user_key: str, draft: Draft, now: dt.datetime
) -> None:
    await db.execute(
        "INSERT INTO announcement_drafts (channel, user_key, step, text_id, text_en, expires_on, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, user_key) DO UPDATE SET "
        "step = excluded.step, text_id = excluded.text_id, text_en = excluded.text_en, "
        "expires_on = excluded.expires_on, updated_at = excluded.updated_at",
        (
            channel,
            user_key,
            draft.step,
            draft.text_id,
            draft.text_en,
            None if draft.expires_on is None else draft.expires_on.isoformat(),
            as_text(now),
        ),
    )


async def delete_draft(db: aiosqlite.Connection, channel: str, user_key: str) -> None:
    await db.execute(
        "DELETE FROM announcement_drafts WHERE channel = ? AND user_key = ?", (channel, user_key)
    )


async def add_announcement(
    db: aiosqlite.Connection,
    draft: Draft,
    channel: str,
    user_key: str,
    chat_key: str,
    now: dt.datetime,
) -> int:
    assert draft.text_id is not None
    cursor = await db.execute(
        "INSERT INTO announcements (text_id, text_en, expires_on, channel, user_key, chat_key, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            draft.text_id,
            draft.text_en,
            None if draft.expires_on is None else draft.expires_on.isoformat(),
            channel,
            user_key,
            chat_key,
            as_text(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_announcement(db: aiosqlite.Connection, announcement_id: int) -> Announcement | None:
    rows = await db.execute_fetchall("SELECT * FROM announcements WHERE id = ?", (announcement_id,))
    return next((_announcement(row) for row in rows), None)


async def active_announcements(db: aiosqlite.Connection, day: dt.date) -> list[Announcement]:
    """Announcements showing on local `day`, newest first: not ended, not past their expiry."""
    rows = await db.execute_fetchall(
        "SELECT * FROM announcements WHERE ended_at IS NULL "
        "AND (expires_on IS NULL OR expires_on >= ?) ORDER BY id DESC LIMIT ?",
        (day.isoformat(), LIST_LIMIT),
    )
    return [_announcement(row) for row in rows]


async def recent_announcements(db: aiosqlite.Connection) -> list[Announcement]:
    """The latest announcements, ended and expired ones too (for staff), newest first."""
    rows = await db.execute_fetchall(
        "SELECT * FROM announcements ORDER BY id DESC LIMIT ?", (LIST_LIMIT,)
    )
    return [_announcement(row) for row in rows]


async def update_text(
    db: aiosqlite.Connection, announcement_id: int, lang: Lang, text: str
) -> bool:
    column = "text_en" if lang == "en" else "text_id"
    cursor = await db.execute(
        f"UPDATE announcements SET {column} = ? WHERE id = ?", (text, announcement_id)
    )
    return cursor.rowcount == 1


async def end_announcement(
    db: aiosqlite.Connection, announcement_id: int, now: dt.datetime
) -> bool:
    """Stop showing it now; False when there is no such announcement or it had ended."""
    cursor = await db.execute(
        "UPDATE announcements SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
        (as_text(now), announcement_id),
    )
    return cursor.rowcount == 1


async def delete_announcement(db: aiosqlite.Connection, announcement_id: int) -> bool:
    """Delete it and any of its broadcast that has not gone out yet."""
    await outbox.delete_unsent(db, broadcast_prefix(announcement_id))
    cursor = await db.execute("DELETE FROM announcements WHERE id = ?", (announcement_id,))
    return cursor.rowcount == 1


async def subscribe(
    db: aiosqlite.Connection, channel: str, chat_key: str, lang: Lang, now: dt.datetime
) -> bool:
    """Subscribe a chat (again); False when it already was."""
    rows = await db.execute_fetchall(
        "SELECT active FROM subscriptions WHERE channel = ? AND chat_key = ?", (channel, chat_key)
    )
    was = next((bool(row["active"]) for row in rows), False)
    await db.execute(
        "INSERT INTO subscriptions (channel, chat_key, language, active, changed_at) "
        "VALUES (?, ?, ?, 1, ?) ON CONFLICT (channel, chat_key) DO UPDATE SET active = 1, "
        "language = excluded.language, changed_at = excluded.changed_at",
        (channel, chat_key, lang, as_text(now)),
    )
    return not was


async def is_subscribed(db: aiosqlite.Connection, channel: str, chat_key: str) -> bool:
    rows = await db.execute_fetchall(
        "SELECT 1 FROM subscriptions WHERE channel = ? AND chat_key = ? AND active = 1",
        (channel, chat_key),
    )
    return bool(rows)


async def unsubscribe(
    db: aiosqlite.Connection, channel: str, chat_key: str, now: dt.datetime
) -> bool:
    """Stop a chat's subscription (also when the person blocked the bot); False if none."""
    cursor = await db.execute(
        "UPDATE subscriptions SET active = 0, changed_at = ? "
        "WHERE channel = ? AND chat_key = ? AND active = 1",
        (as_text(now), channel, chat_key),
    )
    return cursor.rowcount == 1


async def enqueue_broadcast(
    db: aiosqlite.Connection,
    announcement_id: int,
    replies: dict[Lang, str],
    channels: AbstractSet[str],
    now: dt.datetime,
) -> int:
    """One outbox row per active subscriber on `channels` (see outbox.enqueue_for_subscribers);
    how many were added."""
    added = await outbox.enqueue_for_subscribers(
        db, broadcast_prefix(announcement_id), replies, channels, now
    )
    await db.execute(
        "UPDATE announcements SET broadcast_at = ? WHERE id = ?", (as_text(now), announcement_id)
    )
    return added


async def broadcast_pending(db: aiosqlite.Connection, announcement_id: int) -> bool:
    """Whether any row of the broadcast is still to be sent."""
    return await outbox.any_pending(db, broadcast_prefix(announcement_id))


async def broadcast_progress(db: aiosqlite.Connection, announcement_id: int) -> dict[str, int]:
    """Rows of the broadcast by outcome, with "pending" for those not done yet."""
    return await outbox.progress(db, broadcast_prefix(announcement_id))
