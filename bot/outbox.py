"""The outbox: proactive messages (queue reminders, broadcasts) that survive a restart.

A message is written with `bot.store.outbox.enqueue` in the same transaction as the change
that causes it, under a key naming that cause, so it cannot be written twice. `OutboxWorker`
sends due rows through each channel's `Sender` and marks a row sent only after its send
succeeded: a restart between the change and the send still sends it, once.

Delivery rules (README "Delivery"): urgent rows (personal) go before bulk ones (broadcasts);
a chat's rows go one at a time in the order written, so a later one never overtakes one
waiting out a retry; a failed send waits FIRST_BACKOFF, doubling per attempt, and the worker
wakes for it; a send that timed out after the platform may have taken the message is not sent
again (outcome "unconfirmed"). A `RateLimiter` per channel keeps to BROADCAST_RATE.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx

from bot import metrics
from bot.core import Reply
from bot.store import Store
from bot.store import outbox as table
from bot.store.db import Connection, Row, from_text
from bot.store.outbox import replies_from_json

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
POLL_SECONDS = 30.0  # the longest the running worker sleeps without looking at the table
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


# Failures after the request went out whole: the platform may have taken (and delivered) the
# message though no answer came back. Failures before (no connection, a full pool, a request
# not written) and error answers (5xx) are taken as not delivered.
MAY_HAVE_ARRIVED = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def may_have_arrived(error: BaseException) -> bool:
    """Whether a failed platform call may still have delivered its message: resending it could
    give the person a second copy. Looks through the causes (PTB wraps httpx's errors)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, MAY_HAVE_ARRIVED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
    """Sends the outbox through the channels' senders; one per process.

    Up to `in_flight` chats are sent to at once (a platform call takes tens of milliseconds:
    one at a time would stay below the rate). Free places are filled from the table again after
    every send and whenever `wake` is set, so an urgent row written while a broadcast drains
    waits for at most the sends already started, not for the broadcast.
    """

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
        self.senders = senders  # read at each look at the table: channels may come and go
        self.wake = wake or asyncio.Event()
        self.limiters = limiters or {}
        self.on_done = on_done
        self.in_flight = in_flight
        self._lock = asyncio.Lock()
        self._running: dict[int, asyncio.Task[int]] = {}
        self._marking: set[asyncio.Future[None]] = set()
        # Rows sent whose "sent" mark could not be written (the disk was full): never sent
        # again by this process, marked as soon as the database takes writes again.
        self._unmarked: dict[int, tuple[Row, int]] = {}

    async def drain(self) -> int:
        """Send every message that is due now and wait for the sends; how many were sent."""
        async with self._lock:
            return await self._pump(forever=False)

    async def run(self) -> None:
        """Send as rows fall due until cancelled: woken by `wake`, by a finished send, and when
        the next backoff ends."""
        async with self._lock:
            await self._pump(forever=True)

    async def _pump(self, forever: bool) -> int:
        """Fill free places with due rows and wait for a send to end (or, `forever`, for a wake
        or the next backoff), until nothing is due and nothing in flight (or cancelled).

        If one send brings the worker down, the other sends are cancelled, and those that
        already succeeded are still marked sent before the error goes on (no second copy later).
        """
        sent = 0
        try:
            while True:
                self.wake.clear()
                timeout: float | None = None
                try:
                    await self._mark_unmarked()
                    # One "now" for both looks: a row falling due between them would be neither
                    # started nor waited for, and the worker would sleep the whole poll.
                    now = self.store.clock()
                    await self._start_due(now)
                    if forever:
                        timeout = await self._seconds_to_next_retry(now)
                except Exception:
                    if not forever:
                        raise
                    log.exception("outbox: reading the table failed")
                    timeout = POLL_SECONDS
                if not self._running and not forever:
                    return sent
                waits: set[asyncio.Future[Any]] = set(self._running.values())
                waker = asyncio.ensure_future(self.wake.wait()) if forever else None
                if waker is not None:
                    waits.add(waker)
                try:
                    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if waker is not None:
                        waker.cancel()
                failed = False
                for row_id, task in list(self._running.items()):
                    if task.done():
                        del self._running[row_id]
                        counted = self._result(task, forever)
                        failed = failed or counted is None
                        sent += counted or 0
                if failed:  # the database refuses writes: do not send on at full speed
                    await asyncio.sleep(FIRST_BACKOFF.total_seconds())
        finally:
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(*self._running.values(), *self._marking, return_exceptions=True)
            self._running.clear()

    def _result(self, task: asyncio.Task[int], forever: bool) -> int | None:
        """A finished send's count; its error goes on unless the worker runs forever, where an
        Exception (a write that failed) is logged, None returned and the row tried later."""
        error = task.exception()
        if error is None:
            return task.result()
        if forever and isinstance(error, Exception):
            log.error("outbox: recording a send failed (%s)", type(error).__name__)
            return None
        raise error

    async def _start_due(self, now: dt.datetime) -> None:
        free = self.in_flight - len(self._running)
        if free <= 0 or not self.senders:
            return
        limit = free + len(self._running) + len(self._unmarked)
        for row in await table.due(self.store.db, self.senders, now, limit):
            if row["id"] in self._running or row["id"] in self._unmarked:
                continue
            self._running[row["id"]] = asyncio.create_task(self._deliver(row))
            free -= 1
            if free == 0:
                return

    async def _seconds_to_next_retry(self, now: dt.datetime) -> float:
        at = await table.next_retry(self.store.db, self.senders, now)  # later than now
        if at is None:
            return POLL_SECONDS
        return min(POLL_SECONDS, (at - now).total_seconds())

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
            if may_have_arrived(exc):
                log.warning(
                    "outbox: send %s got no answer (%s) and may have arrived: not sent again",
                    row["id"],
                    error,
                )
                await self._record(row, attempts, "unconfirmed", error)
                return 0
            log.warning("outbox: send %s failed (%s), attempt %d", row["id"], error, attempts)
            outcome = "failed" if attempts >= MAX_ATTEMPTS else None
            await self._record(row, attempts, outcome, error)
            return 0
        # Sent: the mark must land even if the worker is being stopped right now.
        marking = asyncio.ensure_future(self._mark_sent(row, attempts))
        self._marking.add(marking)
        marking.add_done_callback(self._marking.discard)
        await asyncio.shield(marking)
        return 1

    async def _mark_sent(self, row: Row, attempts: int) -> None:
        try:
            await self._record(row, attempts, "sent")
        except Exception as exc:
            log.error("outbox: send %s went out but is not marked (%s)", row["id"], exc)
            self._unmarked[row["id"]] = (row, attempts)

    async def _mark_unmarked(self) -> None:
        for row_id, (row, attempts) in list(self._unmarked.items()):
            await self._record(row, attempts, "sent")
            del self._unmarked[row_id]

    async def _record(
        self, row: Row, attempts: int, outcome: str | None, error: str | None = None
    ) -> None:
        """Note an attempt; with an outcome the row is done and never sent again, otherwise it
        waits out a backoff that doubles with each attempt (2 s, 4 s, 8 s, …)."""
        now = self.store.clock()
        done_at = None if outcome is None else now
        backoff = min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
        not_before = now + backoff if outcome is None else None
        metrics.SENDS.labels(row["channel"], outcome or "retry").inc()
        async with self.store.transaction() as db:
            await table.record_attempt(db, row["id"], attempts, error, done_at, outcome, not_before)
            if outcome is not None and self.on_done is not None:
                await self.on_done(db, row, outcome, error)
