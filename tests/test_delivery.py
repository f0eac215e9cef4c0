"""Delivery guarantees under faults (issue 13): urgent before bulk, a chat's order kept through
retries, no second copy of a send that may have arrived, a loud and early start-up failure,
channels that start on their own, and answers that need no write."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from bot.app import App, build_app, build_http
from bot.channels import Connectors
from bot.config import load_settings
from bot.core import Reply
from bot.outbox import (
    FIRST_BACKOFF,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    POLL_SECONDS,
    Blocked,
    OutboxWorker,
    Undeliverable,
)
from bot.store import Store, StoreError
from bot.store.outbox import BULK, URGENT, enqueue
from tests.conftest import CONTENT_DIR, ENGINE, ROOT, FixedClock, seed_cache
from tests.fake_telegram import FakeBotApi, retry_after, timed_out
from tests.fake_whatsapp import FakeGraphApi, payload
from tests.test_telegram import make_harness as telegram_harness
from tests.test_whatsapp import PERSON
from tests.test_whatsapp import make_harness as whatsapp_harness

HELLO = [Reply("halo")]


class Sender:
    """A stand-in channel: records (chat, text); chats in `failing` fail their next send like a
    server error; `on_send` is set after each send."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failing = failing or set()
        self.on_send = asyncio.Event()

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        await asyncio.sleep(0)  # a real call gives the loop back
        if chat_key in self.failing:
            self.failing.discard(chat_key)
            raise ConnectionError("HTTP 500")
        self.sent.append((chat_key, replies[0].text))
        self.on_send.set()


async def put(store: Store, key: str, chat: str, text: str = "halo", bulk: bool = False) -> None:
    async with store.transaction() as db:
        if bulk:
            await enqueue(db, key, "test", chat, [Reply(text)], store.clock(), priority=BULK)
        else:
            await enqueue(db, key, "test", chat, [Reply(text)], store.clock())


async def outcomes(store: Store) -> dict[str, str | None]:
    rows = await store.db.execute_fetchall("SELECT key, outcome FROM outbox")
    return {row["key"]: row["outcome"] for row in rows}


# --- priorities -----------------------------------------------------------------------------


async def test_a_reminder_goes_before_a_broadcast_already_waiting(store: Store) -> None:
    for i in range(50):
        await put(store, f"ann:1:test:c{i}", f"c{i}", bulk=True)
    await put(store, "queue-alert:1", "resident", "A-010 sebentar lagi")
    sender = Sender()
    await OutboxWorker(store, {"test": sender}, in_flight=1).drain()
    assert sender.sent[0] == ("resident", "A-010 sebentar lagi") and len(sender.sent) == 51


async def test_a_reminder_written_while_a_broadcast_drains_overtakes_the_rest(
    store: Store,
) -> None:
    for i in range(100):
        await put(store, f"ann:1:test:c{i}", f"c{i}", bulk=True)
    sender = Sender()
    worker = OutboxWorker(store, {"test": sender}, in_flight=2)

    original = sender.send

    async def send_and_remind(chat_key: str, replies: list[Reply], /) -> None:
        await original(chat_key, replies)
        if len(sender.sent) == 10:
            await put(store, "queue-alert:1", "resident", "reminder")

    sender.send = send_and_remind  # type: ignore[method-assign]
    await worker.drain()
    chats = [chat for chat, _ in sender.sent]
    assert "resident" in chats[10:13]  # after at most the sends already under way


async def test_an_urgent_message_takes_its_chats_earlier_broadcast_along(store: Store) -> None:
    for i in range(30):
        await put(store, f"ann:1:test:c{i}", f"c{i}", f"ann {i}", bulk=True)
    await put(store, "handover:1:1", "c29", "officer answer")
    sender = Sender()
    await OutboxWorker(store, {"test": sender}, in_flight=1).drain()
    assert sender.sent[:2] == [("c29", "ann 29"), ("c29", "officer answer")]


# --- per-chat order and backoff -------------------------------------------------------------


