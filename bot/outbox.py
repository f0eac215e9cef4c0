"""The outbox: proactive messages (queue reminders, later broadcasts) that survive a restart.

A message is written with `enqueue` in the same transaction as the change that causes it, under
a key naming that cause, so it cannot be written twice. `OutboxWorker` sends pending rows through
each channel's `Sender` and marks a row sent only after its send succeeded: a restart between
the change and the send still sends it, once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import aiosqlite

from bot.core import Location, Option, Reply
from bot.store import Store
from bot.store.db import as_text, from_text

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 100
POLL_SECONDS = 30.0  # how often failed sends are retried when nothing wakes the worker


class Undeliverable(Exception):
    """A channel can never deliver this message (WhatsApp outside its 24-hour window with no
    approved template): the row is recorded as skipped and not retried."""


class Sender(Protocol):
    """What a channel offers the outbox: send replies to a chat it knows by key."""

    async def send(self, chat_key: str, replies: list[Reply], /) -> None: ...


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


async def enqueue(
    db: aiosqlite.Connection,
    key: str,
    channel: str,
    chat_key: str,
    replies: list[Reply],
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
) -> bool:
    """Put a message in the outbox inside the caller's transaction; False if `key` was there."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO outbox (key, channel, chat_key, replies, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            key,
            channel,
            chat_key,
            replies_to_json(replies),
            as_text(now),
            None if expires_at is None else as_text(expires_at),
        ),
    )
    return cursor.rowcount == 1


class OutboxWorker:
    """Drains the outbox through the channels' senders; one per process."""

    def __init__(
        self, store: Store, senders: Mapping[str, Sender], wake: asyncio.Event | None = None
    ) -> None:
        self.store = store
        self.senders = senders
        self.wake = wake or asyncio.Event()
        self._lock = asyncio.Lock()

    async def drain(self) -> int:
        """Send every pending message a sender exists for; how many were sent."""
        sent = 0
        async with self._lock:
            after = 0
            while rows := await self._pending(after):
                for row in rows:
                    sent += await self._deliver(row)
                after = rows[-1]["id"]
        return sent

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

    async def _pending(self, after: int) -> list[aiosqlite.Row]:
        """Unsent rows after `after` for channels this worker can send on, oldest first."""
        channels = sorted(self.senders)
        marks = ", ".join("?" * len(channels))
        rows = await self.store.db.execute_fetchall(
            f"SELECT * FROM outbox WHERE done_at IS NULL AND id > ? AND channel IN ({marks}) "
            "ORDER BY id LIMIT ?",
            (after, *channels, BATCH),
        )
        return list(rows)

    async def _deliver(self, row: aiosqlite.Row) -> int:
        if row["expires_at"] is not None and self.store.clock() >= from_text(row["expires_at"]):
            await self._record(row["id"], row["attempts"], "expired")
            return 0
        try:
            await self.senders[row["channel"]].send(
                row["chat_key"], replies_from_json(row["replies"])
            )
        except Undeliverable as exc:
            await self._record(row["id"], row["attempts"] + 1, "skipped", type(exc).__name__)
            return 0
        except Exception as exc:
            error = type(exc).__name__  # never the message: it may quote the text sent
            attempts = row["attempts"] + 1
            log.warning("outbox: send %s failed (%s), attempt %d", row["id"], error, attempts)
            outcome = "failed" if attempts >= MAX_ATTEMPTS else None
            await self._record(row["id"], attempts, outcome, error)
            return 0
        await self._record(row["id"], row["attempts"] + 1, "sent")
        return 1

    async def _record(
        self, row_id: int, attempts: int, outcome: str | None, error: str | None = None
    ) -> None:
        """Note an attempt; with an outcome the row is done and never sent again."""
        done_at = None if outcome is None else as_text(self.store.clock())
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, done_at = ?, outcome = ? "
                "WHERE id = ?",
                (attempts, error, done_at, outcome, row_id),
            )
