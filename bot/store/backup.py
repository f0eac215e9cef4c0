"""`ukkbot backup` and `ukkbot restore`: whole-database copies through SQLite's online backup
API, consistent while the bot keeps writing (WAL lets it go on during the copy)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.store.db import latest_migration


class BackupError(Exception):
    """Nothing was changed; the message says why in one line."""


def _open(path: Path, mode: str) -> sqlite3.Connection:
    # mode=ro never creates a file: a mistyped path is an error, not an empty database.
    return sqlite3.connect(f"file:{path}?mode={mode}", uri=True)


def _check(connection: sqlite3.Connection, path: Path) -> int:
    """The schema version of a sound bot database; BackupError otherwise."""
    try:
        [(result,)] = connection.execute("PRAGMA quick_check").fetchall()
        [(version,)] = connection.execute("PRAGMA user_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a readable SQLite database ({exc})") from None
    if result != "ok":
        raise BackupError(f"{path}: the database is damaged ({result})")
    if not 0 < version <= latest_migration():
        raise BackupError(f"{path}: schema version {version} is not one this ukkbot knows")
    return int(version)


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    with closing(sqlite3.connect(target_path)) as target:
        source.backup(target)  # all pages in one step: one consistent snapshot


def backup(database: Path, target: Path) -> None:
    """Copy the live `database` to the new file `target` (never overwritten)."""
    if target.exists():
        raise BackupError(f"{target}: already exists; choose a new file name")
    if not database.is_file():
        raise BackupError(f"{database}: no such database (DATABASE_PATH)")
    partial = target.with_name(target.name + ".partial")
    try:
        with closing(_open(database, "ro")) as source:
            _copy(source, partial)
        with closing(_open(partial, "ro")) as copy:
            _check(copy, target)
        partial.rename(target)  # only a complete, checked copy gets the name asked for
    except sqlite3.Error as exc:
        raise BackupError(f"{database}: backup failed ({exc})") from None
    finally:
        partial.unlink(missing_ok=True)


def restore(source: Path, database: Path, now: dt.datetime) -> Path | None:
    """Replace `database` by the backup `source`, with the bot stopped. The database it replaces
    is first copied beside it (returned), so a wrong restore can itself be undone."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    try:
        with closing(_open(source, "ro")) as backup_db:
            _check(backup_db, source)
            kept = None
            if database.is_file():
                kept = database.with_name(f"{database.name}.before-restore-{now:%Y%m%d-%H%M%S}")
                with closing(_open(database, "ro")) as current:
                    _copy(current, kept)
            database.parent.mkdir(parents=True, exist_ok=True)
            _copy(backup_db, database)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: restore failed ({exc})") from None
    return kept
