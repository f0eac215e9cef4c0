"""The normalised text of questions the bot declined or clarified, counted, for 90 days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.store.db import as_text, insert_rows

RETENTION = dt.timedelta(days=90)


@dataclass(frozen=True)
class AskedQuestion:
    normalised: str
    route: str
    count: int
    last_seen: str


async def add_questions(
    db: aiosqlite.Connection, counted: Iterable[tuple[str, str, dt.datetime, int]]
) -> None:
    """Count many (question, route, last seen, times) in one statement."""
    await insert_rows(
        db,
        "INSERT INTO questions (normalised, route, first_seen, last_seen, count)",
        [(q[:300], route, as_text(at), as_text(at), n) for q, route, at, n in counted],
        "ON CONFLICT (normalised, route) DO UPDATE "
        "SET count = count + excluded.count, last_seen = excluded.last_seen",
    )


async def forget_old_questions(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute("DELETE FROM questions WHERE last_seen < ?", (as_text(now - RETENTION),))


async def top_questions(
    db: aiosqlite.Connection, now: dt.datetime, limit: int = 20
) -> list[AskedQuestion]:
    """The most frequent unanswered or clarified questions still kept."""
    async with db.execute(
        "SELECT normalised, route, count, last_seen FROM questions WHERE last_seen >= ? "
        "ORDER BY count DESC, last_seen DESC LIMIT ?",
        (as_text(now - RETENTION), limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [AskedQuestion(r["normalised"], r["route"], r["count"], r["last_seen"]) for r in rows]
