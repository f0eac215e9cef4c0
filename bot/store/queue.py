"""Queue tables: day state, calls and reminders.

Functions take the connection: writes run inside the caller's `store.transaction()`, so a
change, its call row, its audit row (audit.py) and its reminders commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.core import Lang
from bot.queue.state import Call, QueueState, Status
from bot.store.db import as_text, from_text, select_rows

RECENT_CALLS = 11  # enough for the estimate's last ten intervals
ALERT_RETENTION = dt.timedelta(days=7)  # a reminder counts on its own day only


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


async def calls_between(
    db: aiosqlite.Connection, first: dt.date, last: dt.date
) -> list[tuple[str, dt.date, dt.datetime]]:
    """Every call (not correction) from `first` to `last`: service, day, moment, in order."""
    rows = await db.execute_fetchall(
        "SELECT day, service, at FROM queue_calls WHERE kind = 'call' AND day BETWEEN ? AND ? "
        "ORDER BY service, day, id",
        (first.isoformat(), last.isoformat()),
    )
    return [
        (row["service"], dt.date.fromisoformat(row["day"]), from_text(row["at"])) for row in rows
    ]


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


async def forget_old_alerts(db: aiosqlite.Connection, now: dt.datetime) -> None:
    await db.execute(
        "DELETE FROM queue_alerts WHERE created_at < ?", (as_text(now - ALERT_RETENTION),)
    )


async def erase_person(db: aiosqlite.Connection, channel: str, key: str) -> None:
    await db.execute("DELETE FROM queue_alerts WHERE channel = ? AND chat_key = ?", (channel, key))


async def export_person(
    db: aiosqlite.Connection, channel: str, key: str
) -> dict[str, list[dict[str, object]]]:
    sql = "SELECT * FROM queue_alerts WHERE channel = ? AND chat_key = ? ORDER BY id"
    return {"queue_alerts": await select_rows(db, sql, (channel, key))}