async def test_a_later_message_waits_while_an_earlier_one_waits_for_its_retry(
    store: Store, clock: FixedClock
) -> None:
    await put(store, "handover:1:1", "chat-1", "first")
    await put(store, "handover:1:2", "chat-1", "second")
    await put(store, "handover:2:1", "chat-2", "other chat")
    sender = Sender(failing={"chat-1"})
    worker = OutboxWorker(store, {"test": sender})
    assert await worker.drain() == 1 and sender.sent == [("chat-2", "other chat")]
    clock.now += FIRST_BACKOFF
    assert await worker.drain() == 2
    assert sender.sent[1:] == [("chat-1", "first"), ("chat-1", "second")]


async def test_the_running_worker_wakes_for_a_retry_when_its_backoff_ends(
    store: Store, clock: FixedClock
) -> None:
    await put(store, "queue-alert:1", "chat-1")
    sender = Sender(failing={"chat-1"})
    worker = OutboxWorker(store, {"test": sender})
    assert await worker.drain() == 0
    sender.on_send.clear()
    running = asyncio.create_task(worker.run())
    for _ in range(20):
        await asyncio.sleep(0)  # the worker finds nothing due and waits for the backoff
    clock.now += FIRST_BACKOFF
    try:
        # 2 s of real time pass here (the backoff). The guard is generous for a loaded machine
        # but below the 30 s poll, which it rules out (a row falling due between the worker's
        # two looks at the table once made it sleep the whole poll).
        await asyncio.wait_for(sender.on_send.wait(), POLL_SECONDS - 10)
    finally:
        running.cancel()
    assert sender.sent == [("chat-1", "halo")]


class Unreachable(Undeliverable):
    """A channel that can never deliver to this chat (like WhatsApp's closed window)."""


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(Unreachable, "skipped"), (httpx.ReadTimeout, "unconfirmed"), (Blocked, "failed")],
)
async def test_a_send_that_ends_the_row_without_delivering_records_why_and_counts_nothing(
    store: Store, error: type[Exception], outcome: str
) -> None:
    await put(store, "queue-alert:1", "chat-1")

    class Refusing(Sender):
        async def send(self, chat_key: str, replies: list[Reply], /) -> None:
            raise error("no")

    worker = OutboxWorker(store, {"test": Refusing()})
    assert await worker.drain() == 0
    rows = await store.db.execute_fetchall("SELECT attempts, last_error, outcome FROM outbox")
    assert [tuple(row) for row in rows] == [(1, error.__name__, outcome)]
    assert await worker.drain() == 0  # never tried again


async def test_draining_stops_with_the_error_when_a_failed_attempt_cannot_be_recorded(
    store: Store,
) -> None:
    await put(store, "queue-alert:1", "chat-1")
    await store.db.execute("PRAGMA query_only=ON")  # the disk is full
    sender = Sender(failing={"chat-1"})
    with pytest.raises(sqlite3.OperationalError):
        await OutboxWorker(store, {"test": sender}).drain()
    assert sender.sent == []  # at once: not after trying the row again


async def test_each_retry_waits_twice_as_long_and_the_fifth_failure_is_final(
    store: Store, clock: FixedClock
) -> None:
    await put(store, "queue-alert:1", "chat-1")

    class Down(Sender):
        async def send(self, chat_key: str, replies: list[Reply], /) -> None:
            raise ConnectionError("HTTP 500")

    def retries() -> float | None:
        return REGISTRY.get_sample_value(
            "ukkbot_outbox_sends_total", {"channel": "test", "result": "retry"}
        )

    counted = retries() or 0.0
    worker = OutboxWorker(store, {"test": Down()})
    waits = []
    for _ in range(MAX_ATTEMPTS):
        await worker.drain()
        [row] = await store.db.execute_fetchall("SELECT not_before, outcome FROM outbox")
        if row["not_before"] is None:
            break
        wait = dt.datetime.fromisoformat(row["not_before"]) - clock.now
        waits.append(wait.total_seconds())
        clock.now += wait
    assert waits == [2.0, 4.0, 8.0, 16.0]
    assert row["outcome"] == "failed"  # and no backoff left on it
    assert retries() == counted + 4


# --- at most once ---------------------------------------------------------------------------


