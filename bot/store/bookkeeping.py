"""Bookkeeping written behind: last seen, topic views and votes, questions per day and the
questions the bot could not answer, gathered in memory and written together every few seconds.

Answering someone needs no write of its own, so a full disk or a database locked by another
process costs some counts, never an answer; and 200 people chatting at once share one commit
every FLUSH_SECONDS instead of taking turns for one each. A person is touched at most once a
minute. A batch that cannot be written is logged and dropped (counts are statistics, not
promises); what is still in memory when the process dies is lost the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from typing import TYPE_CHECKING

from bot.store import questions, stats, users

if TYPE_CHECKING:
    from bot.store.db import Store

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
TOUCH_EVERY = dt.timedelta(minutes=1)


class Bookkeeping:
    """Counts and last-seen times waiting to be written; `flush()` writes them in one
    transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._written: dict[tuple[str, str], dt.datetime] = {}  # person → last touch written
        self._touches: dict[tuple[str, str], dt.datetime] = {}
        self._topics: Counter[tuple[dt.date, str, stats.Column]] = Counter()
        self._days: Counter[dt.date] = Counter()
        self._asked: Counter[tuple[str, str]] = Counter()
        self._asked_at: dict[tuple[str, str], dt.datetime] = {}

    def touch(self, channel: str, user_key: str, now: dt.datetime) -> None:
        """Someone used the bot (first and last seen), at most once a minute each."""
        person = (channel, user_key)
        last = self._written.get(person)
        if last is None or now - last >= TOUCH_EVERY:
            self._written[person] = now
            self._touches[person] = now

    def forget_person(self, channel: str, user_key: str) -> None:
        """Drop the person's pending last-seen time before /hapusdata erases them: written
        after the erase it would bring their users row back. A batch already taken by a flush
        holds the write lock first, so the erase that follows removes what it wrote."""
        person = (channel, user_key)
        self._touches.pop(person, None)
        self._written.pop(person, None)

    def count_view(self, day: dt.date, topic: str) -> None:
        self._topics[day, topic, "views"] += 1

    def count_vote(self, day: dt.date, topic: str, vote: stats.Vote) -> None:
        self._topics[day, topic, vote] += 1

    def count_question(self, day: dt.date) -> None:
        self._days[day] += 1

    def record_question(self, normalised: str, route: str, now: dt.datetime) -> None:
        """A question the bot declined or clarified (its normalised text, no one's id)."""
        self._asked[normalised, route] += 1
        self._asked_at[normalised, route] = now

    async def flush(self) -> None:
        """Write what was gathered in one transaction; on failure log it and drop it."""
        touches, topics, days = self._touches, self._topics, self._days
        asked, asked_at = self._asked, self._asked_at
        if not (touches or topics or days or asked):
            return
        self._touches, self._topics, self._days = {}, Counter(), Counter()
        self._asked, self._asked_at = Counter(), {}
        now = self.store.clock()
        # Forget who was touched over a minute ago: the map stays as small as a minute's users.
        self._written = {p: at for p, at in self._written.items() if now - at < TOUCH_EVERY}
        try:
            async with self.store.transaction() as db:
                await users.touch_users(db, [(*person, at) for person, at in touches.items()])
                for (day, topic, column), n in topics.items():
                    await stats.add_topic_count(db, day, topic, column, n)
                for day, n in days.items():
                    await stats.count_question(db, day, n)
                if asked:
                    await questions.forget_old_questions(db, now)
                await questions.add_questions(
                    db, [(*key, asked_at[key], n) for key, n in asked.items()]
                )
        except Exception as exc:
            written = len(touches) + sum(topics.values()) + sum(days.values()) + sum(asked.values())
            log.warning("bookkeeping: %d writes skipped (%s)", written, type(exc).__name__)

    async def run(self) -> None:
        """Flush every FLUSH_SECONDS until cancelled."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()
