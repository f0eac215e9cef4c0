"""Conversation logic, one module per area. Handlers are platform-free async functions.

COMMANDS, STAFF_COMMANDS, ACTIONS and STAFF_ACTIONS are the single registry the assistant routes
by and the Telegram command menus (residents', and staff's per chat) are generated from, so they
never drift. CONVERSATIONS take free text first while one is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import actions
from bot.context import Answer, Context
from bot.core import STAFF_ROLES, Reply
from bot.store import conversations
from handlers import (
    announcements,
    browse,
    handover,
    language,
    privacy,
    queue,
    reminders,
    staff,
    start,
    statistics,
    survey,
)

# A handler answers in the person's language; one that changes it (/bahasa) says so in an Answer.
Result = list[Reply] | Answer
Handler = Callable[[Context, str], Awaitable[Result]]
# Takes typed text while its conversation is open for this person; None otherwise.
Conversation = Callable[[Context, str], Awaitable[list[Reply] | None]]


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
    Command(
        "pengumuman", announcements.show_announcements, "cmd.announcements", ("announcements",)
    ),
    Command("langganan", announcements.subscribe, "cmd.subscribe", ("subscribe",)),
    Command("berhenti", announcements.unsubscribe, "cmd.unsubscribe", ("unsubscribe", "stop")),
    Command("petugas", handover.talk_to_officer, "cmd.officer", ("officer",)),
    Command("hapusdata", privacy.ask_to_erase, "cmd.erase", ("deletemydata",)),
    Command("survei", survey.take_survey, "cmd.survey", ("survey",)),
    Command("pengingat", reminders.show_reminders, "cmd.reminders", ("reminder",)),
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
    Command("umumkan", announcements.start_announcement, "cmd.announce", ("announce",)),
    Command(
        "ubahpengumuman", announcements.edit_announcement, "cmd.edit_announcement", ("editann",)
    ),
    Command("akhiri", announcements.end_announcement, "cmd.end_announcement", ("expire",)),
    Command(
        "hapuspengumuman",
        announcements.delete_announcement,
        "cmd.delete_announcement",
        ("deleteann",),
    ),
    Command("siaran", announcements.show_broadcast, "cmd.broadcast", ("broadcast",)),
    Command("statistik", statistics.show_statistics, "cmd.statistics", ("stats",)),
    Command("perintah", show_staff_commands, "cmd.staff_commands", ("staffhelp",)),
)

# Action ids are "<prefix>" or "<prefix>:<argument>" (bot.actions); see each handler for its
# argument.
ACTIONS: dict[str, Handler] = {
    actions.MENU: start.show_menu,
    actions.CATEGORY: browse.show_category,
    actions.TOPIC: browse.show_topic,
    actions.LANGUAGE: language.choose_language,
    actions.QUEUE: queue.show_queue,
    actions.REMIND: queue.remind_me,
    actions.ANNOUNCEMENTS: announcements.show_announcements,
    actions.SUBSCRIPTION: announcements.change_subscription,
    actions.OFFICER: handover.talk_to_officer,
    actions.CANCEL_HANDOVER: handover.cancel_handover,
    actions.FEEDBACK: statistics.rate_answer,
    actions.ERASE: privacy.erase_my_data,
    actions.SURVEY: survey.answer_survey,
    actions.SURVEY_DONE: survey.close_survey,
    actions.REMINDERS: reminders.answer_reminders,
}
# Buttons only staff are shown; refused and audited like staff commands when anyone else taps.
STAFF_ACTIONS: dict[str, Handler] = {
    actions.DRAFT: announcements.answer_draft,
}
# Each under the name bot/store/conversations.py gives it when the chat has it open.
CONVERSATIONS: tuple[tuple[str, Conversation], ...] = (
    (conversations.ANNOUNCEMENT_DRAFT, announcements.continue_draft),
    (conversations.HANDOVER, handover.take_question),
    (conversations.SURVEY_COMMENT, survey.take_comment),
    (conversations.REMINDER_DATE, reminders.take_expiry_date),
)


def staff_guard(name: str, handler: Handler, separator: str = " ") -> Handler:
    """The handler for staff and administrators; a polite, audited refusal otherwise. The
    attempt is audited as written: "/panggil A", or an action id such as "ad:ok"."""

    async def guarded(ctx: Context, arg: str) -> Result:
        if ctx.incoming.role not in STAFF_ROLES:
            return await staff.refuse(ctx, f"{name}{separator}{arg}".strip())
        return await handler(ctx, arg)

    return guarded


def action_table() -> dict[str, Handler]:
    """Every action prefix → its handler (staff actions behind their guard)."""
    table = dict(ACTIONS)
    for prefix, handler in STAFF_ACTIONS.items():
        table[prefix] = staff_guard(prefix, handler, separator=":")
    return table


def command_table() -> dict[str, Handler]:
    """Every command name and alias → its handler (staff commands behind their guard)."""
    table: dict[str, Handler] = {}
    for command in COMMANDS:
        for name in (command.name, *command.aliases):
            table[name] = command.handler
    for command in STAFF_COMMANDS:
        for name in (command.name, *command.aliases):
            table[name] = staff_guard(f"/{command.name}", command.handler)
    return table
