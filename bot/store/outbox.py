"""The outbox table: messages waiting to be sent, under a key naming their cause (see
bot/outbox.py for the worker). Broadcasts and hand-overs keep their rows here under their own
key prefixes; this module is the only one that reads or writes the table.

Each row has a priority class: URGENT (personal, time-critical: reminders, officer answers,
answers being re-sent) goes before BULK (broadcasts). Within a chat rows go strictly in the
order they were written, whatever their class: a row is due only when no earlier row for its
chat is pending.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Literal

import aiosqlite

from bot.core import Lang, Location, Option, Reply
from bot.store.db import as_text, select_rows

# A message (its text and who it went to) is kept this long after it was sent or given up on,
# and one never sent is not worth sending after this long either.
RETENTION = dt.timedelta(days=30)

Priority = Literal[0, 1]
URGENT: Priority = 0
BULK: Priority = 1
PRIORITY_NAMES = {URGENT: "urgent", BULK: "bulk"}
OUTCOMES = ("sent", "failed", "skipped", "expired", "unconfirmed")


def replies_to_json(replies: list[Reply]) -> str:
    return json.dumps(
        [
            {
                "text": reply.text,
                "options": [[option.id, option.label] for option in reply.options],
                "location": None if reply.location is None else vars(reply.location),
                "image": None if reply.image is None else base64.b64encode(reply.image).decode(),
            }
            for reply in replies
        ],
        ensure_ascii=False,
    )


def replies_from_json(text: str) -> list[Reply]:
    data: list[dict[str, Any]] = json.loads(text)
    return [
        Reply(
            item["text"],
            tuple(Option(option_id, label) for option_id, label in item["options"]),
            None if item["location"] is None else Location(**item["location"]),
            None if item.get("image") is None else base64.b64decode(item["image"]),
        )
        for item in data
    ]


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Keys starting with `prefix` (which ends in ":") are those in [prefix, prefix-with-";")."""
    return prefix, prefix[:-1] + ";"


async def enqueue(
    db: aiosqlite.Connection,
    key: str,
    channel: str,
    chat_key: str,
    replies: list[Reply],
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    priority: Priority = URGENT,
) -> bool:
    """Put a message in the outbox inside the caller's transaction; False if `key` was there.

    URGENT (the default) is for a message one person waits for; BULK for broadcasts. An urgent
    row lifts the chat's earlier pending rows to URGENT too: they must go before it, and must
    not hold it up behind a broadcast."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO outbox "
        "(key, channel, chat_key, replies, created_at, expires_at, priority) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            channel,
            chat_key,
            replies_to_json(replies),
            as_text(now),
            None if expires_at is None else as_text(expires_at),
            priority,
        ),
    )
    added = cursor.rowcount == 1
    if added and priority == URGENT:
        await db.execute(
            "UPDATE outbox SET priority = ? WHERE done_at IS NULL AND channel = ? "
            "AND chat_key = ? AND priority <> ?",
            (URGENT, channel, chat_key, URGENT),
        )
    return added


async def due(
    db: aiosqlite.Connection, channels: Iterable[str], now: dt.datetime, limit: int
) -> list[aiosqlite.Row]:
    """Rows to send now on `channels`: each the first pending row of its chat and not waiting
    out a backoff; urgent before bulk, then oldest first."""
    names = sorted(channels)
    marks = ", ".join("?" * len(names))
    rows = await db.execute_fetchall(
        "SELECT * FROM outbox AS o INDEXED BY outbox_due WHERE o.done_at IS NULL "
        f"AND o.channel IN ({marks}) AND (o.not_before IS NULL OR o.not_before <= ?) "
        "AND NOT EXISTS (SELECT 1 FROM outbox AS e INDEXED BY outbox_chat "
        "WHERE e.done_at IS NULL AND e.channel = o.channel AND e.chat_key = o.chat_key "
        "AND e.id < o.id) ORDER BY o.priority, o.id LIMIT ?",
        (*names, as_text(now), limit),
    )
    return list(rows)


async def next_retry(
    db: aiosqlite.Connection, channels: Iterable[str], now: dt.datetime
) -> dt.datetime | None:
    """When the next pending row on `channels` ends its backoff, if any is waiting one."""
    names = sorted(channels)
    marks = ", ".join("?" * len(names))
    rows = await db.execute_fetchall(
        f"SELECT MIN(not_before) FROM outbox WHERE done_at IS NULL AND channel IN ({marks}) "
        "AND not_before > ?",
        (*names, as_text(now)),
    )
    first = next(iter(rows))[0]
    return None if first is None else dt.datetime.fromisoformat(first)


async def record_attempt(
    db: aiosqlite.Connection,
    row_id: int,
    attempts: int,
    error: str | None,
    done_at: dt.datetime | None,
    outcome: str | None,
    not_before: dt.datetime | None,
) -> None:
    await db.execute(
        "UPDATE outbox SET attempts = ?, last_error = ?, done_at = ?, outcome = ?, "
        "not_before = ? WHERE id = ?",
        (
            attempts,
            error,
            None if done_at is None else as_text(done_at),
            outcome,
            None if not_before is None else as_text(not_before),
            row_id,
        ),
    )


async def enqueue_for_subscribers(
    db: aiosqlite.Connection,
    prefix: str,
    replies: Mapping[Lang, str],
    channels: AbstractSet[str],
    now: dt.datetime,
    kind: str,
) -> int:
    """One row per active subscriber on `channels` who wants `kind` (their `kinds`, NULL for
    every kind), keyed `prefix<channel>:<chat>`, in one statement (no subscriber list is held
    in memory), BULK, in the language the person chose last (/bahasa) or subscribed in;
    `replies` is the outbox JSON per language. How many rows."""
    marks = ", ".join("?" * len(channels))
    cursor = await db.execute(
        "INSERT OR IGNORE INTO outbox (key, channel, chat_key, replies, created_at, priority) "
        "SELECT ? || s.channel || ':' || s.chat_key, s.channel, s.chat_key, "
        "CASE coalesce(u.language, s.language) WHEN 'en' THEN ? ELSE ? END, ?, ? "
        "FROM subscriptions s LEFT JOIN users u "
        "ON u.channel = s.channel AND u.user_key = s.chat_key "
        f"WHERE s.active = 1 AND s.channel IN ({marks}) "
        "AND (s.kinds IS NULL OR instr(',' || s.kinds || ',', ',' || ? || ',') > 0) "
        "ORDER BY s.changed_at",
        (prefix, replies["en"], replies["id"], as_text(now), BULK, *sorted(channels), kind),
    )
    return max(cursor.rowcount, 0)


async def any_pending(db: aiosqlite.Connection, prefix: str) -> bool:
    """Whether any row under `prefix` is still to be sent. Read through the index of pending
    rows: the worker goes in id order, so the first pending row is usually this prefix's next
    one; counting by key would read every row already done, once per row (quadratic)."""
    rows = await db.execute_fetchall(
        "SELECT 1 FROM outbox INDEXED BY outbox_pending WHERE done_at IS NULL "
        "AND key >= ? AND key < ? LIMIT 1",
        _prefix_range(prefix),
    )
    return bool(rows)


async def progress(db: aiosqlite.Connection, prefix: str) -> dict[str, int]:
    """Rows under `prefix` by outcome, with "pending" for those not done yet."""
    rows = await db.execute_fetchall(
        "SELECT coalesce(outcome, 'pending') AS outcome, COUNT(*) AS n FROM outbox "
        "WHERE key >= ? AND key < ? GROUP BY 1",
        _prefix_range(prefix),
    )
    counts = dict.fromkeys((*OUTCOMES, "pending"), 0)
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + row["n"]
    return counts


async def count(db: aiosqlite.Connection, prefix: str) -> int:
    """How many rows, sent or not, are under `prefix`."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM outbox WHERE key >= ? AND key < ?", _prefix_range(prefix)
    )
    return int(next(iter(rows))[0])


