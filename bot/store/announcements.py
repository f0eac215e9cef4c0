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
from bot.store.db import as_text, select_rows

Step = Literal["kind", "text_id", "text_en", "closure", "expiry", "confirm"]
# What an announcement is about; subscribers choose the kinds they want. A closure names the
# days the office is closed, which the opening-hours answer shows.
Kind = Literal["quota", "outage", "closure", "general"]
KINDS: tuple[Kind, ...] = ("quota", "outage", "closure", "general")
BROADCAST_KEY = "ann"  # outbox keys: ann:<id>:<channel>:<chat>
SUMMARY_KEY = "annsum"  # the creator's summary: annsum:<id>
LIST_LIMIT = 20
# Who stopped their subscription, a draft left unfinished, an announcement that ended: kept
# this long, then forgotten. An active subscription stays until the person stops it.
ENDED_SUBSCRIPTION_RETENTION = dt.timedelta(days=30)
DRAFT_RETENTION = dt.timedelta(days=7)
ANNOUNCEMENT_RETENTION = dt.timedelta(days=365)


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
    kind: Kind = "general"
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None

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
    kind: Kind = "general"
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _text(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


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
        _kind(row["kind"]),
        _day(row["closed_from"]),
        _day(row["closed_to"]),
    )


def parse_kind(text: str) -> Kind | None:
    return next((kind for kind in KINDS if kind == text), None)


def _kind(text: str) -> Kind:
    return parse_kind(text) or "general"


def broadcast_prefix(announcement_id: int) -> str:
    return f"{BROADCAST_KEY}:{announcement_id}:"


async def get_draft(db: aiosqlite.Connection, channel: str, user_key: str) -> Draft | None:
    rows = await db.execute_fetchall(
        "SELECT * FROM announcement_drafts WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return Draft(
        row["step"],
        row["text_id"],
        row["text_en"],
        _day(row["expires_on"]),
        _kind(row["kind"]),
        _day(row["closed_from"]),
        _day(row["closed_to"]),
    )