async def test_a_sent_message_whose_mark_could_not_be_written_is_not_sent_again(
    store: Store,
) -> None:
    await put(store, "queue-alert:1", "chat-1")
    sender = Sender()
    deliver = sender.send

    async def send_then_disk_full(chat_key: str, replies: list[Reply], /) -> None:
        await deliver(chat_key, replies)
        await store.db.execute("PRAGMA query_only=ON")  # the "sent" mark will be refused

    sender.send = send_then_disk_full  # type: ignore[method-assign]
    worker = OutboxWorker(store, {"test": sender})
    with pytest.raises(sqlite3.OperationalError):
        await worker.drain()
    await store.db.execute("PRAGMA query_only=OFF")
    assert await worker.drain() == 0  # marks it now, sends nothing
    assert sender.sent == [("chat-1", "halo")]
    assert await outcomes(store) == {"queue-alert:1": "sent"}


@pytest.mark.parametrize(
    ("went_out", "outcome", "calls"), [(True, "unconfirmed", 1), (False, "sent", 2)]
)
async def test_a_telegram_send_that_timed_out_after_leaving_is_not_sent_again(
    tmp_path: Path, clock: FixedClock, went_out: bool, outcome: str, calls: int
) -> None:
    tg = await telegram_harness(tmp_path / "t.sqlite3", clock)
    store = tg.app.services.store
    try:
        async with store.transaction() as db:
            await enqueue(db, "queue-alert:1", "telegram", "7", HELLO, clock.now)
        tg.api.raise_next["sendMessage"] = [timed_out(sent=went_out)]
        worker = tg.app.outbox_worker()
        await worker.drain()
        clock.now += MAX_BACKOFF
        await worker.drain()
        assert len(tg.api.sent()) == calls
        assert await outcomes(store) == {"queue-alert:1": outcome}
    finally:
        await tg.app.close()


@pytest.mark.parametrize(
    ("error", "outcome", "calls"),
    [(httpx.ReadTimeout, "unconfirmed", 1), (httpx.ConnectError, "sent", 2)],
)
async def test_a_whatsapp_send_that_may_have_arrived_is_not_sent_again(
    tmp_path: Path, clock: FixedClock, error: type[httpx.TransportError], outcome: str, calls: int
) -> None:
    wa = await whatsapp_harness(tmp_path / "w.sqlite3", clock)
    store = wa.app.services.store
    try:
        await wa.post(payload("image"))  # the person wrote: their window is open
        wa.graph.requests.clear()
        async with store.transaction() as db:
            await enqueue(db, "queue-alert:1", "whatsapp", PERSON, HELLO, clock.now)
        wa.graph.raise_next = [error]
        worker = wa.app.outbox_worker()
        await worker.drain()
        clock.now += MAX_BACKOFF
        await worker.drain()
        assert len(wa.graph.requests) == calls
        assert await outcomes(store) == {"queue-alert:1": outcome}
    finally:
        await wa.close()


async def test_a_whatsapp_answer_that_timed_out_is_not_queued_for_resending(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(raise_next=[httpx.ReadTimeout])
    wa = await whatsapp_harness(tmp_path / "w.sqlite3", clock, graph)
    try:
        await wa.post(payload("text"))
        assert await outcomes(wa.app.services.store) == {}
    finally:
        await wa.close()


# --- rate and 429 ---------------------------------------------------------------------------


async def test_a_429_is_one_warning_with_the_wait_and_no_error(
    tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    tg = await telegram_harness(tmp_path / "t.sqlite3", clock, BROADCAST_RATE="80")
    try:
        async with tg.app.services.store.transaction() as db:
            await enqueue(db, "queue-alert:1", "telegram", "7", HELLO, clock.now)
        tg.api.fail_next["sendMessage"] = [retry_after(3)]
        caplog.set_level(logging.INFO)
        assert await tg.app.outbox_worker().drain() == 1
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            "telegram: 429 Too Many Requests, waiting 3 s"
        ]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        # No PTB limiter under ours: it would hold Telegram to 30 a second whatever the setting.
        assert tg.channel.application.bot.rate_limiter is None
        assert tg.app.outbox_worker().limiters["telegram"].interval == pytest.approx(1 / 80)
    finally:
        await tg.app.close()


# --- start-up -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def run_bot(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    seed_cache(folder / "data")
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CONTENT_DIR": str(CONTENT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=base | {"HTTP_PORT": str(free_port())} | env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=30,  # a start-up that hangs fails the test here
    )


