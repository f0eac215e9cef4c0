"""The terminal chat and `ukkbot ask` on the same core."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.channels.console import run_console
from bot.cli import main
from bot.content import Content
from bot.markup import to_plain
from tests.conftest import CONTENT_DIR, ROOT, seed_cache


def reader(*lines: str) -> Callable[[str], str]:
    """Typed lines, then end of input."""
    queue = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(queue)
        except StopIteration:
            raise EOFError from None

    return read


async def test_console_numbers_options_and_a_number_picks_one(
    assistant: Assistant, content: Content
) -> None:
    out: list[str] = []
    await run_console(assistant, read=reader("1", "syarat paspor anak"), write=out.append)
    greeting, hint, category, answer = out
    assert "  1. Paspor (WNI)" in greeting
    assert "keluar" in hint and "Ctrl-C" in hint
    assert category.startswith(to_plain(content.t("category.paspor", "id")) + "\n  1. ")
    topic = to_plain(content.topic_text(content.topics["paspor-anak"], "id"))
    assert answer.startswith(topic + "\n\n")


@pytest.mark.parametrize("word", ["keluar", "quit", "EXIT", " exit "])
async def test_console_exit_words_end_the_chat(assistant: Assistant, word: str) -> None:
    out: list[str] = []
    await run_console(assistant, read=reader(word, "syarat paspor anak"), write=out.append)
    assert len(out) == 2  # greeting and hint; the question after the exit word is not read


async def test_console_number_out_of_range_names_the_valid_range(assistant: Assistant) -> None:
    out: list[str] = []
    await run_console(assistant, read=reader("9", "0", "2"), write=out.append)
    options = out[0].count("\n  ")
    assert out[2] == f"Tidak ada pilihan nomor 9. Pilih 1–{options}, atau ketik pertanyaan Anda."
    assert out[3].startswith("Tidak ada pilihan nomor 0.")
    assert "Izin tinggal untuk WNA" in out[4]


@pytest.mark.subprocess
def test_ctrl_c_ends_the_terminal_chat_at_once(tmp_path: Path) -> None:
    seed_cache(tmp_path / "data")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CONTENT_DIR": str(CONTENT_DIR)}
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert chat.stdout is not None
    shown = b""
    while not shown.endswith(b"> "):  # the prompt: the chat waits for a line
        shown += chat.stdout.read1(4096)
    chat.send_signal(signal.SIGINT)
    # stdin stays open: no Enter, no end of input.
    assert chat.wait(timeout=30) == 0
    assert chat.stderr is not None and b"Traceback" not in chat.stderr.read()
    chat.stdin.close()  # type: ignore[union-attr]


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


@pytest.mark.subprocess
def test_ask_lists_related_topics_under_the_answer() -> None:
    [record] = ask("paspor saya hilang gimana ngurusnya")
    text = str(record["text"])
    heading, _, listed = text.rpartition("Topik terkait:")
    assert heading and listed.strip().startswith("• ")
    assert "• Paspor rusak" in listed


@pytest.mark.parametrize(
    "command",
    [
        ["questions"],
        ["export", "web", "s1"],
        ["skm", "report", "--from", "2026-11-01", "--to", "2026-11-30"],
    ],
)
def test_a_database_command_on_a_corrupt_file_says_so_in_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "bad.sqlite3"
    database.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("CONTENT_DIR", str(CONTENT_DIR))
    assert main(command) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"ukkbot: {command[0]}: DATABASE_PATH: {database}: file is not a database"
    assert database.read_bytes() == b"this is not a database" * 100  # nothing written over it
