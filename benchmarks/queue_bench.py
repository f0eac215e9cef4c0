"""Queue speed: status reads per second with 1 and 50 concurrent readers, and /panggil latency
(p50/p99) while 50 readers keep reading. Run: `python -m benchmarks.queue_bench`.

A status read asks the store whether anything changed since the last read (one query) and loads
the board afresh only when it did; the third figure is the read rate while every call forces
that reload.

Target on 2 cores: at least 2,000 reads/s and p99 of /panggil under 20 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bot.assistant import Assistant
from bot.content import load_content
from bot.context import Services
from bot.core import Incoming
from bot.queue.state import CallNext
from bot.queue_desk import Actor, QueueDesk
from bot.store import Store
from bot.understanding import Understanding

ROOT = Path(__file__).resolve().parent.parent
READS_PER_READER = 400
READERS = 50
CALLS = 300


async def read_rate(desk: QueueDesk, readers: int, reads_each: int) -> float:
    """Board reads per second with `readers` tasks reading at once."""

    async def reader() -> None:
        for _ in range(reads_each):
            await desk.board()

    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(readers)))
    return readers * reads_each / (time.perf_counter() - started)


async def call_latencies(assistant: Assistant, desk: QueueDesk) -> tuple[list[float], float]:
    """Milliseconds per `/panggil A` through the assistant while READERS tasks read, and the
    reads per second meanwhile (each call makes the next read load the board afresh)."""
    stop = asyncio.Event()
    reads = 0

    async def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            await desk.board()
            reads += 1

    readers = [asyncio.create_task(reader()) for _ in range(READERS)]
    await asyncio.sleep(0)  # let the readers start before the first call
    latencies: list[float] = []
    call = Incoming("bench", "staff-1", "staff-1", text="/panggil A", role="admin")
    begun = time.perf_counter()
    for _ in range(CALLS):
        started = time.perf_counter()
        await assistant.handle(call)
        latencies.append((time.perf_counter() - started) * 1000)
    stop.set()
    await asyncio.gather(*readers)
    return latencies, reads / (time.perf_counter() - begun)


async def main() -> None:
    content = load_content(ROOT / "content")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "bench.sqlite3")
        services = Services(content, store, Understanding(content))
        desk = services.queue_desk()
        for service in content.queue.letters:  # a morning's worth of history
            for _ in range(40):
                await desk.change(service, CallNext(), Actor("bench", "seed"), "seed")
        one = await read_rate(desk, 1, READS_PER_READER * 5)
        many = await read_rate(desk, READERS, READS_PER_READER)
        latencies, busy = await call_latencies(Assistant(services), desk)
        await store.close()
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"status reads/s, 1 reader:    {one:8.0f}")
    print(f"status reads/s, {READERS} readers:  {many:8.0f}")
    print(f"status reads/s, {READERS} readers while /panggil runs: {busy:8.0f}")
    print(f"/panggil while {READERS} read: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({CALLS} calls)")
    print("target (2 cores): >= 2000 reads/s, p99 < 20 ms")


if __name__ == "__main__":
    asyncio.run(main())
