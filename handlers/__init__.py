"""Conversation logic, one module per area. Handlers are platform-free async functions.

COMMANDS and ACTIONS are the single registry the assistant routes by and the Telegram command
menu is generated from, so the two never drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.context import Context
from bot.core import Reply
from handlers import browse, language, queue, start

Handler = Callable[[Context, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    """A /command, its aliases, the handler and the UI key of its menu description."""

    name: str
    handler: Handler
    description_key: str
    aliases: tuple[str, ...] = ()


COMMANDS: tuple[Command, ...] = (
    Command("start", start.show_start, "cmd.start", ("mulai",)),
    Command("menu", start.show_menu, "cmd.menu"),
    Command("help", start.show_help, "cmd.help", ("bantuan",)),
    Command("bahasa", language.choose_language, "cmd.language", ("language",)),
    Command("antrian", queue.show_queue, "cmd.queue", ("queue",)),
    Command("pengumuman", queue.show_announcements, "cmd.announcements", ("announcements",)),
)

# Action ids are "<prefix>" or "<prefix>:<argument>"; see each handler for its argument.
ACTIONS: dict[str, Handler] = {
    "m": start.show_menu,
    "c": browse.show_category,
    "t": browse.show_topic,
    "lang": language.choose_language,
    "q": queue.show_queue,
    "a": queue.show_announcements,
}


def command_table() -> dict[str, Handler]:
    """Every command name and alias → its handler."""
    table: dict[str, Handler] = {}
    for command in COMMANDS:
        for name in (command.name, *command.aliases):
            table[name] = command.handler
    return table
