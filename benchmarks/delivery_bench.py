"""Delivery guarantees, measured (issue 13). Run: `python -m benchmarks.delivery_bench [PART…]`
(parts: reminder, order, web, rate; default all).

1. Reminder delay: a 10,000-recipient broadcast drains at BROADCAST_RATE=25 through the real
   worker and rate limiter (real clock, a stand-in channel taking 20 ms a call); reminders are
   written meanwhile, as a queue call would. Target: each goes out within 2 s.
2. Per-chat order: 1,000 chats × 3 messages, one send in five failing (a 500); the store's
   clock is moved past each backoff. Target: 0 inversions (a chat getting a later message
   before an earlier one).
3. Web chat load: `ukkbot run` in its own process, 200 sessions at once × 20 messages each
   through POST /api/chat over one keep-alive connection each, each session sending its next
   message when the answer came (and again with 0.5 s and 2 s between a session's messages).
   Target: p99 ≤ 500 ms, 0 errors.
4. Broadcast rate through the real Telegram channel (python-telegram-bot, a stand-in Bot API
   answering at once) at BROADCAST_RATE=25 and =80. Target: within 5 % of the setting.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bot.app import build_app, build_http
from bot.channels import Connectors
from bot.config import load_settings
from bot.content import load_content
from bot.core import Reply
from bot.outbox import OutboxWorker, RateLimiter
from bot.store import Store
from bot.store.outbox import BULK, enqueue
from bot.understanding import Understanding
from tests.fake_telegram import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
HELLO = [Reply("Kantor tutup pada 1 Desember.")]


class SlowChannel:
    """Accepts everything after `latency` seconds; notes when each chat got its messages."""

    def __init__(self, latency: float = 0.02, failure_rate: float = 0.0) -> None:
        self.latency = latency
        self.failure_rate = failure_rate
        self.random = random.Random(13)
        self.at: dict[str, float] = {}
        self.order: dict[str, list[str]] = {}

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        await asyncio.sleep(self.latency)
        if self.random.random() < self.failure_rate:
            raise ConnectionError("HTTP 500")
        self.at[chat_key] = time.perf_counter()
        self.order.setdefault(chat_key, []).append(replies[0].text)


async def reminder_delay(folder: Path) -> list[float]:
    store = await Store.open(folder / "reminders.sqlite3")
    try:
        async with store.transaction() as db:
            for i in range(10_000):
                await enqueue(db, f"ann:1:b:{i}", "b", f"c{i}", HELLO, store.clock(), None, BULK)
        channel = SlowChannel()
        wake = asyncio.Event()
        worker = OutboxWorker(store, {"b": channel}, wake, limiters={"b": RateLimiter(25)})
        running = asyncio.create_task(worker.run())
        written: dict[str, float] = {}
        for n in range(10):
            await asyncio.sleep(1.5)
            async with store.transaction() as db:
                key = f"reminder-{n}"
                await enqueue(db, f"queue-alert:{n}", "b", key, [Reply("A-010")], store.clock())
            written[key] = time.perf_counter()
            wake.set()
        await asyncio.sleep(3)
        running.cancel()
        sent = len(channel.at) - len(written)
        print(f"   broadcast messages sent meanwhile: {sent} in ~18 s")
        return [channel.at.get(key, float("inf")) - at for key, at in written.items()]
    finally:
        await store.close()


class MovableClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def per_chat_order(folder: Path) -> tuple[int, int, int]:
    """Inversions, messages delivered, messages given up (after MAX_ATTEMPTS failures)."""
    clock = MovableClock()
    store = await Store.open(folder / "order.sqlite3", clock=clock)
    try:
        async with store.transaction() as db:
            for n in range(3):
                for chat in range(1000):
                    await enqueue(db, f"m:{chat}:{n}", "b", f"c{chat}", [Reply(str(n))], clock.now)
        channel = SlowChannel(latency=0, failure_rate=0.2)
        worker = OutboxWorker(store, {"b": channel})
        for _ in range(12):
            await worker.drain()
            clock.now += dt.timedelta(minutes=10)
        inversions = sum(
            sum(1 for a, b in itertools.pairwise(got) if int(a) > int(b))
            for got in channel.order.values()
        )
        rows = await store.db.execute_fetchall(
            "SELECT COUNT(*) FROM outbox WHERE outcome = 'failed'"
        )
        delivered = sum(len(got) for got in channel.order.values())
        return inversions, delivered, int(next(iter(rows))[0])
    finally:
        await store.close()


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


QUESTIONS = [
    "syarat paspor baru",
    "berapa biaya paspor elektronik",
    "jam buka kantor",
    "how do I extend my kitas",
    "paspor hilang gimana",
    "halo",
    "antrian A sampai mana",
    "resep rendang padang",
]


class KeepAliveSession:
    """One chat session as a browser holds it: one HTTP/1.1 keep-alive connection from its own
    loopback address. Raw asyncio streams, so that the load generator costs little CPU beside
    the server it measures (an httpx client per request cost more than the server's answer)."""

    def __init__(self, port: int, n: int) -> None:
        self.port = port
        self.n = n
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(
                "127.0.0.1", self.port, local_addr=(address(self.n), 0)
            )
        reader, writer = self.streams
        payload = json.dumps(body).encode()
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])  # type: ignore[index]
        return status, json.loads(await reader.readexactly(length))

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def web_load(folder: Path, think: float, sessions: int = 200, messages: int = 20) -> None:
    """`think`: seconds a session waits between an answer and its next message (0: at once,
    as the issue measured; people reading and typing take longer)."""
    port = free_port()
    data = folder / "web"
    env = os.environ | {
        "DATABASE_PATH": str(data / "web.sqlite3"),
        "CONTENT_DIR": str(ROOT / "content"),
        "HTTP_PORT": str(port),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latencies: list[float] = []
    errors = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):  # the engine trains on the first start: up to a minute
                try:
                    if (await client.get("/healthz")).status_code in (200, 503):
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)

        async def session(n: int) -> None:
            nonlocal errors
            await asyncio.sleep(think * n / sessions)  # sessions start spread out
            chat = KeepAliveSession(port, n)
            try:
                for i in range(messages):
                    if i:
                        await asyncio.sleep(think)
                    body = {"session": f"bench-session-{n:04d}", "text": QUESTIONS[(n + i) % 8]}
                    started = time.perf_counter()
                    try:
                        status, answer = await asyncio.wait_for(chat.post("/api/chat", body), 30)
                        ok = status == 200 and bool(answer["replies"])
                    except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                        ok = False
                        await chat.close()
                        chat = KeepAliveSession(port, n)
                    latencies.append(time.perf_counter() - started)
                    errors += not ok
            finally:
                await chat.close()

        cpu = cpu_seconds(server.pid)
        started = time.perf_counter()
        await asyncio.gather(*(session(n) for n in range(sessions)))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        server.terminate()
        await server.wait()
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"3. web chat, {sessions} sessions × {messages} messages, {think:g} s between a "
        f"session's messages: p50 {cuts[49] * 1000:.0f} ms, "
        f"p99 {cuts[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, {errors} errors, "
        f"{len(latencies) / wall:.0f} requests/s, server CPU {cpu / len(latencies) * 1000:.2f} "
        f"ms a message (target p99 ≤ 500 ms, 0 errors)"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux): what a message costs the server,
    whatever else the machine is doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def address(n: int) -> str:
    """Session n's own loopback address (all of 127.0.0.0/8 reaches this machine)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


async def web_in_process(
    folder: Path, engine: Understanding, sessions: int = 200, messages: int = 10
) -> None:
    """The same load on the app itself (httpx's ASGI transport, no HTTP server): what the
    code costs per message, without uvicorn and the network stack."""
    settings = load_settings(DATABASE_PATH=folder / "inproc.sqlite3", CONTENT_DIR=ROOT / "content")
    app = await build_app(settings, understanding=engine)
    latencies: list[float] = []
    http = build_http(app)
    try:

        async def session(n: int) -> None:
            # Each session from its own address: the web chat's per-address limit (README,
            # Operations) would otherwise refuse 200 people behind one address.
            transport = httpx.ASGITransport(app=http, client=(address(n), 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for i in range(messages):
                    body = {"session": f"bench-session-{n:04d}", "text": QUESTIONS[(n + i) % 8]}
                    started = time.perf_counter()
                    response = await client.post("/api/chat", json=body)
                    assert response.status_code == 200, response.status_code
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(session(n) for n in range(sessions)))
        wall = time.perf_counter() - started
    finally:
        await app.close()
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"3b. in process, {sessions} sessions × {messages} messages at once: "
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, "
        f"{len(latencies) / wall:.0f} requests/s"
    )


class TimedBotApi(FakeBotApi):
    """The stand-in Bot API, noting when each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/sendMessage"):
            self.times.append(time.perf_counter())
        return await super().do_request(url, method, *args, **kwargs)


async def telegram_rate(folder: Path, engine: Understanding, rate: float, count: int) -> float:
    api = TimedBotApi()
    settings = load_settings(
        TELEGRAM_BOT_TOKEN="123:ABC",
        DATABASE_PATH=folder / f"rate-{rate:.0f}.sqlite3",
        CONTENT_DIR=ROOT / "content",
        BROADCAST_RATE=str(rate),
    )
    app = await build_app(
        settings, understanding=engine, connectors=Connectors(telegram_request=api)
    )
    try:
        channel = app.channel("telegram")
        assert channel is not None
        await channel.application.initialize()  # type: ignore[attr-defined]
        store = app.services.store
        async with store.transaction() as db:
            for i in range(count):
                await enqueue(db, f"ann:1:t:{i}", "telegram", str(1000 + i), HELLO, store.clock())
        await app.outbox_worker().drain()
        assert len(api.times) == count
        return (count - 1) / (api.times[-1] - api.times[0])
    finally:
        await app.close()


PARTS = ("reminder", "order", "web", "rate")


async def main(parts: frozenset[str]) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if "reminder" in parts:
            delays = await reminder_delay(folder)
            print(
                f"1. reminder delay while a 10,000-recipient broadcast drains at 25/s: "
                f"max {max(delays):.2f} s, median {statistics.median(delays):.2f} s over "
                f"{len(delays)} reminders (target ≤ 2 s)"
            )
        if "order" in parts:
            inversions, delivered, given_up = await per_chat_order(folder)
            print(
                f"2. per-chat order, 1,000 chats × 3 messages, 20 % of sends failing: "
                f"{inversions} inversions, {delivered} delivered, {given_up} given up after "
                f"5 attempts (target 0 inversions)"
            )
        # Built here first, so the server process starts from its caches.
        engine = Understanding(load_content(ROOT / "content"), cache_dir=folder / "web")
        if "web" in parts:
            for think in (0.0, 0.5, 2.0):
                await web_load(folder, think)
            await web_in_process(folder, engine)
        if "rate" in parts:
            for rate, count in ((25.0, 500), (80.0, 1000)):
                achieved = await telegram_rate(folder, engine, rate, count)
                print(
                    f"4. Telegram broadcast at BROADCAST_RATE={rate:.0f}: {achieved:.1f}/s over "
                    f"{count} messages ({achieved / rate - 1:+.1%}; target within 5 %)"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Delivery guarantees, measured (issue 13).")
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    chosen = parser.parse_args().parts
    if set(chosen) - set(PARTS):
        parser.error(f"parts: choose from {', '.join(PARTS)}")
    asyncio.run(main(frozenset(chosen or PARTS)))
