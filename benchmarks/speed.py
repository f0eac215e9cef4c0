"""Speed and memory of the understanding engine.

    python -m benchmarks.speed

Prints: index build time, per-question latency in process (median, p99) over every question
of benchmarks/questions.tsv repeated, peak memory (tracemalloc during build + queries), the
wall time of `ukkbot ask --batch` on 10,000 lines and of a cold `ukkbot ask "…"`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.accuracy import CONTENT, load_rows
from bot.content import load_content
from bot.understanding import Understanding

BATCH_LINES = 10_000
ROUNDS = 5


def main() -> None:
    questions = [row.question for row in load_rows()]
    tracemalloc.start()
    content = load_content(CONTENT)
    start = time.perf_counter()
    engine = Understanding(content)
    build = time.perf_counter() - start
    for question in questions:
        engine.analyse(question)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()  # it slows every allocation: time the queries without it
    timings: list[float] = []
    for _ in range(ROUNDS):
        for question in questions:
            t0 = time.perf_counter_ns()
            engine.analyse(question)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"index build, classifier trained: {build * 1000:.0f} ms (with tracemalloc on)")
    with tempfile.TemporaryDirectory() as folder:
        Understanding(content, cache_dir=Path(folder))
        tracemalloc.start()
        t0 = time.perf_counter()
        cached = Understanding(content, cache_dir=Path(folder))
        warm = time.perf_counter() - t0
        for question in questions:
            cached.analyse(question)
        _, warm_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"index build from the caches (stems, classifier weights): {warm * 1000:.0f} ms")
    print(f"peak traced memory, build from the caches + queries: {warm_peak / 2**20:.1f} MiB")
    median = statistics.median(timings)
    print(f"latency per question ({len(timings)} runs): median {median:.3f} ms, p99 {p99:.3f} ms")
    print(f"peak traced memory, content + build with training + queries: {peak / 2**20:.1f} MiB")

    ukkbot = str(Path(sys.executable).with_name("ukkbot"))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for i in range(BATCH_LINES):
            f.write(questions[i % len(questions)] + "\n")
    t0 = time.perf_counter()
    subprocess.run(
        [ukkbot, "ask", "--json", "--batch", f.name], check=True, stdout=subprocess.DEVNULL
    )
    print(f"ukkbot ask --json --batch ({BATCH_LINES} lines): {time.perf_counter() - t0:.2f} s wall")
    for _ in range(3):  # the batch run above left the caches in data/
        t0 = time.perf_counter()
        subprocess.run([ukkbot, "ask", "syarat paspor baru"], check=True, stdout=subprocess.DEVNULL)
        print(f"cold ukkbot ask: {time.perf_counter() - t0:.2f} s wall")


if __name__ == "__main__":
    main()
