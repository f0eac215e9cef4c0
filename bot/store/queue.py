"""Queue tables: day state, calls, staff, reminders and the audit trail.

Functions take the connection: writes run inside the caller's `store.transaction()`, so a
change, its call row, its audit row and its reminders commit together; reads use `store.db`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.core import Lang
from bot.queue.state import Call, QueueState, Status
from bot.store.db import as_text, from_text

RECENT_CALLS = 11  # enough for the estimate's last ten intervals


@dataclass(frozen=True)
class Alert:
    """One "remind me" request that is due."""

    id: int
    service: str
    number: int
    channel: str
    chat_key: str
    lang: Lang


def _state(row: aiosqlite.Row) -> QueueState:
    status: Status = row["status"]
    return QueueState(row["service"], status, row["reason"], row["now_serving"], row["last_issued"])


async def day_states(db: aiosqlite.Connection, day: dt.date) -> dict[str, QueueState]:
    """Every service touched on `day`, by letter."""
    async with db.execute("SELECT * FROM queue_days WHERE day = ?", (day.isoformat(),)) as cursor:
        return {row["service"]: _state(row) for row in await cursor.fetchall()}


async def day_state(db: aiosqlite.Connection, day: dt.date, service: str) -> QueueState | None:
    """One service's state on `day`; None when nobody touched it yet."""
    rows = await db.execute_fetchall(
        "SELECT * FROM queue_days WHERE day = ? AND service = ?", (day.isoformat(), service)
    )
    return next((_state(row) for row in rows), None)


async def save_state(
    db: aiosqlite.Connection, day: dt.date, state: QueueState, now: dt.datetime
) -> None:
    await db.execute(
        "INSERT INTO queue_days (day, service, status, reason, now_serving, last_issued, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, service) DO UPDATE SET "
        "status = excluded.status, reason = excluded.reason, now_serving = excluded.now_serving, "
        "last_issued = excluded.last_issued, updated_at = excluded.updated_at",
        (
            day.isoformat(),
            state.service,
            state.status,
            state.reason,
            state.now_serving,
            state.last_issued,
            as_text(now),
        ),
    )


async def add_call(db: aiosqlite.Connection, day: dt.date, service: str, call: Call) -> None:
    await db.execute(
        "INSERT INTO queue_calls (day, service, number, kind, at) VALUES (?, ?, ?, ?, ?)",
        (day.isoformat(), service, call.number, call.kind, as_text(call.at)),
    )


async def recent_calls(
    db: aiosqlite.Connection, day: dt.date, services: Sequence[str]
) -> dict[str, list[Call]]:
    """The last calls of each service on `day`, oldest first.

    One indexed LIMIT query per service, joined with UNION ALL: constant time however long the
    day's history grows (a window function over the whole day was four times slower).
    """
    if not services:
        return {}
    one = (
        "SELECT * FROM (SELECT id, service, number, kind, at FROM queue_calls "
        "WHERE day = ? AND service = ? ORDER BY id DESC LIMIT ?)"
    )
    params: list[object] = []
    for service in services:
        params += [day.isoformat(), service, RECENT_CALLS]
    rows = await db.execute_fetchall(" UNION ALL ".join([one] * len(services)), params)
    calls: dict[str, list[Call]] = {}
    for row in sorted(rows, key=lambda row: row["id"]):
        calls.setdefault(row["service"], []).append(
            Call(row["number"], row["kind"], from_text(row["at"]))
        )
    return calls


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


async def is_staff(db: aiosqlite.Connection, channel: str, user_key: str) -> bool:
    rows = await db.execute_fetchall(
        "SELECT 1 FROM staff WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    return bool(rows)


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


async def add_alert(
    db: aiosqlite.Connection,
    day: dt.date,
    service: str,
    number: int,
    channel: str,
    chat_key: str,
    lang: Lang,
    now: dt.datetime,
) -> None:
    """Ask to be reminded; asking again for the same ticket changes nothing."""
    await db.execute(
        "INSERT OR IGNORE INTO queue_alerts (day, service, number, channel, chat_key, language, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (day.isoformat(), service, number, channel, chat_key, lang, as_text(now)),
    )


async def cancel_alerts(db: aiosqlite.Connection, day: dt.date, channel: str, chat_key: str) -> int:
    """Forget this chat's reminders that have not gone out today; how many there were."""
    cursor = await db.execute(
        "DELETE FROM queue_alerts WHERE day = ? AND channel = ? AND chat_key = ? "
        "AND triggered_at IS NULL",
        (day.isoformat(), channel, chat_key),
    )
    return cursor.rowcount


async def take_due_alerts(
    db: aiosqlite.Connection, day: dt.date, service: str, up_to: int, now: dt.datetime
) -> list[Alert]:
    """Mark and return the reminders for numbers up to `up_to` that have not gone out."""
    rows = await db.execute_fetchall(
        "SELECT * FROM queue_alerts WHERE day = ? AND service = ? AND number <= ? "
        "AND triggered_at IS NULL ORDER BY id",
        (day.isoformat(), service, up_to),
    )
    alerts = [_alert(r) for r in rows]
    if alerts:
        await db.executemany(
            "UPDATE queue_alerts SET triggered_at = ? WHERE id = ?",
            [(as_text(now), alert.id) for alert in alerts],
        )
    return alerts


async def alerts_between(
    db: aiosqlite.Connection, day: dt.date, service: str, low: int, high: int
) -> list[Alert]:
    """The reminders asked for numbers from `low` up to (not including) `high` on `day`."""
    rows = await db.execute_fetchall(
        "SELECT * FROM queue_alerts WHERE day = ? AND service = ? AND number >= ? AND number < ? "
        "ORDER BY id",
        (day.isoformat(), service, low, high),
    )
    return [_alert(r) for r in rows]


def _alert(row: aiosqlite.Row) -> Alert:
    return Alert(
        row["id"], row["service"], row["number"], row["channel"], row["chat_key"], row["language"]
    )
