"""Broadcast speed and memory: an announcement to 1,000 and 10,000 subscribers through the real
outbox, worker and rate limiter (real clock, real sleeps) into a fake transport that only
counts. Run: `python -m benchmarks.broadcast_bench`.

Targets: the drain takes recipients ÷ rate within 5 %, and the peak traced memory does not grow
with the number of recipients (rows are read 100 at a time; the broadcast rows are written by
one INSERT … SELECT, so no subscriber list is ever held in memory).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from bot.broadcast import BroadcastHook, publish
from bot.content import Content, load_content
from bot.core import Reply
from bot.outbox import OutboxWorker, RateLimiter
from bot.store import Store, announcements

ROOT = Path(__file__).resolve().parent.parent
RATE = 1000.0  # messages a second: high, so 10,000 recipients take seconds (about half of
# what the worker manages unthrottled here, one committed transaction per message)
SIZES = (1_000, 10_000)
TOLERANCE = 0.05
CHANNEL = "bench"
CREATOR = "staff-1"


class CountingSender:
    """A transport that accepts everything and keeps only a count (and the last chat)."""

    def __init__(self) -> None:
        self.count = 0
        self.last = ""

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        self.count += 1
        self.last = chat_key


@dataclass(frozen=True)
class Result:
    recipients: int
    seconds: float
    peak_mib: float

    @property
    def expected(self) -> float:
        return self.recipients / RATE


async def subscribe(store: Store, count: int) -> None:
    now = store.clock().isoformat(timespec="seconds")
    async with store.transaction() as db:
        await db.executemany(
            "INSERT INTO subscriptions (channel, chat_key, language, active, changed_at) "
            "VALUES (?, ?, ?, 1, ?)",
            ((CHANNEL, f"chat-{i:06d}", "en" if i % 4 == 0 else "id", now) for i in range(count)),
        )


async def run(content: Content, count: int, folder: Path, traced: bool) -> tuple[float, int]:
    """Broadcast to `count` subscribers: seconds to drain, or with `traced` the peak traced
    memory in bytes (tracing slows Python down, so time and memory are separate runs)."""
    store = await Store.open(folder / f"bench-{count}-{traced}.sqlite3")
    try:
        await subscribe(store, count)
        if traced:
            tracemalloc.start()
        draft = announcements.Draft(
            "confirm", "Kantor tutup pada 1 Desember.", "Closed on 1 December."
        )
        async with store.transaction() as db:
            announcement_id = await announcements.add_announcement(
                db, draft, CHANNEL, CREATOR, CREATOR, store.clock()
            )
            announcement = await announcements.get_announcement(db, announcement_id)
            assert announcement is not None
            await publish(db, content, announcement, frozenset({CHANNEL}), store.clock)
        sender = CountingSender()
        worker = OutboxWorker(
            store,
            {CHANNEL: sender},
            limiters={CHANNEL: RateLimiter(RATE)},
            on_done=BroadcastHook(content, store.clock),
        )
        started = time.perf_counter()
        await worker.drain()
        seconds = time.perf_counter() - started
        peak = 0
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        progress = await announcements.broadcast_progress(store.db, announcement_id)
        assert sender.count == count + 1 and sender.last == CREATOR  # everyone, then the summary
        assert progress["sent"] == count
        return seconds, peak
    finally:
        await store.close()


async def main() -> None:
    content = load_content(ROOT / "content")
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for count in SIZES:
            seconds, _ = await run(content, count, Path(folder), traced=False)
            _, peak = await run(content, count, Path(folder), traced=True)
            results.append(Result(count, seconds, peak / 2**20))
    print(f"rate limit {RATE:,.0f} messages/s; fake transport; real clock and sleeps")
    for r in results:
        off = r.seconds / r.expected - 1
        verdict = "ok" if abs(off) <= TOLERANCE else "OUTSIDE 5 %"
        print(
            f"{r.recipients:>7,} recipients: {r.seconds:6.2f} s (expected {r.expected:.2f} s, "
            f"{off:+.1%}, {verdict}); each sent once; "
            f"peak traced memory {r.peak_mib:.2f} MiB"
        )
    small, large = results[0].peak_mib, results[-1].peak_mib
    print(f"memory: peak at {SIZES[-1]:,} is {large / small:.2f}× the peak at {SIZES[0]:,}")


if __name__ == "__main__":
    asyncio.run(main())
