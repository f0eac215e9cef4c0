"""Hand-overs to an officer: a reference, where the answer goes, and two dates. The question
itself travels to the staff group in the outbox and is not kept here; rows (and those outbox
messages) are deleted after 90 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import aiosqlite

from bot.core import Lang
from bot.store import outbox
from bot.store.db import as_text, select_rows

RETENTION = dt.timedelta(days=90)
WAIT_FOR_QUESTION = dt.timedelta(hours=1)  # after that, free text is a question to the bot again
OUTBOX_KEY = "handover"  # handover:<id> (to the staff group), handover:<id>:<n> (answers)


@dataclass(frozen=True)
class Handover:
    id: int
    channel: str
    chat_key: str
    lang: Lang

    @property
    def reference(self) -> str:
        return f"#H-{self.id:04d}"


def _handover(row: aiosqlite.Row) -> Handover:
    lang: Lang = "en" if row["language"] == "en" else "id"
    return Handover(row["id"], row["channel"], row["chat_key"], lang)


async def open_handover(
    db: aiosqlite.Connection,
    channel: str,
    chat_key: str,
    lang: Lang,
    waiting: bool,
    now: dt.datetime,
) -> Handover:
    """A new hand-over; `waiting` when the bot still has to ask for the question. Old ones and
    their messages are forgotten here too (and hourly by `ukkbot run`, see retention.py)."""
    await forget_old_handovers(db, now)
    await db.execute(
        "UPDATE handovers SET waiting = 0 WHERE channel = ? AND chat_key = ?", (channel, chat_key)
    )
    cursor = await db.execute(
        "INSERT INTO handovers (channel, chat_key, language, waiting, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (channel, chat_key, lang, int(waiting), as_text(now)),
    )
    assert cursor.lastrowid is not None
    return Handover(cursor.lastrowid, channel, chat_key, lang)


async def forget_old_handovers(db: aiosqlite.Connection, now: dt.datetime) -> None:
    """Delete hand-overs older than the retention and the messages they sent."""
    cutoff = now - RETENTION
    await db.execute("DELETE FROM handovers WHERE created_at < ?", (as_text(cutoff),))
    await outbox.delete_created_before(db, f"{OUTBOX_KEY}:", cutoff)


async def waiting_handover(
    db: aiosqlite.Connection, channel: str, chat_key: str, now: dt.datetime
) -> Handover | None:
    """The hand-over waiting for this chat's question, if asked for within the last hour."""
    rows = await db.execute_fetchall(
        "SELECT * FROM handovers WHERE channel = ? AND chat_key = ? AND waiting = 1 "
        "AND created_at >= ? ORDER BY id DESC LIMIT 1",
        (channel, chat_key, as_text(now - WAIT_FOR_QUESTION)),
    )
    return next((_handover(row) for row in rows), None)


async def stop_waiting(db: aiosqlite.Connection, handover_id: int) -> None:
    await db.execute("UPDATE handovers SET waiting = 0 WHERE id = ?", (handover_id,))


async def get_handover(db: aiosqlite.Connection, handover_id: int) -> Handover | None:
    rows = await db.execute_fetchall("SELECT * FROM handovers WHERE id = ?", (handover_id,))
    return next((_handover(row) for row in rows), None)


async def mark_answered(db: aiosqlite.Connection, handover_id: int, now: dt.datetime) -> int:
    """Note an answer; how many answers the hand-over has had (this one included)."""
    await db.execute(
        "UPDATE handovers SET answered_at = ? WHERE id = ?", (as_text(now), handover_id)
    )
    return await outbox.count(db, f"{OUTBOX_KEY}:{handover_id}:") + 1


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    """The person's hand-overs and every message they caused (to the staff group too)."""
    rows = await db.execute_fetchall(
        "SELECT id FROM handovers WHERE channel = ? AND chat_key = ?", (channel, key)
    )
    for row in rows:
        await outbox.delete_prefixed(db, f"{OUTBOX_KEY}:{row['id']}")
    await db.execute("DELETE FROM handovers WHERE channel = ? AND chat_key = ?", (channel, key))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM handovers WHERE channel = ? AND chat_key = ? ORDER BY id"
    return {"handovers": await select_rows(db, sql, (channel, key))}
