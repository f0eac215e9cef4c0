"""The store's failure paths and retention: a migration or a cached read that fails, the
hourly sweep."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

import bot.store
from bot.app import every
from bot.store import (
    Store,
    announcements,
    conversations,
    handovers,
    questions,
    reminders,
    survey,
    users,
    whatsapp,
)
from bot.store.db import ROWS_PER_INSERT, StoreError, as_text
from bot.store.retention import forget_expired
from tests.conftest import FixedClock


def schema(path: Path) -> tuple[int, set[str]]:
    """The database's user_version and table names, read outside the store."""
    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return version, tables


async def test_a_failed_migration_changes_nothing_and_a_fixed_start_applies_it(
    tmp_path: Path,
) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    await (await Store.open(fresh)).close()
    latest, tables = schema(fresh)
    # A database at version 5 (migrations 001-005 run by hand), with a table that migration 006
    # creates left over, so that 006 fails halfway: after creating its first tables.
    path = tmp_path / "m.sqlite3"
    folder = Path(bot.store.__file__).parent / "migrations"
    with sqlite3.connect(path) as db:
        for script in sorted(folder.glob("00[1-5]_*.sql")):
            db.executescript(script.read_text(encoding="utf-8"))
        db.execute("PRAGMA user_version=5")
        db.execute("CREATE TABLE question_days (day TEXT)")
    before = schema(path)
    threads = set(threading.enumerate())
    with pytest.raises(StoreError, match="question_days already exists"):
        await Store.open(path)
    # No connection is left open: its thread would keep the process from exiting.
    for thread in set(threading.enumerate()) - threads:
        thread.join(timeout=5)  # a closed connection's thread ends at once
    assert not [t for t in set(threading.enumerate()) - threads if t.is_alive()]
    assert schema(path) == before
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE question_days")
    await (await Store.open(path)).close()
    assert schema(path) == (latest, tables)


async def test_a_cached_read_that_failed_is_loaded_again_next_time(store: Store) -> None:
    loads: list[int] = []

    async def load(db: aiosqlite.Connection) -> str:
        loads.append(1)
        if len(loads) == 1:
            raise sqlite3.OperationalError("database is locked")
        return "board"

    with pytest.raises(sqlite3.OperationalError):
        await store.read_cached("queue-board", load)
    assert await store.read_cached("queue-board", load) == "board"
    assert await store.read_cached("queue-board", load) == "board"  # now served from the cache
    assert len(loads) == 2


async def count_users(db: aiosqlite.Connection) -> int:
    rows = await db.execute_fetchall("SELECT count(*) FROM users")
    return int(next(iter(rows))[0])


@pytest.mark.parametrize("where", ["file", ":memory:"])
async def test_a_cached_read_is_loaded_again_after_the_stores_own_write(
    where: str, tmp_path: Path, migrated_database: Path
) -> None:
    """A file's version is data_version on a connection that never writes, which sees the
    writer's commits; in memory the one connection counts its own changes instead."""
    path: Path | str = ":memory:"
    if where == "file":
        path = tmp_path / "bot.sqlite3"
        shutil.copyfile(migrated_database, path)
    store = await Store.open(path)
    try:
        assert await store.read_cached("users", count_users) == 0
        async with store.transaction() as db:
            await users.touch_users(db, [("web", "s1", store.clock())])
        assert await store.read_cached("users", count_users) == 1
    finally:
        await store.close()


async def test_a_cached_read_is_loaded_again_after_another_process_writes(
    store: Store, tmp_path: Path
) -> None:
    assert await store.read_cached("users", count_users) == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as other:  # `ukkbot` run from a shell, say
        other.execute(
            "INSERT INTO users (channel, user_key, first_seen, last_seen) "
            "VALUES ('web', 's1', '2026-12-01', '2026-12-01')"
        )
    assert await store.read_cached("users", count_users) == 1


async def test_a_cached_read_does_not_wait_behind_the_readers_line(store: Store) -> None:
    """Every message reads its chat state on the reader; the queue board must not queue
    behind those reads (issue 13: it took three turns of that line under load)."""
    release = threading.Event()
    await store.reader.create_function("hold", 0, lambda: release.wait(10))
    held = asyncio.ensure_future(store.reader.execute_fetchall("SELECT hold()"))
    try:
        assert await asyncio.wait_for(store.read_cached("users", count_users), 5) == 0
        assert not held.done()  # the reader was busy all along
    finally:
        release.set()
        await held


