"""The audit trail: who did what with staff powers (or tried to), and how it ended."""

from __future__ import annotations

import datetime as dt

import aiosqlite

from bot.store.db import as_text


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
        (as_text(now), channel, user_key, action, outcome),
    )
