"""The outbox: proactive messages (queue reminders, broadcasts) that survive a restart.

A message is written with `bot.store.outbox.enqueue` in the same transaction as the change
that causes it, under a key naming that cause, so it cannot be written twice. `OutboxWorker`
sends pending rows through each channel's `Sender` and marks a row sent only after its send
succeeded: a restart between the change and the send still sends it, once. A failed send
waits (backoff) before it is tried again; a `RateLimiter` per channel keeps broadcasts within
the platform's sending rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from bot.core import Reply
from bot.store import Store
from bot.store import outbox as table
from bot.store.db import Connection, Row, from_text
from bot.store.outbox import replies_from_json

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 100
POLL_SECONDS = 30.0  # how often failed sends are retried when nothing wakes the worker
FIRST_BACKOFF = dt.timedelta(seconds=2)  # before the first retry; doubles with each attempt
MAX_BACKOFF = dt.timedelta(minutes=10)
MAX_IN_FLIGHT = 16  # chats sent to at once: enough for 25/s at a few hundred ms per call
PER_CHAT_SECONDS = 1.0  # Telegram: about one message a second to the same chat
# How far sending may fall behind its schedule and still catch up (a sleep overran, a send
# took long); further behind is an idle spell, after which the schedule starts afresh.
MAX_LAG_SECONDS = 0.1


class Undeliverable(Exception):
    """A channel can never deliver this message (WhatsApp outside its 24-hour window with no
    approved template): the row is recorded as skipped and not retried."""


class Blocked(Exception):
    """The person blocked the bot (Telegram 403 Forbidden): the row fails at once, is never
    retried, and the done hook stops what was sending to them (their subscription)."""


Sleep = Callable[[float], Awaitable[None]]
# Called in the transaction that marks a row done, with the row and its outcome.
DoneHook = Callable[[Connection, Row, str, str | None], Awaitable[None]]


class RateLimiter:
    """At most `rate` sends a second on a channel, and one per `per_chat` seconds to a chat.

    Sends are spaced on a schedule, not after each other: a sleep that overran is made up by
    the next sends (within MAX_LAG_SECONDS), so n messages take n / rate seconds. Clock and
    sleep are injected.
    """

    def __init__(
        self,
        rate: float,
        per_chat: float = PER_CHAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        # Chat → earliest next send, in increasing order: expired ones are dropped from the
        # front, so the map holds at most rate × per_chat chats however many are sent to.
        self._chats: dict[str, float] = {}

    async def wait(self, chat_key: str) -> None:
        """Return when a message to `chat_key` may go out."""
        now = self._clock()
        while self._chats and next(iter(self._chats.values())) <= now:
            del self._chats[next(iter(self._chats))]
        # Slightly behind schedule: catch up. After an idle spell: start afresh now, no burst.
        at = self._next if now - self._next <= MAX_LAG_SECONDS else now
        at = max(at, self._chats.pop(chat_key, 0.0))
        # The slot is taken before sleeping, so senders waiting at once get successive slots.
        self._next = at + self.interval
        self._chats[chat_key] = at + self.per_chat
        if at > now:
            await self._sleep(at - now)


class Sender(Protocol):
    """What a channel offers the outbox: send replies to a chat it knows by key."""

    async def send(self, chat_key: str, replies: list[Reply], /) -> None: ...


class OutboxWorker:
    """Drains the outbox through the channels' senders; one per process."""

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        wake: asyncio.Event | None = None,
        limiters: Mapping[str, RateLimiter] | None = None,
        on_done: DoneHook | None = None,
        in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.store = store
        self.senders = senders
        self.wake = wake or asyncio.Event()
        self.limiters = limiters or {}
        self.on_done = on_done
        self.in_flight = in_flight
        self._lock = asyncio.Lock()
        self._marking: set[asyncio.Future[None]] = set()

    async def drain(self) -> int:
        """Send every pending message a sender exists for; how many were sent."""
        sent = 0
        async with self._lock:
            after = 0
            while rows := await self._pending(after):
                sent += await self._deliver_batch(rows)
                after = rows[-1]["id"]
        return sent

    async def _deliver_batch(self, rows: list[Row]) -> int:
        """Send a batch with up to `in_flight` chats at once (a platform call takes tens of
        milliseconds: one at a time would stay below the rate); each chat's rows in order.

        If one send brings the worker down, the other chats' sends are cancelled, and those that
        already succeeded are still marked sent before the error goes on (no second copy later).
        """
        by_chat: dict[tuple[str, str], list[Row]] = {}
        for row in rows:
            by_chat.setdefault((row["channel"], row["chat_key"]), []).append(row)
        slots = asyncio.Semaphore(self.in_flight)

        async def one_chat(chat_rows: list[Row]) -> int:
            async with slots:
                return sum([await self._deliver(row) for row in chat_rows])

        tasks = [asyncio.create_task(one_chat(chat_rows)) for chat_rows in by_chat.values()]
        try:
            return sum(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, *self._marking, return_exceptions=True)

    async def run(self) -> None:
        """Drain now and whenever woken (or every POLL_SECONDS, for retries) until cancelled."""
        while True:
            self.wake.clear()
            try:
                await self.drain()
            except Exception:
                log.exception("outbox: drain failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)

    async def _pending(self, after: int) -> list[Row]:
        """Unsent rows after `after` for channels this worker can send on, oldest first, except
        those waiting out their backoff."""
        return await table.pending(self.store.db, after, self.senders, self.store.clock(), BATCH)

    async def _deliver(self, row: Row) -> int:
        if row["expires_at"] is not None and self.store.clock() >= from_text(row["expires_at"]):
            await self._record(row, row["attempts"], "expired")
            return 0
        limiter = self.limiters.get(row["channel"])
        if limiter is not None:
            await limiter.wait(row["chat_key"])
        attempts = row["attempts"] + 1
        try:
            await self.senders[row["channel"]].send(
                row["chat_key"], replies_from_json(row["replies"])
            )
        except Undeliverable as exc:
            await self._record(row, attempts, "skipped", type(exc).__name__)
            return 0
        except Blocked as exc:
            await self._record(row, attempts, "failed", type(exc).__name__)
            return 0
        except Exception as exc:
            error = type(exc).__name__  # never the message: it may quote the text sent
            log.warning("outbox: send %s failed (%s), attempt %d", row["id"], error, attempts)
            outcome = "failed" if attempts >= MAX_ATTEMPTS else None
            await self._record(row, attempts, outcome, error)
            return 0
        # Sent: the mark must land even if the worker is being stopped right now.
        marking = asyncio.ensure_future(self._record(row, attempts, "sent"))
        self._marking.add(marking)
        marking.add_done_callback(self._marking.discard)
        await asyncio.shield(marking)
        return 1

    async def _record(
        self, row: Row, attempts: int, outcome: str | None, error: str | None = None
    ) -> None:
        """Note an attempt; with an outcome the row is done and never sent again, otherwise it
        waits out a backoff that doubles with each attempt."""
        now = self.store.clock()
        done_at = None if outcome is None else now
        backoff = min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
        not_before = now + backoff if outcome is None else None
        async with self.store.transaction() as db:
            await table.record_attempt(db, row["id"], attempts, error, done_at, outcome, not_before)
            if outcome is not None and self.on_done is not None:
                await self.on_done(db, row, outcome, error)
