"""WhatsApp's own bookkeeping: message ids already handled (Meta redelivers) and each person's
24-hour window."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.store.db import as_text, select_rows

# Meta retries a webhook delivery for up to 7 days; ids are kept well beyond that.
ID_RETENTION = dt.timedelta(days=30)
# The window is 24 hours; after a week the moment someone last wrote tells nothing more.
WINDOW_RETENTION = dt.timedelta(days=7)
CHANNEL = "whatsapp"


async def claim_message(db: aiosqlite.Connection, wamid: str, now: dt.datetime) -> bool:
    """Record a WhatsApp message id; False when it was recorded before (a redelivery)."""
    await forget_old_ids(db, now)
    cursor = await db.execute(
        "INSERT OR IGNORE INTO whatsapp_messages (wamid, received) VALUES (?, ?)",
        (wamid, as_text(now)),
    )
    return cursor.rowcount == 1


async def forget_old_ids(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM whatsapp_messages WHERE received < ?", (as_text(now - ID_RETENTION),)
    )


async def record_inbound(db: aiosqlite.Connection, user_key: str, at: dt.datetime) -> None:
    """A WhatsApp user wrote at `at`: their 24-hour window is open from then."""
    await db.execute(
        "INSERT INTO whatsapp_windows (user_key, last_inbound) VALUES (?, ?) "
        "ON CONFLICT (user_key) DO UPDATE "
        "SET last_inbound = max(last_inbound, excluded.last_inbound)",
        (user_key, as_text(at)),
    )


async def close_window(db: aiosqlite.Connection, user_key: str, now: dt.datetime) -> None:
    """WhatsApp refused a free-form message (131047): treat the window as closed."""
    await db.execute(
        "UPDATE whatsapp_windows SET closed_at = ? WHERE user_key = ?", (as_text(now), user_key)
    )


async def last_inbound(db: aiosqlite.Connection, user_key: str) -> dt.datetime | None:
    """When the user last wrote, or None when unknown or WhatsApp said the window closed."""
    async with db.execute(
        "SELECT last_inbound, closed_at FROM whatsapp_windows WHERE user_key = ?", (user_key,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or (row["closed_at"] is not None and row["closed_at"] >= row["last_inbound"]):
        return None
    return dt.datetime.fromisoformat(row["last_inbound"])


async def forget_old_windows(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM whatsapp_windows WHERE last_inbound < ?", (as_text(now - WINDOW_RETENTION),)
    )


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    if channel == CHANNEL:
        await db.execute("DELETE FROM whatsapp_windows WHERE user_key = ?", (key,))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM whatsapp_windows WHERE user_key = ?"
    return {"whatsapp_windows": await select_rows(db, sql, (key,)) if channel == CHANNEL else []}
