"""Anonymous counts for the staff statistics: topic views and 👍 / 👎 per local day, questions
typed per day, and the week's figures read back (with the queue's calls).
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from bot.store import queue

Vote = Literal["up", "down"]
Column = Literal["views", "up", "down"]
TOP = 5


@dataclass(frozen=True)
class TopicCount:
    topic: str
    views: int
    up: int
    down: int


@dataclass(frozen=True)
class ServiceWeek:
    service: str
    calls: dict[dt.date, int]
    median_minutes: float | None  # between consecutive calls on the same day


@dataclass(frozen=True)
class Week:
    """Seven local days ending today."""

    days: list[dt.date]
    questions: dict[dt.date, int]
    topics: list[TopicCount]  # most viewed first
    disliked: list[TopicCount]  # most 👎 first
    services: list[ServiceWeek]


async def add_topic_count(
    db: aiosqlite.Connection, day: dt.date, topic: str, column: Column, n: int = 1
) -> None:
    """`n` more views, 👍 or 👎 (`column`) for a topic on a local day."""
    assert column in ("views", "up", "down")  # a column name, never text from outside
    await db.execute(
        f"INSERT INTO topic_stats (day, topic, {column}) VALUES (?, ?, ?) "
        f"ON CONFLICT (day, topic) DO UPDATE SET {column} = {column} + excluded.{column}",
        (day.isoformat(), topic, n),
    )


async def count_question(db: aiosqlite.Connection, day: dt.date, n: int = 1) -> None:
    await db.execute(
        "INSERT INTO question_days (day, count) VALUES (?, ?) "
        "ON CONFLICT (day) DO UPDATE SET count = count + excluded.count",
        (day.isoformat(), n),
    )


async def week(db: aiosqlite.Connection, today: dt.date) -> Week:
    days = [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
    first, last = days[0].isoformat(), today.isoformat()
    rows = await db.execute_fetchall(
        "SELECT day, count FROM question_days WHERE day BETWEEN ? AND ?", (first, last)
    )
    questions = {dt.date.fromisoformat(row["day"]): row["count"] for row in rows}
    rows = await db.execute_fetchall(
        "SELECT topic, SUM(views) AS views, SUM(up) AS up, SUM(down) AS down FROM topic_stats "
        "WHERE day BETWEEN ? AND ? GROUP BY topic",
        (first, last),
    )
    counts = [TopicCount(row["topic"], row["views"], row["up"], row["down"]) for row in rows]
    topics = sorted((c for c in counts if c.views), key=lambda c: (-c.views, c.topic))[:TOP]
    disliked = sorted((c for c in counts if c.down), key=lambda c: (-c.down, c.topic))[:TOP]
    by_service: dict[str, dict[dt.date, list[dt.datetime]]] = {}
    for service, day, moment in await queue.calls_between(db, days[0], today):
        by_service.setdefault(service, {}).setdefault(day, []).append(moment)
    services = []
    for service, calls in sorted(by_service.items()):
        gaps = [
            (later - earlier).total_seconds() / 60
            for moments in calls.values()
            for earlier, later in itertools.pairwise(moments)
        ]
        median = statistics.median(gaps) if gaps else None
        services.append(ServiceWeek(service, {d: len(m) for d, m in calls.items()}, median))
    return Week(days, questions, topics, disliked, services)
