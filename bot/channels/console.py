"""The terminal chat (`ukkbot chat`): the same core, options numbered and chosen by number."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.assistant import Assistant
from bot.core import Incoming, Option, Reply
from bot.markup import to_plain

USER_KEY = "local"


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
            "console", USER_KEY, USER_KEY, action=options[int(text) - 1].id, lang_hint=lang_hint
        )
    return Incoming("console", USER_KEY, USER_KEY, text=text, lang_hint=lang_hint)


async def run_console(
    assistant: Assistant,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    lang_hint: str | None = None,
) -> None:
    """Read lines until end of input, answering each."""
    answer = await assistant.handle(
        Incoming("console", USER_KEY, USER_KEY, text="/start", lang_hint=lang_hint)
    )
    text, options = render(answer.replies)
    write(text)
    while True:
        try:
            line = await asyncio.to_thread(read, "> ")
        except EOFError:
            return
        if not line.strip():
            continue
        answer = await assistant.handle(to_incoming(line, options, lang_hint))
        text, options = render(answer.replies)
        write(text)
