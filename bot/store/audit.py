"""The audit trail: who did what with staff powers (or tried to), and how it ended."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.store.db import as_text, select_rows

# Long enough to answer for what was done with staff powers, not forever. /hapusdata leaves
# these rows: they are the office's account of who did what.
RETENTION = dt.timedelta(days=365)

MAX_ACTION_CHARS = 120  # "/set A 25" or an API body fits; a long refused argument is cut


async def add_audit(
    db: aiosqlite.Connection,
    now: dt.datetime,
    channel: str,
    user_key: str,
    action: str,
    outcome: str,
) -> None:
    await db.execute(
        "INSERT INTO audit (at, channel, user_key, action, outcome) VALUES (?, ?, ?, ?, ?)",
        # Capped: anyone can make a refused attempt, and it should not grow the table at will.
        (as_text(now), channel, user_key, action[:MAX_ACTION_CHARS], outcome),
    )


async def forget_old_audit(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute("DELETE FROM audit WHERE at < ?", (as_text(now - RETENTION),))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM audit WHERE channel = ? AND user_key = ? ORDER BY id"
    return {"audit": await select_rows(db, sql, (channel, key))}
