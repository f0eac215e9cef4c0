"""The aiosqlite connection, its transactions and migrations: nothing about any one table.

One module per table family (users, questions, whatsapp, audit, outbox, queue, announcements,
handovers, stats) is the only code that reads or writes those tables; its functions take the
connection, so writes run inside the caller's `store.transaction()`. One connection per process,
WAL mode, writes in short transactions. Times are stored as UTC ISO-8601 text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bot import metrics
from bot.clock import Clock, utcnow

T = TypeVar("T")
# What the table modules of this package hand each other; nothing outside bot/store/ needs
# aiosqlite itself.
Connection = aiosqlite.Connection
Row = aiosqlite.Row


class StoreError(Exception):
    """The database cannot be opened, migrated or written; the message is one line."""


def as_text(moment: dt.datetime) -> str:
    """A moment as the store keeps it: UTC ISO-8601 to the second."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


async def select_rows(
    db: aiosqlite.Connection, sql: str, params: tuple[object, ...]
) -> list[dict[str, object]]:
    """Rows as plain dicts, for an export of one person's data."""
    return [dict(row) for row in await db.execute_fetchall(sql, params)]


# Rows a multi-row INSERT carries: 4-5 columns each stays far below SQLite's 32,766 variables.
ROWS_PER_INSERT = 500


async def insert_rows(
    db: aiosqlite.Connection, head: str, rows: Sequence[tuple[object, ...]], tail: str = ""
) -> None:
    """`head VALUES (?, …), (?, …) … tail` for many rows, a few hundred rows a statement.

    Not executemany: that steps SQLite once a row, and each step gives up and takes back the
    interpreter lock; beside a busy event loop every take-back waits out a thread switch
    interval, so a batch of 200 rows took 0.3 s and held up the reads queued behind it.
    """
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        row = "(" + ", ".join("?" * len(chunk[0])) + ")"
        params = [value for values in chunk for value in values]
        await db.execute(f"{head} VALUES {', '.join([row] * len(chunk))} {tail}", params)


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


async def _connect(path: Path | str, read_only: bool = False) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA busy_timeout=5000")
        if read_only:
            await db.execute("PRAGMA query_only=ON")
    except BaseException:
        await db.close()
        raise
    return db


class Store:
    """The bot's database. Open with `await Store.open(path)`; close with `await store.close()`."""

    def __init__(self, db: aiosqlite.Connection, clock: Clock, path: Path | None = None) -> None:
        self._db = db
        self._path = path
        # The file opened: a database deleted or replaced under a running process takes
        # writes that vanish at the next start, so health compares it with what is there now.
        self._inode = None if path is None else os.stat(path).st_ino
        self._probe: asyncio.Task[None] | None = None
        # open() adds, for a database file, a reader, a connection for the cached reads and a
        # plain one for their version (see read_cached); for ":memory:" all are `db`.
        self._reader = db
        self._shared = db
        self._versions: sqlite3.Connection | None = None
        self.clock = clock
        self._write_lock = asyncio.Lock()
        self._writer: asyncio.Task[object] | None = None
        self._cache: dict[str, tuple[int, asyncio.Future[Any]]] = {}
        self._unknown = itertools.count(-1, -1)  # versions for a data_version that failed

    @property
    def db(self) -> aiosqlite.Connection:
        """The connection: pass it to the table modules' reads (writes take a transaction)."""
        return self._db

    @property
    def reader(self) -> aiosqlite.Connection:
        """A second, read-only connection (its own thread) for reads many people make at once,
        such as every message's chat state: they neither wait behind writes nor hold writes
        up. It sees committed data only. For ":memory:" it is the same connection."""
        return self._reader

    async def read_cached(
        self, key: str, load: Callable[[aiosqlite.Connection], Awaitable[T]]
    ) -> T:
        """`await load(connection)`, reused until any connection changes the database.

        For reads many people repeat between rare writes (the queue board). The version is
        taken before loading: a commit during a load only makes the next read load again.
        Readers arriving during a load share it instead of each loading.

        Neither the version nor the load waits in line behind the reads every message makes
        (its chat state, on the reader): with 200 sessions at once a queue-board look took
        three turns of that line, p99 0.76 s against 0.29 s for a topic answer (issue 13).
        """
        version = self._version()
        cached = self._cache.get(key)
        if cached is None or cached[0] != version:
            cached = (version, asyncio.ensure_future(load(self._shared)))
            self._cache[key] = cached
        try:
            return cast(T, await asyncio.shield(cached[1]))
        except Exception:
            if self._cache.get(key) is cached:
                del self._cache[key]  # the next read tries again
            raise

    def _version(self) -> int:
        """A number that changes whenever the database does. For a file, SQLite's data_version
        on a connection that never writes, so every commit counts, this process's and others';
        asked in place, a look at the shared WAL index taking microseconds, where a round trip
        to a connection's thread waits for the event loop's next turn. For ":memory:" the one
        connection's own change count (no other connection can reach it)."""
        if self._versions is None:
            return self._db.total_changes
        try:
            return int(self._versions.execute("PRAGMA data_version").fetchall()[0][0])
        except sqlite3.Error:
            return next(self._unknown)  # cannot tell: load again

    @classmethod
    async def open(cls, path: Path | str, clock: Clock = utcnow) -> Store:
        """Open (creating it when new), migrate and prove a write commits; on any failure
        what was opened is closed again (aiosqlite's threads would keep the process alive)."""
        try:
            return await cls._open(path, clock)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{path}: {exc}") from exc

    @classmethod
    async def _open(cls, path: Path | str, clock: Clock) -> Store:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await _connect(path)
        store: Store | None = None
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            store = cls(db, clock, None if in_memory else Path(path))
            await store._migrate()
            await store.probe_write()
            if not in_memory:
                store._reader = await _connect(path, read_only=True)
                store._shared = await _connect(path, read_only=True)
                # No busy wait: it is asked from the event loop (read_cached).
                store._versions = sqlite3.connect(path, timeout=0, isolation_level=None)
                store._versions.execute("PRAGMA query_only=ON")
        except BaseException:
            # aiosqlite's thread would keep the process alive: `ukkbot run` hung instead of
            # exiting with the error.
            if store is not None:
                await store._close_readers()
            await db.close()
            raise
        return store

    async def close(self) -> None:
        if self._probe is not None:
            await asyncio.wait([self._probe])
        await self._close_readers()
        await self._db.close()

    async def _close_readers(self) -> None:
        for reader in (self._reader, self._shared):
            if reader is not self._db:
                await reader.close()
        if self._versions is not None:
            self._versions.close()

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

    async def probe_write(self) -> None:
        """Commit a one-row write; raises what SQLite says when the database cannot be written
        (read-only, disk full, locked past busy_timeout)."""
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO write_probe (id, at) VALUES (1, ?)",
                (as_text(self.clock()),),
            )

    async def write_health(self, wait: float) -> str:
        """ "ok" when a write commits within `wait` seconds; "busy" when it still waits (for
        another writer; it goes on in the background, so the next look may see it done);
        "gone" when the file was deleted or replaced; "error" when SQLite refuses it."""
        if self._path is not None:
            try:
                if os.stat(self._path).st_ino != self._inode:
                    return "gone"
            except FileNotFoundError:
                return "gone"
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self.probe_write())
            # Its failure is read here or, when it ended after we answered, simply dropped.
            self._probe.add_done_callback(lambda task: task.cancelled() or task.exception())
        probe = self._probe
        done, _ = await asyncio.wait([probe], timeout=wait)
        if not done:
            return "busy"
        return "ok" if probe.exception() is None else "error"