async def delete_unsent(db: aiosqlite.Connection, prefix: str) -> None:
    await db.execute(
        "DELETE FROM outbox WHERE done_at IS NULL AND key >= ? AND key < ?", _prefix_range(prefix)
    )


async def delete_created_before(db: aiosqlite.Connection, prefix: str, cutoff: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM outbox WHERE key >= ? AND key < ? AND created_at < ?",
        (*_prefix_range(prefix), as_text(cutoff)),
    )


async def pending_by_class(db: aiosqlite.Connection) -> dict[tuple[str, str], int]:
    """Messages not sent yet by priority class (urgent, bulk) and family, the key's first part
    (queue-alert, ann, handover, …)."""
    rows = await db.execute_fetchall(
        "SELECT priority, substr(key, 1, instr(key || ':', ':') - 1) AS family, COUNT(*) AS n "
        "FROM outbox INDEXED BY outbox_pending WHERE done_at IS NULL GROUP BY 1, 2"
    )
    return {(PRIORITY_NAMES[row["priority"]], row["family"]): row["n"] for row in rows}


async def forget_old_messages(
    db: aiosqlite.Connection, now: dt.datetime, except_prefix: str
) -> None:
    """Rows past RETENTION, except those under `except_prefix`, whose family keeps them for
    its own retention (hand-overs: their answers are counted from these rows)."""
    cutoff = as_text(now - RETENTION)
    await db.execute(
        "DELETE FROM outbox WHERE (done_at < ? OR (done_at IS NULL AND created_at < ?)) "
        "AND NOT (key >= ? AND key < ?)",
        (cutoff, cutoff, *_prefix_range(except_prefix)),
    )


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    """Messages to the person, sent or waiting."""
    await db.execute("DELETE FROM outbox WHERE channel = ? AND chat_key = ?", (channel, key))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM outbox WHERE channel = ? AND chat_key = ? ORDER BY id"
    return {"outbox": await select_rows(db, sql, (channel, key))}


async def delete_prefixed(db: aiosqlite.Connection, key: str) -> None:
    """The row with exactly `key` and those under `key:`, sent or not."""
    await db.execute(
        "DELETE FROM outbox WHERE key = ? OR (key >= ? AND key < ?)",
        (key, *_prefix_range(f"{key}:")),
    )
