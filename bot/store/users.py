"""The people who used the bot (first and last seen, their /bahasa choice) and the staff list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import aiosqlite

from bot.core import Lang
from bot.store.db import as_text, insert_rows, select_rows

# Someone silent this long is forgotten (their /bahasa choice too). A web-chat session is a
# browser's random id that is rarely seen again, so it goes sooner.
RETENTION = dt.timedelta(days=365)
WEB_RETENTION = dt.timedelta(days=30)
WEB = "web"


async def touch_users(
    db: aiosqlite.Connection, seen: Iterable[tuple[str, str, dt.datetime]]
) -> None:
    """Record (channel, user key, when) for many people in one statement: one round trip to
    the database thread, not one each (a batch of hundreds stalled the answers in flight)."""
    await insert_rows(
        db,
        "INSERT INTO users (channel, user_key, first_seen, last_seen)",
        [(channel, user_key, as_text(at), as_text(at)) for channel, user_key, at in seen],
        "ON CONFLICT (channel, user_key) DO UPDATE SET last_seen = excluded.last_seen",
    )


def as_lang(stored: str | None) -> Lang | None:
    """A stored language column as a language (None: never chose)."""
    if stored not in ("id", "en"):
        return None
    return "en" if stored == "en" else "id"


async def get_language(db: aiosqlite.Connection, channel: str, user_key: str) -> Lang | None:
    """The language the person chose with /bahasa; None when they never chose."""
    rows = await db.execute_fetchall(
        "SELECT language FROM users WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    row = next(iter(rows), None)
    return None if row is None else as_lang(row["language"])


async def set_language(
    db: aiosqlite.Connection, channel: str, user_key: str, language: Lang, now: dt.datetime
) -> None:
    stamp = as_text(now)
    await db.execute(
        "INSERT INTO users (channel, user_key, language, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, user_key) "
        "DO UPDATE SET language = excluded.language, last_seen = excluded.last_seen",
        (channel, user_key, language, stamp, stamp),
    )


async def list_staff(db: aiosqlite.Connection, channel: str) -> list[str]:
    """The user keys of the staff on a channel, in the order they were added."""
    rows = await db.execute_fetchall(
        "SELECT user_key FROM staff WHERE channel = ? ORDER BY added_at, user_key", (channel,)
    )
    return [row["user_key"] for row in rows]


async def add_staff(
    db: aiosqlite.Connection, channel: str, user_key: str, added_by: str, now: dt.datetime
) -> bool:
    """Make someone staff; False when they already were."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO staff (channel, user_key, added_by, added_at) VALUES (?, ?, ?, ?)",
        (channel, user_key, added_by, as_text(now)),
    )
    return cursor.rowcount == 1


async def remove_staff(db: aiosqlite.Connection, channel: str, user_key: str) -> bool:
    """Remove someone from staff; False when they were not staff."""
    cursor = await db.execute(
        "DELETE FROM staff WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    return cursor.rowcount == 1


async def forget_old_users(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM users WHERE last_seen < ? OR (channel = ? AND last_seen < ?)",
        (as_text(now - RETENTION), WEB, as_text(now - WEB_RETENTION)),
    )


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    """Forget the person and their language (staff stay staff: that is the office's record)."""
    await db.execute("DELETE FROM users WHERE channel = ? AND user_key = ?", (channel, key))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    where = "WHERE channel = ? AND user_key = ?"
    return {
        "users": await select_rows(db, f"SELECT * FROM users {where}", (channel, key)),
        "staff": await select_rows(db, f"SELECT * FROM staff {where}", (channel, key)),
    }
