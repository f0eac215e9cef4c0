"""Conversation logic, one module per area. Handlers are platform-free async functions.

COMMANDS and ACTIONS are the single registry the assistant routes by and the Telegram command
menu is generated from, so the two never drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.context import Context
from bot.core import Reply, Role
from handlers import browse, language, queue, staff, start

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
    Command("ingatkan", queue.remind_me, "cmd.remind", ("remind",)),
    Command("batal", queue.cancel_reminders, "cmd.cancel", ("cancel",)),
    Command("pengumuman", queue.show_announcements, "cmd.announcements", ("announcements",)),
)


async def show_staff_commands(ctx: Context, arg: str) -> list[Reply]:
    """`/perintah`: the staff commands, listed from the registry that routes them."""
    lines = [ctx.t("staff.commands"), *(f"- {ctx.t(c.description_key)}" for c in STAFF_COMMANDS)]
    return [Reply("\n".join(lines))]


# Not in the public command menu; a resident who tries one is refused and the attempt audited.
STAFF_COMMANDS: tuple[Command, ...] = (
    Command("panggil", staff.call_next_ticket, "cmd.call", ("call", "next")),
    Command("set", staff.set_ticket_number, "cmd.set"),
    Command("buka", staff.open_service, "cmd.open", ("open",)),
    Command("jeda", staff.pause_service, "cmd.pause", ("pause",)),
    Command("tutup", staff.close_service, "cmd.close", ("close",)),
    Command("staf", staff.manage_staff, "cmd.staff", ("staff",)),
    Command("perintah", show_staff_commands, "cmd.staff_commands", ("staffhelp",)),
)
STAFF_ROLES: frozenset[Role] = frozenset({"staff", "admin"})

# Action ids are "<prefix>" or "<prefix>:<argument>"; see each handler for its argument.
ACTIONS: dict[str, Handler] = {
    "m": start.show_menu,
    "c": browse.show_category,
    "t": browse.show_topic,
    "lang": language.choose_language,
    "q": queue.show_queue,
    "r": queue.remind_me,
    "a": queue.show_announcements,
}


def staff_guard(command: Command) -> Handler:
    """The command's handler for staff and administrators; a polite, audited refusal otherwise."""

    async def guarded(ctx: Context, arg: str) -> list[Reply]:
        if ctx.incoming.role not in STAFF_ROLES:
            return await staff.refuse(ctx, f"/{command.name} {arg}".strip())
        return await command.handler(ctx, arg)

    return guarded


def command_table() -> dict[str, Handler]:
    """Every command name and alias → its handler (staff commands behind their guard)."""
    table: dict[str, Handler] = {}
    for command in COMMANDS:
        for name in (command.name, *command.aliases):
            table[name] = command.handler
    for command in STAFF_COMMANDS:
        for name in (command.name, *command.aliases):
            table[name] = staff_guard(command)
    return table
