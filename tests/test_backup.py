"""`ukkbot backup` / `ukkbot restore`: a backup taken while the bot writes restores every row
committed before it began, as one consistent snapshot; nothing is ever overwritten unasked."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.cli import EXIT_USAGE, main
from bot.store import Store, users
from bot.store.backup import BackupError, backup, restore
from tests.conftest import CONTENT_DIR, FixedClock

NOW = dt.datetime(2026, 12, 1, 10, 0)


async def touch(store: Store, key: str) -> None:
    async with store.transaction() as db:
        await users.touch_users(db, [("web", key, store.clock())])


async def user_keys(path: Path) -> list[str]:
    store = await Store.open(path)
    try:
        rows = await store.db.execute_fetchall("SELECT user_key FROM users ORDER BY user_key")
        return [row[0] for row in rows]
    finally:
        await store.close()


async def test_a_backup_taken_under_load_restores_every_row_written_before_it(
    tmp_path: Path, clock: FixedClock
) -> None:
    live = tmp_path / "live.sqlite3"
    store = await Store.open(live, clock=clock)
    committed = 0
    stop, warmed_up = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        nonlocal committed
        try:
            while not stop.is_set():
                await touch(store, f"user-{committed:06d}")
                committed += 1
                if committed == 300:
                    warmed_up.set()
        finally:
            warmed_up.set()  # a failing writer must not leave the test waiting

    writer = asyncio.create_task(write())
    await warmed_up.wait()
    before = committed
    await asyncio.to_thread(backup, live, tmp_path / "taken.sqlite3")
    after = committed
    stop.set()
    await writer
    await store.close()

    restore(tmp_path / "taken.sqlite3", tmp_path / "restored.sqlite3", NOW)
    keys = await user_keys(tmp_path / "restored.sqlite3")
    # Every row committed before the backup began, and no row without the ones before it.
    assert before <= len(keys) <= after + 1
    assert keys == [f"user-{i:06d}" for i in range(len(keys))]
    assert len(await user_keys(live)) == committed


async def test_restore_keeps_the_database_it_replaces(tmp_path: Path, clock: FixedClock) -> None:
    database, saved = tmp_path / "bot.sqlite3", tmp_path / "saved.sqlite3"
    store = await Store.open(database, clock=clock)
    await touch(store, "before-backup")
    await store.close()
    backup(database, saved)
    store = await Store.open(database, clock=clock)
    await touch(store, "after-backup")
    await store.close()

    kept = restore(saved, database, NOW)
    assert await user_keys(database) == ["before-backup"]
    assert kept is not None and kept.name == "bot.sqlite3.before-restore-20261201-100000"
    assert await user_keys(kept) == ["after-backup", "before-backup"]


async def test_a_backup_never_overwrites_a_file(tmp_path: Path, clock: FixedClock) -> None:
    database, existing = tmp_path / "bot.sqlite3", tmp_path / "old-backup.sqlite3"
    await (await Store.open(database, clock=clock)).close()
    existing.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        backup(database, existing)
    assert existing.read_bytes() == b"precious"


def test_restoring_something_that_is_not_a_bot_database_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"the current database")
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    other_sqlite = tmp_path / "other.sqlite3"
    sqlite3.connect(other_sqlite).execute("CREATE TABLE t (x)").connection.close()

    for wrong in (not_sqlite, other_sqlite, tmp_path / "missing.sqlite3"):
        assert main(["restore", str(wrong)]) == EXIT_USAGE
        error = capsys.readouterr().err
        assert error.startswith("ukkbot: restore: ") and error.count("\n") == 1
    assert database.read_bytes() == b"the current database"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bot.sqlite3",
        "notes.txt",
        "other.sqlite3",
    ]


def test_the_backup_command_prints_where_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bot.sqlite3"
    asyncio.run(_create(database))
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))
    assert main(["backup", str(tmp_path / "copy.sqlite3")]) == 0
    assert capsys.readouterr().out == f"{database} -> {tmp_path / 'copy.sqlite3'}\n"
    assert (tmp_path / "copy.sqlite3").is_file()
    assert not (tmp_path / "copy.sqlite3.partial").exists()


async def _create(path: Path) -> None:
    await (await Store.open(path)).close()