@pytest.mark.subprocess
def test_a_corrupt_database_ends_start_up_with_one_line(tmp_path: Path) -> None:
    database = tmp_path / "bad.sqlite3"
    database.write_bytes(b"this is not a database" * 100)
    result = run_bot(tmp_path, DATABASE_PATH=str(database))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ukkbot: cannot start: DATABASE_PATH:") and "not a database" in line


@pytest.mark.subprocess
def test_a_database_folder_that_cannot_be_written_ends_start_up(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DATABASE_PATH="/proc/ukkbot/bot.sqlite3")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ukkbot: cannot start: DATABASE_PATH: /proc/ukkbot/bot.sqlite3")


@pytest.mark.subprocess
def test_a_port_in_use_ends_start_up_before_anything_opens(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_bot(tmp_path, HTTP_PORT=str(port), DATABASE_PATH=str(tmp_path / "db"))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ukkbot: cannot start: HTTP_PORT: cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "db").exists()  # nothing was opened


@pytest.mark.subprocess
def test_bad_content_ends_start_up_with_exit_code_2(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "office.yaml").write_text("name: [", encoding="utf-8")
    result = run_bot(tmp_path, CONTENT_DIR=str(content))
    assert result.returncode == 2 and "ukkbot: the content has faults" in result.stderr


def test_the_delivery_migration_keeps_a_version_8_outbox_and_classes_its_rows(
    tmp_path: Path, clock: FixedClock
) -> None:
    """009 runs after 007/008 (survey, notice kinds) and rebuilds the outbox: every row stays,
    broadcasts and survey invitations become BULK, reminders and answers URGENT."""
    database = tmp_path / "v8.sqlite3"
    folder = ROOT / "bot" / "store" / "migrations"
    with sqlite3.connect(database) as db:
        for script in sorted(folder.glob("00[1-8]_*.sql")):
            db.executescript(script.read_text(encoding="utf-8"))
        db.execute("PRAGMA user_version=8")
        for key in ("ann:1:test:7", "skm-offer:test:7:2026-11-30", "expiry:1:0", "handover:1:1"):
            db.execute(
                "INSERT INTO outbox (key, channel, chat_key, replies, created_at) "
                "VALUES (?, 'test', '7', '[]', '2026-11-30T00:00:00+00:00')",
                (key,),
            )
    db.close()

    async def migrate() -> dict[str, int]:
        store = await Store.open(database, clock=clock)
        rows = await store.db.execute_fetchall("SELECT key, priority FROM outbox")
        [version] = await store.db.execute_fetchall("PRAGMA user_version")
        await store.close()
        assert version[0] == 9
        return {row["key"]: row["priority"] for row in rows}

    assert asyncio.run(migrate()) == {
        "ann:1:test:7": BULK,
        "skm-offer:test:7:2026-11-30": BULK,
        "expiry:1:0": URGENT,
        "handover:1:1": URGENT,
    }


async def test_a_database_that_fails_to_open_leaves_no_thread_behind(tmp_path: Path) -> None:
    database = tmp_path / "bad.sqlite3"
    database.write_bytes(b"garbage" * 1000)
    before = set(threading.enumerate())
    with pytest.raises(StoreError, match="not a database"):
        await Store.open(database)
    # The connection's thread ends (it may take a moment on a loaded machine; one left
    # running would never end and keep the process alive).
    started = set(threading.enumerate()) - before
    for thread in started:
        thread.join(timeout=10)
    assert not [thread for thread in started if thread.is_alive()]


# --- channels independent, degrade, health --------------------------------------------------


@pytest.fixture
async def web_app(
    tmp_path: Path, clock: FixedClock
) -> AsyncIterator[tuple[App, httpx.AsyncClient]]:
    settings = load_settings(DATABASE_PATH=tmp_path / "h.sqlite3", CONTENT_DIR=CONTENT_DIR)
    app = await build_app(settings, clock=clock, understanding=ENGINE)
    await app.start()
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield app, client
    await app.close()


async def ask(client: httpx.AsyncClient, text: str = "syarat paspor baru") -> str:
    response = await client.post("/api/chat", json={"session": "session-1", "text": text})
    assert response.status_code == 200
    return "\n".join(reply["text"] for reply in response.json()["replies"])


