"""Speed and memory of the understanding engine.

    python -m benchmarks.speed

Prints: engine build time from scratch (classifier trained, stems computed) and with the stem
cache, per-question latency in process (median, p99) over every
question of the benchmark files repeated, peak memory (tracemalloc), the wall time of
`ukkbot ask --batch` on 10,000 lines, of a cold `ukkbot ask "…"`, and of a first `ukkbot run`
with an empty data folder until /healthz answers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path

from benchmarks.accuracy import CONTENT, load_rows
from bot.content import load_content
from bot.understanding import Understanding

BATCH_LINES = 10_000
ROUNDS = 5
HEALTH_PORT = 18_931
HEALTH_TIMEOUT = 60.0


def _first_run_to_healthz(ukkbot: str) -> float:
    """Seconds from starting `ukkbot run` with an empty data folder to /healthz answering."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DATABASE_PATH": str(Path(folder) / "ukkbot.sqlite3"),
            "HTTP_PORT": str(HEALTH_PORT),
            "TELEGRAM_BOT_TOKEN": "",
            "WHATSAPP_ACCESS_TOKEN": "",
        }
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [ukkbot, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            while time.perf_counter() - t0 < HEALTH_TIMEOUT:
                try:
                    url = f"http://127.0.0.1:{HEALTH_PORT}/healthz"
                    with urllib.request.urlopen(url, timeout=1):
                        return time.perf_counter() - t0
                except OSError:
                    time.sleep(0.05)
            raise RuntimeError("ukkbot run did not answer /healthz")
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    questions = [row.question for row in load_rows()]
    content = load_content(CONTENT)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        Understanding(content, cache_dir=Path(folder))
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine = Understanding(content, cache_dir=Path(folder))
        warm = time.perf_counter() - t0
    print(f"engine build from scratch (stems computed, classifier trained): {cold:.2f} s")
    print(f"engine build with the stem cache (classifier trained): {warm:.2f} s")
    tracemalloc.start()
    for question in questions:
        engine.analyse(question)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()  # it slows every allocation: time the queries without it
    timings: list[float] = []
    for _ in range(ROUNDS):
        for question in questions:
            t0_ns = time.perf_counter_ns()
            engine.analyse(question)
            timings.append((time.perf_counter_ns() - t0_ns) / 1e6)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    median = statistics.median(timings)
    print(f"latency per question ({len(timings)} runs): median {median:.3f} ms, p99 {p99:.3f} ms")
    print(f"peak traced memory, queries: {peak / 2**20:.1f} MiB")

    ukkbot = str(Path(sys.executable).with_name("ukkbot"))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for i in range(BATCH_LINES):
            f.write(questions[i % len(questions)] + "\n")
    t0 = time.perf_counter()
    subprocess.run(
        [ukkbot, "ask", "--json", "--batch", f.name], check=True, stdout=subprocess.DEVNULL
    )
    print(f"ukkbot ask --json --batch ({BATCH_LINES} lines): {time.perf_counter() - t0:.2f} s wall")
    for _ in range(3):  # the batch run above left the stem cache in data/
        t0 = time.perf_counter()
        subprocess.run([ukkbot, "ask", "syarat paspor baru"], check=True, stdout=subprocess.DEVNULL)
        print(f"cold ukkbot ask: {time.perf_counter() - t0:.2f} s wall")
    for _ in range(3):
        seconds = _first_run_to_healthz(ukkbot)
        print(f"first ukkbot run, empty data folder, to /healthz: {seconds:.2f} s")


if __name__ == "__main__":
    main()
