"""The terminal chat (`ukkbot chat`): the same core, options numbered and chosen by number."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable

from bot.assistant import Assistant
from bot.core import Incoming, Option, Reply
from bot.markup import to_plain

CHANNEL = "console"
USER_KEY = "local"
EXIT_WORDS = frozenset({"keluar", "quit", "exit"})


def render(replies: list[Reply]) -> tuple[str, list[Option]]:
    """Plain text of the replies, with every option numbered across them."""
    lines: list[str] = []
    options: list[Option] = []
    for reply in replies:
        if reply.image is not None:
            lines.append(f"[chart: {len(reply.image)} bytes]")
        lines.append(to_plain(reply.text))
        for option in reply.options:
            options.append(option)
            lines.append(f"  {len(options)}. {to_plain(option.label)}")
        lines.append("")
    return "\n".join(lines), options


def to_incoming(line: str, options: list[Option], lang_hint: str | None) -> Incoming:
    """A number picks an option shown last; anything else is typed text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return Incoming(
            CHANNEL, USER_KEY, USER_KEY, action=options[int(text) - 1].id, lang_hint=lang_hint
        )
    return Incoming(CHANNEL, USER_KEY, USER_KEY, text=text, lang_hint=lang_hint)


def read_line(prompt: str) -> str:
    """input() without its lock: bytes straight from the terminal. A thread left blocked here
    when Ctrl-C ends the chat holds no lock of sys.stdin, which would abort the interpreter's
    shutdown ("could not acquire lock for <stdin>")."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    data = bytearray()
    while not data.endswith(b"\n"):
        byte = os.read(sys.stdin.fileno(), 1)
        if not byte:
            if not data:
                raise EOFError
            break
        data += byte
    return data.decode("utf-8", errors="replace").rstrip("\r\n")


async def _read_in_thread(read: Callable[[str], str], prompt: str) -> str:
    """`read` in a daemon thread, so that Ctrl-C (asyncio cancels the task) ends the chat at
    once; asyncio.to_thread's worker would be waited for until someone pressed Enter."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(result: str, error: BaseException | None) -> None:
        if line.done():
            return
        if error is not None:
            line.set_exception(error)
        else:
            line.set_result(result)

    def work() -> None:
        try:
            result = read(prompt)
        except BaseException as exc:  # EOFError above all: the coroutine raises it
            loop.call_soon_threadsafe(settle, "", exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=work, daemon=True).start()
    return await line


async def run_console(
    assistant: Assistant,
    read: Callable[[str], str] = read_line,
    write: Callable[[str], None] = print,
    lang_hint: str | None = None,
) -> None:
    """Read lines until end of input, an exit word or Ctrl-C, answering each."""
    content = assistant.services.content
    start = Incoming(CHANNEL, USER_KEY, USER_KEY, text="/start", lang_hint=lang_hint)
    answer = await assistant.handle(start)
    text, options = render(answer.replies)
    write(text)
    write(content.t("console.exit_hint", answer.lang))
    while True:
        try:
            line = (await _read_in_thread(read, "> ")).strip()
        except EOFError:
            return
        if not line:
            continue
        if line.lower() in EXIT_WORDS:
            return
        if line.isdigit() and options and not 1 <= int(line) <= len(options):
            hint = content.t("console.choose_range", answer.lang, number=line, last=len(options))
            write(hint)
            continue
        answer = await assistant.handle(to_incoming(line, options, lang_hint))
        text, options = render(answer.replies)
        write(text)