async def save_draft(
    db: aiosqlite.Connection, channel: str, user_key: str, draft: Draft, now: dt.datetime
) -> None:
    await db.execute(
        "INSERT INTO announcement_drafts (channel, user_key, step, text_id, text_en, expires_on, "
        "kind, closed_from, closed_to, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (channel, user_key) DO UPDATE SET step = excluded.step, "
        "text_id = excluded.text_id, text_en = excluded.text_en, "
        "expires_on = excluded.expires_on, kind = excluded.kind, "
        "closed_from = excluded.closed_from, closed_to = excluded.closed_to, "
        "updated_at = excluded.updated_at",
        (
            channel,
            user_key,
            draft.step,
            draft.text_id,
            draft.text_en,
            _text(draft.expires_on),
            draft.kind,
            _text(draft.closed_from),
            _text(draft.closed_to),
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
        "created_at, kind, closed_from, closed_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            draft.text_id,
            draft.text_en,
            _text(draft.expires_on),
            channel,
            user_key,
            chat_key,
            as_text(now),
            draft.kind,
            _text(draft.closed_from),
            _text(draft.closed_to),
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


async def closures(db: aiosqlite.Connection, first: dt.date, last: dt.date) -> list[Announcement]:
    """Closure announcements not ended whose closed days overlap `first`..`last`, soonest
    first."""
    rows = await db.execute_fetchall(
        "SELECT * FROM announcements WHERE kind = 'closure' AND ended_at IS NULL "
        "AND closed_to >= ? AND closed_from <= ? ORDER BY closed_from, id",
        (first.isoformat(), last.isoformat()),
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
    """Subscribe a chat (again); False when it already was. A new or renewed subscription gets
    every kind; an active one keeps the kinds chosen."""
    rows = await db.execute_fetchall(
        "SELECT active FROM subscriptions WHERE channel = ? AND chat_key = ?", (channel, chat_key)
    )
    was = next((bool(row["active"]) for row in rows), False)
    await db.execute(
        "INSERT INTO subscriptions (channel, chat_key, language, active, changed_at) "
        "VALUES (?, ?, ?, 1, ?) ON CONFLICT (channel, chat_key) DO UPDATE SET active = 1, "
        "kinds = CASE WHEN active = 1 THEN kinds END, "
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


async def subscribed_kinds(
    db: aiosqlite.Connection, channel: str, chat_key: str
) -> frozenset[Kind] | None:
    """The kinds this chat receives; None when it is not subscribed."""
    rows = await db.execute_fetchall(
        "SELECT kinds FROM subscriptions WHERE channel = ? AND chat_key = ? AND active = 1",
        (channel, chat_key),
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    if row["kinds"] is None:
        return frozenset(KINDS)
    return frozenset(kind for kind in KINDS if kind in row["kinds"].split(","))


async def set_kinds(
    db: aiosqlite.Connection,
    channel: str,
    chat_key: str,
    kinds: AbstractSet[Kind],
    now: dt.datetime,
) -> None:
    """Receive only `kinds` (all of them is stored as NULL, so kinds added later come too)."""
    chosen = None if set(KINDS) <= set(kinds) else ",".join(k for k in KINDS if k in kinds)
    await db.execute(
        "UPDATE subscriptions SET kinds = ?, changed_at = ? WHERE channel = ? AND chat_key = ?",
        (chosen, as_text(now), channel, chat_key),
    )


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
    announcement: Announcement,
    replies: dict[Lang, str],
    channels: AbstractSet[str],
    now: dt.datetime,
) -> int:
    """One outbox row per active subscriber on `channels` who wants the announcement's kind
    (see outbox.enqueue_for_subscribers); how many were added."""
    announcement_id = announcement.id
    added = await outbox.enqueue_for_subscribers(
        db, broadcast_prefix(announcement_id), replies, channels, now, announcement.kind
    )
    await db.execute(
        "UPDATE announcements SET broadcast_at = ? WHERE id = ?", (as_text(now), announcement_id)
    )
    return added


async def broadcast_pending(db: aiosqlite.Connection, announcement_id: int) -> bool:
    """Whether any row of the broadcast is still to be sent."""
    return await outbox.any_pending(db, broadcast_prefix(announcement_id))


async def latest_broadcast(db: aiosqlite.Connection) -> int | None:
    """The id of the announcement broadcast last, if any."""
    rows = await db.execute_fetchall(
        "SELECT id FROM announcements WHERE broadcast_at IS NOT NULL "
        "ORDER BY broadcast_at DESC, id DESC LIMIT 1"
    )
    return next((row["id"] for row in rows), None)


async def broadcast_progress(db: aiosqlite.Connection, announcement_id: int) -> dict[str, int]:
    """Rows of the broadcast by outcome, with "pending" for those not done yet."""
    return await outbox.progress(db, broadcast_prefix(announcement_id))


async def forget_old_announcements(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM subscriptions WHERE active = 0 AND changed_at < ?",
        (as_text(now - ENDED_SUBSCRIPTION_RETENTION),),
    )
    await db.execute(
        "DELETE FROM announcement_drafts WHERE updated_at < ?", (as_text(now - DRAFT_RETENTION),)
    )
    cutoff = now - ANNOUNCEMENT_RETENTION
    await db.execute(
        "DELETE FROM announcements WHERE ended_at < ? OR expires_on < ?",
        (as_text(cutoff), cutoff.date().isoformat()),
    )


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    """Their subscription and any draft (announcements staff published stay: they are the
    office's)."""
    await db.execute("DELETE FROM subscriptions WHERE channel = ? AND chat_key = ?", (channel, key))
    await delete_draft(db, channel, key)


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    mine = (channel, key)
    return {
        "subscriptions": await select_rows(
            db, "SELECT * FROM subscriptions WHERE channel = ? AND chat_key = ?", mine
        ),
        "announcement_drafts": await select_rows(
            db, "SELECT * FROM announcement_drafts WHERE channel = ? AND user_key = ?", mine
        ),
        "announcements": await select_rows(
            db, "SELECT * FROM announcements WHERE channel = ? AND user_key = ? ORDER BY id", mine
        ),
    }