async def test_the_sweep_forgets_whatsapp_ids_after_30_days_without_a_new_message(
    store: Store, clock: FixedClock
) -> None:
    async with store.transaction() as db:
        await whatsapp.claim_message(db, "wamid.old", clock.now)
    clock.now += dt.timedelta(days=30)
    await forget_expired(store)
    assert await store.db.execute_fetchall("SELECT wamid FROM whatsapp_messages") != []
    clock.now += dt.timedelta(seconds=1)
    await forget_expired(store)
    assert await store.db.execute_fetchall("SELECT wamid FROM whatsapp_messages") == []


class Stop(Exception):
    """Ends the hourly loop in a test."""


async def test_a_failed_sweep_is_logged_and_retried_an_hour_later(
    store: Store, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with store.transaction() as db:
        await questions.add_questions(db, [("resep rendang", "unknown", clock.now, 1)])
    clock.now += dt.timedelta(days=91)
    await store.db.execute("ALTER TABLE questions RENAME TO questions_away")  # the sweep fails
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            assert [r.getMessage() for r in caplog.records] == ["retention sweep failed"]
            await store.db.execute("ALTER TABLE questions_away RENAME TO questions")
        else:
            raise Stop

    with pytest.raises(Stop):
        await every(3600, lambda: forget_expired(store), "retention sweep", sleep)
    assert sleeps == [3600, 3600]
    assert await store.db.execute_fetchall("SELECT * FROM questions") == []


async def test_the_route_learns_in_one_read_which_conversations_a_chat_has_open(
    store: Store, clock: FixedClock
) -> None:
    now = clock()
    db = store.db
    assert (await conversations.chat_state(db, "t", "c1", "u1", now)).open == frozenset()
    await handovers.open_handover(db, "t", "c1", "id", True, now)
    await survey.invite(db, "t", "c1", now.date())
    await survey.submit(
        db, "t", "c1", now, survey.Response(now.date().isoformat(), "paspor", (4,) * 9)
    )
    await reminders.open_draft(db, "t", "c1", "paspor", now)
    await announcements.save_draft(db, "t", "u1", announcements.Draft("text_id"), now)
    await db.commit()
    assert (await conversations.chat_state(db, "t", "c1", "u1", now)).open == {
        conversations.HANDOVER,
        conversations.SURVEY_COMMENT,
        conversations.REMINDER_DATE,
        conversations.ANNOUNCEMENT_DRAFT,
    }
    # Another chat sees none of them; each state ends when its own module says it ends.
    assert (await conversations.chat_state(db, "t", "c2", "u2", now)).open == frozenset()
    later = now + dt.timedelta(minutes=16)  # past the survey's 15-minute comment window
    assert (
        conversations.SURVEY_COMMENT
        not in (await conversations.chat_state(db, "t", "c1", "u1", later)).open
    )
    later = now + dt.timedelta(hours=1, seconds=1)  # past the hand-over's and the draft's hour
    assert (await conversations.chat_state(db, "t", "c1", "u1", later)).open == {
        conversations.ANNOUNCEMENT_DRAFT
    }


async def test_the_same_read_gives_the_language_choice_and_the_staff_mark(
    store: Store, clock: FixedClock
) -> None:
    db = store.db

    async def profile(user_key: str) -> tuple[str | None, bool]:
        state = await conversations.chat_state(db, "t", "c1", user_key, clock())
        return state.language, state.staff

    assert await profile("u1") == (None, False)
    await users.set_language(db, "t", "u1", "en", clock())
    await users.add_staff(db, "t", "u1", "admin", clock())
    await db.commit()
    assert await profile("u1") == ("en", True)
    assert await profile("u2") == (None, False)


async def test_a_batch_larger_than_one_statement_writes_every_row_and_counts_repeats(
    store: Store, clock: FixedClock
) -> None:
    many = ROWS_PER_INSERT * 2 + 1  # three statements, the last with one row
    async with store.transaction() as db:
        await users.touch_users(db, [("web", f"s{n}", clock.now) for n in range(many)])
        await questions.add_questions(db, [("resep rendang", "unknown", clock.now, 2)])
    later = clock.now + dt.timedelta(hours=1)
    async with store.transaction() as db:
        await users.touch_users(db, [("web", "s0", later), ("web", "new", later)])
        await questions.add_questions(
            db,
            [("resep rendang", "unknown", later, 3), ("cuaca", "unknown", later, 1)],
        )
    rows = await store.db.execute_fetchall("SELECT user_key, first_seen, last_seen FROM users")
    seen = {row["user_key"]: (row["first_seen"], row["last_seen"]) for row in rows}
    assert len(seen) == many + 1
    assert seen["s0"] == (as_text(clock.now), as_text(later))  # first seen kept
    assert seen[f"s{many - 1}"] == (as_text(clock.now), as_text(clock.now))
    top = await questions.top_questions(store.db, later)
    assert [(q.normalised, q.count) for q in top] == [("resep rendang", 5), ("cuaca", 1)]
