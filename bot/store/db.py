"""The aiosqlite connection, its migrations and the repository methods the handlers use.

One connection per process, WAL mode, writes in short transactions. Times are stored as UTC
ISO-8601 text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot import metrics
from bot.core import Lang

Clock = Callable[[], dt.datetime]
T = TypeVar("T")
QUESTION_RETENTION = dt.timedelta(days=90)
# Meta retries a webhook delivery for up to 7 days; ids are kept well beyond that.
WHATSAPP_ID_RETENTION = dt.timedelta(days=30)


@dataclass(frozen=True)
class AskedQuestion:
    normalised: str
    route: str
    count: int
    last_seen: str


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_text(moment: dt.datetime) -> str:
    """A moment as the store keeps it: UTC ISO-8601 to the second."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def from_text(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("bot.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def latest_migration() -> int:
    """The schema version this code migrates a database to."""
    return max(number for number, _ in _migrations())


async def _connect(path: Path | str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA busy_timeout=5000")
    return db


class Store:
    """The bot's database. Open with `await Store.open(path)`; close with `await store.close()`."""

    def __init__(self, db: aiosqlite.Connection, clock: Clock) -> None:
        self._db = db
        self._reader = db  # open() adds a separate one for a database file
        self.clock = clock
        self._write_lock = asyncio.Lock()
        self._writer: asyncio.Task[object] | None = None
        self._cache: dict[str, tuple[tuple[int, int], asyncio.Future[Any]]] = {}

    @property
    def db(self) -> aiosqlite.Connection:
        """The connection, for the repository modules of this package (queue, outbox)."""
        return self._db

    @property
    def reader(self) -> aiosqlite.Connection:
        """A second, read-only connection (its own thread) for reads many people make at once,
        such as the queue board: they neither wait behind writes nor hold writes up. It sees
        committed data only. For ":memory:" it is the same connection."""
        return self._reader

    async def read_cached(
        self, key: str, load: Callable[[aiosqlite.Connection], Awaitable[T]]
    ) -> T:
        """`await load(store.reader)`, reused until any connection changes the database.

        For reads many people repeat between rare writes (the queue board). The version is
        SQLite's data_version (bumped when another connection or process commits) and the
        writer's own change count, taken before loading: a commit during a load only makes the
        next read load again. Readers arriving during a load share it instead of each loading.
        """
        rows = await self._reader.execute_fetchall("PRAGMA data_version")
        version = (int(next(iter(rows))[0]), self._db.total_changes)
        cached = self._cache.get(key)
        if cached is None or cached[0] != version:
            cached = (version, asyncio.ensure_future(load(self._reader)))
            self._cache[key] = cached
        try:
            return cast(T, await asyncio.shield(cached[1]))
        except Exception:
            if self._cache.get(key) is cached:
                del self._cache[key]  # the next read tries again
            raise

    @classmethod
    async def open(cls, path: Path | str, clock: Clock = utcnow) -> Store:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await _connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        store = cls(db, clock)
        await store._migrate()
        if not in_memory:
            store._reader = await _connect(path)
            await store._reader.execute("PRAGMA query_only=ON")
        return store

    async def close(self) -> None:
        if self._reader is not self._db:
            await self._reader.close()
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        for number, sql in _migrations():
            if number <= current:
                continue
            # One script per migration: its statements and the version bump commit together.
            try:
                await self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version={number};\nCOMMIT;"
                )
            except Exception:
                if self._db.in_transaction:
                    await self._db.rollback()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A short write transaction (BEGIN IMMEDIATE); rolled back when the block raises.

        Every task shares the one connection, so transactions take turns (a lock): otherwise a
        second task's statements would land inside the first task's transaction. A nested
        call from the same task joins the open transaction.
        """
        task = asyncio.current_task()
        if task is not None and self._writer is task:
            yield self._db
            return
        async with self._write_lock:
            self._writer = task
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    await self._db.commit()
                except BaseException as exc:
                    if isinstance(exc, sqlite3.Error):
                        metrics.DB_WRITE_ERRORS.inc()
                    await self._db.rollback()
                    raise
            finally:
                self._writer = None

    def _now(self) -> str:
        return as_text(self.clock())

    async def ping(self) -> bool:
        async with self._db.execute("SELECT 1") as cursor:
            return await cursor.fetchone() is not None

    async def touch_user(self, channel: str, user_key: str) -> None:
        """Record that someone used the bot (first and last seen)."""
        now = self._now()
        # In a transaction of its own: a bare statement would land in another task's open one.
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (channel, user_key, first_seen, last_seen) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (channel, user_key) DO UPDATE SET last_seen = excluded.last_seen",
                (channel, user_key, now, now),
            )

    async def get_language(self, channel: str, user_key: str) -> Lang | None:
        rows = await self._db.execute_fetchall(
            "SELECT language FROM users WHERE channel = ? AND user_key = ?", (channel, user_key)
        )
        row = next(iter(rows), None)
        if row is None or row["language"] not in ("id", "en"):
            return None
        return "en" if row["language"] == "en" else "id"

    async def set_language(self, channel: str, user_key: str, language: Lang) -> None:
        now = self._now()
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (channel, user_key, language, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, user_key) "
                "DO UPDATE SET language = excluded.language, last_seen = excluded.last_seen",
                (channel, user_key, language, now, now),
            )

    async def record_question(self, normalised: str, route: str) -> None:
        """Count a question the bot declined or clarified; forget ones unseen for 90 days."""
        now = self.clock().astimezone(dt.UTC)
        stamp = now.isoformat(timespec="seconds")
        cutoff = (now - QUESTION_RETENTION).isoformat(timespec="seconds")
        async with self.transaction() as db:
            await db.execute("DELETE FROM questions WHERE last_seen < ?", (cutoff,))
            await db.execute(
                "INSERT INTO questions (normalised, route, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (normalised, route) DO UPDATE "
                "SET count = count + 1, last_seen = excluded.last_seen",
                (normalised[:300], route, stamp, stamp),
            )

    async def top_questions(self, limit: int = 20) -> list[AskedQuestion]:
        """The most frequent unanswered or clarified questions still kept."""
        cutoff = (self.clock().astimezone(dt.UTC) - QUESTION_RETENTION).isoformat(
            timespec="seconds"
        )
        async with self._db.execute(
            "SELECT normalised, route, count, last_seen FROM questions WHERE last_seen >= ? "
            "ORDER BY count DESC, last_seen DESC LIMIT ?",
            (cutoff, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            AskedQuestion(r["normalised"], r["route"], r["count"], r["last_seen"]) for r in rows
        ]

    async def claim_whatsapp_message(self, wamid: str) -> bool:
        """Record a WhatsApp message id; False when it was recorded before (a redelivery)."""
        now = self.clock().astimezone(dt.UTC)
        cutoff = (now - WHATSAPP_ID_RETENTION).isoformat(timespec="seconds")
        async with self.transaction() as db:
            await db.execute("DELETE FROM whatsapp_messages WHERE received < ?", (cutoff,))
            cursor = await db.execute(
                "INSERT OR IGNORE INTO whatsapp_messages (wamid, received) VALUES (?, ?)",
                (wamid, now.isoformat(timespec="seconds")),
            )
            return cursor.rowcount == 1

    async def record_whatsapp_inbound(self, user_key: str, at: dt.datetime) -> None:
        """A WhatsApp user wrote at `at`: their 24-hour window is open from then."""
        stamp = at.astimezone(dt.UTC).isoformat(timespec="seconds")
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO whatsapp_windows (user_key, last_inbound) VALUES (?, ?) "
                "ON CONFLICT (user_key) DO UPDATE "
                "SET last_inbound = max(last_inbound, excluded.last_inbound)",
                (user_key, stamp),
            )

    async def close_whatsapp_window(self, user_key: str) -> None:
        """WhatsApp refused a free-form message (131047): treat the window as closed."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE whatsapp_windows SET closed_at = ? WHERE user_key = ?",
                (self._now(), user_key),
            )

    async def whatsapp_last_inbound(self, user_key: str) -> dt.datetime | None:
        """When the user last wrote, or None when unknown or WhatsApp said the window closed."""
        async with self._db.execute(
            "SELECT last_inbound, closed_at FROM whatsapp_windows WHERE user_key = ?",
            (user_key,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or (
            row["closed_at"] is not None and row["closed_at"] >= row["last_inbound"]
        ):
            return None
        return dt.datetime.fromisoformat(row["last_inbound"])
