"""The aiosqlite connection, its migrations and the repository methods the handlers use.

One connection per process, WAL mode, writes in short transactions. Times are stored as UTC
ISO-8601 text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.core import Lang

Clock = Callable[[], dt.datetime]
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


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("bot.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store:
    """The bot's database. Open with `await Store.open(path)`; close with `await store.close()`."""

    def __init__(self, db: aiosqlite.Connection, clock: Clock) -> None:
        self._db = db
        self.clock = clock

    @classmethod
    async def open(cls, path: Path | str, clock: Clock = utcnow) -> Store:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        store = cls(db, clock)
        await store._migrate()
        return store

    async def close(self) -> None:
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
        """A short write transaction; rolled back when the block raises."""
        if self._db.in_transaction:
            yield self._db
            return
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            await self._db.rollback()
            raise
        await self._db.commit()

    def _now(self) -> str:
        return self.clock().astimezone(dt.UTC).isoformat(timespec="seconds")

    async def ping(self) -> bool:
        async with self._db.execute("SELECT 1") as cursor:
            return await cursor.fetchone() is not None

    async def touch_user(self, channel: str, user_key: str) -> None:
        """Record that someone used the bot (first and last seen)."""
        now = self._now()
        await self._db.execute(
            "INSERT INTO users (channel, user_key, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel, user_key) DO UPDATE SET last_seen = excluded.last_seen",
            (channel, user_key, now, now),
        )

    async def get_language(self, channel: str, user_key: str) -> Lang | None:
        async with self._db.execute(
            "SELECT language FROM users WHERE channel = ? AND user_key = ?", (channel, user_key)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row["language"] not in ("id", "en"):
            return None
        return "en" if row["language"] == "en" else "id"

    async def set_language(self, channel: str, user_key: str, language: Lang) -> None:
        now = self._now()
        await self._db.execute(
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
        await self._db.execute(
            "INSERT INTO whatsapp_windows (user_key, last_inbound) VALUES (?, ?) "
            "ON CONFLICT (user_key) DO UPDATE "
            "SET last_inbound = max(last_inbound, excluded.last_inbound)",
            (user_key, stamp),
        )

    async def close_whatsapp_window(self, user_key: str) -> None:
        """WhatsApp refused a free-form message (131047): treat the window as closed."""
        await self._db.execute(
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
