"""The terminal chat and `ukkbot ask` on the same core."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.channels.console import run_console
from bot.content import Content
from bot.markup import to_plain
from tests.conftest import CONTENT_DIR, ROOT, seed_cache


async def test_console_numbers_options_and_a_number_picks_one(
    assistant: Assistant, content: Content
) -> None:
    lines = iter(["1", "syarat paspor anak"])
    out: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    await run_console(assistant, read=read, write=out.append)
    greeting, category, answer = out
    assert "  1. Paspor (WNI)" in greeting
    assert category.startswith(to_plain(content.t("category.paspor", "id")) + "\n  1. ")
    topic = to_plain(content.topic_text(content.topics["paspor-anak"], "id"))
    assert answer.startswith(topic + "\n\n")


def ask(*args: str, stdin: str | None = None) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as folder:  # `ask` keeps its caches in folder/data
        seed_cache(Path(folder) / "data")
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CONTENT_DIR": str(CONTENT_DIR)}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", *args],
            input=stdin,
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.subprocess
def test_ask_json_follows_the_contract() -> None:
    [record] = ask("paspor saya hilang gimana ngurusnya")
    assert set(record) == {"route", "topic_id", "candidates", "lang", "text"}
    assert record["route"] == "topic" and record["topic_id"] == "paspor-hilang"
    assert record["lang"] == "id" and "Paspor hilang" in str(record["text"])
    [english] = ask("--lang", "en", "paspor saya hilang gimana ngurusnya")
    assert english["lang"] == "en" and "Lost passport" in str(english["text"])


@pytest.mark.subprocess
def test_ask_batch_reads_standard_input_one_line_each(tmp_path: Path) -> None:
    records = ask("--batch", "-", stdin="halo\nperpanjang SIM dimana\n\nresep rendang\n")
    assert [r["route"] for r in records] == ["smalltalk", "unknown", "unknown"]
    assert all(r["topic_id"] is None for r in records)
    assert "bukan layanan imigrasi" in str(records[1]["text"])
