"""Speed and memory of the understanding engine.

    python -m benchmarks.speed

Prints: engine build time computing the index (as after a content edit: classifier trained) and
with the shipped stems and index, per-question latency in process (median, p99; wall and thread
CPU time) over every question of the benchmark files repeated, peak memory (tracemalloc), the
wall time of `ukkbot ask --batch` on 10,000 lines, of a cold `ukkbot ask "…"`, and of a first
`ukkbot run` with an empty data folder until /healthz answers.
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
from bot.content import Content, load_content
from bot.understanding import Understanding
from bot.understanding import engine as engine_module

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


def _build_computing_the_index(content: Content) -> float:
    """Seconds to build the engine without the shipped index, as after an edit of the sample
    questions: every sample tokenised (stems from the shipped file), the classifier trained
    (scikit-learn imported), the index kept in the data folder."""
    shipped = engine_module.SHIPPED_INDEX
    with tempfile.TemporaryDirectory() as folder:
        engine_module.SHIPPED_INDEX = Path(folder) / "none.npz"
        try:
            t0 = time.perf_counter()
            Understanding(content, cache_dir=Path(folder))
            return time.perf_counter() - t0
        finally:
            engine_module.SHIPPED_INDEX = shipped


def main() -> None:
    questions = [row.question for row in load_rows()]
    content = load_content(CONTENT)
    computed = _build_computing_the_index(content)
    print(f"engine build computing the index (training included): {computed:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        engine = Understanding(content, cache_dir=Path(folder))
        shipped = time.perf_counter() - t0
    print(f"engine build with the shipped stems and index: {shipped:.2f} s")
    tracemalloc.start()
    for question in questions:
        engine.analyse(question)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()  # it slows every allocation: time the queries without it
    timings: list[float] = []
    cpu: list[float] = []  # this thread's CPU time: what a shared machine's load does not add
    for _ in range(ROUNDS):
        for question in questions:
            t0_ns, c0_ns = time.perf_counter_ns(), time.thread_time_ns()
            engine.analyse(question)
            cpu.append((time.thread_time_ns() - c0_ns) / 1e6)
            timings.append((time.perf_counter_ns() - t0_ns) / 1e6)
    for name, values in (("wall", timings), ("thread CPU", cpu)):
        values.sort()
        p99 = values[int(len(values) * 0.99) - 1]
        median = statistics.median(values)
        print(
            f"latency per question, {name} ({len(values)} runs): median {median:.3f} ms,"
            f" p99 {p99:.3f} ms"
        )
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
    for _ in range(3):  # the batch run above used the shipped stems and index
        t0 = time.perf_counter()
        subprocess.run([ukkbot, "ask", "syarat paspor baru"], check=True, stdout=subprocess.DEVNULL)
        print(f"cold ukkbot ask: {time.perf_counter() - t0:.2f} s wall")
    for _ in range(3):
        seconds = _first_run_to_healthz(ukkbot)
        print(f"first ukkbot run, empty data folder, to /healthz: {seconds:.2f} s")


if __name__ == "__main__":
    main()
