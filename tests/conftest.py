"""Shared fixtures: the real content, a fresh store per test, the real assistant."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.content import Content, load_content
from bot.context import Services
from bot.core import Incoming, Reply, Role
from bot.store import Store
from bot.understanding import Understanding

os.environ.setdefault(
    "PTB_TIMEDELTA", "1"
)  # PTB 23 behaviour: RetryAfter.retry_after is a timedelta

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
DATA = Path(__file__).resolve().parent / "data"


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


# One engine for the whole run: building it loads the stemmer dictionary, stems every sample
# and trains the classifier (a few seconds). Its stem cache is kept in CACHE so that `ukkbot`
# subprocesses can start from it (seed_cache) instead of stemming again.
_CACHE = tempfile.TemporaryDirectory(prefix="ukkbot-cache-")
CACHE = Path(_CACHE.name)
ENGINE = Understanding(load_content(CONTENT_DIR), cache_dir=CACHE)


def seed_cache(data_dir: Path) -> None:
    """Give a `ukkbot` subprocess whose data folder is `data_dir` the engine's caches."""
    shutil.copytree(CACHE, data_dir, dirs_exist_ok=True)


@pytest.fixture(scope="session")
def content() -> Content:
    return ENGINE.content


@pytest.fixture(scope="session")
def understanding() -> Understanding:
    return ENGINE


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC))  # Monday 09.00 WIB


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every migration applied, made once: each test's store starts
    from a copy instead of running the migrations again (most of a small test's time)."""
    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"

    async def migrate() -> None:
        await (await Store.open(path)).close()

    asyncio.run(migrate())
    return path


@pytest.fixture
async def store(tmp_path: Path, clock: FixedClock, migrated_database: Path) -> AsyncIterator[Store]:
    path = tmp_path / "bot.sqlite3"
    shutil.copyfile(migrated_database, path)
    db = await Store.open(path, clock=clock)
    yield db
    await db.close()


@pytest.fixture
def services(content: Content, store: Store, understanding: Understanding) -> Services:
    return Services(content=content, store=store, understanding=understanding)


@pytest.fixture
def assistant(services: Services) -> Assistant:
    return Assistant(services)


class Chat:
    """A collecting channel: one person talking to the assistant, with the role the channel
    gave them (staff are found in the store by the assistant itself)."""

    def __init__(
        self,
        assistant: Assistant,
        user: str = "u1",
        lang_hint: str | None = None,
        role: Role = "resident",
    ) -> None:
        self.assistant = assistant
        self.user = user
        self.lang_hint = lang_hint
        self.role: Role = role

    def incoming(self, text: str | None = None, action: str | None = None) -> Incoming:
        return Incoming(
            "test", self.user, self.user, text=text, action=action, lang_hint=self.lang_hint,
            role=self.role,
        )  # fmt: skip

    async def say(self, text: str) -> list[Reply]:
        return (await self.assistant.handle(self.incoming(text=text))).replies

    async def tap(self, action: str) -> list[Reply]:
        return (await self.assistant.handle(self.incoming(action=action))).replies


@pytest.fixture
def chat(assistant: Assistant) -> Chat:
    return Chat(assistant)


@pytest.fixture
def admin(assistant: Assistant) -> Chat:
    return Chat(assistant, "100", role="admin")


@pytest.fixture
async def officer(assistant: Assistant, admin: Chat) -> Chat:
    await admin.say("/staf tambah 200")
    return Chat(assistant, "200")


@pytest.fixture
def resident(assistant: Assistant) -> Chat:
    return Chat(assistant, "300")


async def audit(store: Store) -> list[tuple[str, str, str]]:
    """Who did what, and how it ended, in the order it happened."""
    async with store.db.execute("SELECT user_key, action, outcome FROM audit ORDER BY id") as cur:
        return [(row[0], row[1], row[2]) for row in await cur.fetchall()]


def option_ids(replies: list[Reply]) -> list[str]:
    return [option.id for reply in replies for option in reply.options]


def all_text(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)