async def test_telegram_down_at_start_is_retried_while_the_web_chat_serves(
    tmp_path: Path, clock: FixedClock
) -> None:
    api = FakeBotApi(raise_next={"getMe": [timed_out(sent=False)]})
    retry = asyncio.Event()

    async def wait_for_test(seconds: float) -> None:
        await retry.wait()

    settings = load_settings(
        TELEGRAM_BOT_TOKEN="123:ABC",
        TELEGRAM_WEBHOOK_URL="https://bot.example/webhooks/telegram",
        TELEGRAM_WEBHOOK_SECRET="s3cret",
        DATABASE_PATH=tmp_path / "c.sqlite3",
        CONTENT_DIR=CONTENT_DIR,
    )
    connectors = Connectors(telegram_request=api, sleep=wait_for_test)
    app = await build_app(settings, clock=clock, understanding=ENGINE, connectors=connectors)
    try:
        await app.start()
        assert app.states == {"web": "up", "telegram": "retrying (NetworkError)"}
        assert "telegram" not in app.senders  # its messages wait instead of failing
        transport = httpx.ASGITransport(app=build_http(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert "paspor" in (await ask(client)).lower()
            health = (await client.get("/healthz")).json()
            assert health["channels"]["telegram"] == "retrying (NetworkError)"
            assert health["status"] == "degraded"
            retry.set()
            for _ in range(500):  # a guard (5 s at most), not a pause: the start reads the store
                await asyncio.sleep(0.01)
                if app.states["telegram"] == "up":
                    break
            assert app.states["telegram"] == "up" and "telegram" in app.senders
            assert (await client.get("/healthz")).json()["status"] == "ok"
    finally:
        await app.close()


async def test_a_database_that_refuses_writes_still_answers_and_health_says_so(
    web_app: tuple[App, httpx.AsyncClient], content: object, caplog: pytest.LogCaptureFixture
) -> None:
    app, client = web_app
    await app.services.store.db.execute("PRAGMA query_only=ON")  # every write now fails
    answer = await ask(client)
    assert "paspor" in answer.lower()
    assert answer != app.services.content.t("error", "id")
    await app.services.bookkeeping.flush()
    assert any("bookkeeping: " in r.getMessage() for r in caplog.records)
    response = await client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error"
    await app.services.store.db.execute("PRAGMA query_only=OFF")


async def test_health_answers_within_a_second_while_another_process_writes(
    web_app: tuple[App, httpx.AsyncClient], tmp_path: Path
) -> None:
    _, client = web_app
    other = sqlite3.connect(tmp_path / "h.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, like a backup or a second process
    try:
        started = time.perf_counter()
        response = await client.get("/healthz")
        assert time.perf_counter() - started < 1.0
        assert response.status_code == 503 and response.json()["database"] == "busy"
        assert "paspor" in (await ask(client)).lower()  # answering waits for no write
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_health_sees_a_deleted_database_and_a_full_disk(
    web_app: tuple[App, httpx.AsyncClient], tmp_path: Path
) -> None:
    app, client = web_app
    assert (await client.get("/healthz")).status_code == 200
    app.disk_free = lambda folder: 10 * 2**20
    body = (await client.get("/healthz")).json()
    assert body["disk"] == {"state": "low", "free_mib": 10} and body["status"] == "degraded"
    app.disk_free = lambda folder: 2**40
    (tmp_path / "h.sqlite3").unlink()
    response = await client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "gone"


# --- writing less ---------------------------------------------------------------------------


async def test_a_person_is_touched_at_most_once_a_minute(
    web_app: tuple[App, httpx.AsyncClient], clock: FixedClock
) -> None:
    app, client = web_app
    store = app.services.store
    first = clock.now
    for _ in range(3):
        await ask(client, "halo")
        clock.now += FIRST_BACKOFF  # 2 s apart
    await app.services.bookkeeping.flush()
    [row] = await store.db.execute_fetchall("SELECT first_seen, last_seen FROM users")
    assert tuple(row) == (first.isoformat(), first.isoformat())
    clock.now = first + 61 * FIRST_BACKOFF / 2
    await ask(client, "halo")
    await app.services.bookkeeping.flush()
    [row] = await store.db.execute_fetchall("SELECT last_seen FROM users")
    assert row[0] == clock.now.isoformat()
