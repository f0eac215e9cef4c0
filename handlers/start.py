"""The greeting, the main menu and help."""

from __future__ import annotations

from bot import actions
from bot.context import Context
from bot.core import Option, Reply
from bot.markup import escape_markup
from bot.store import announcements
from handlers import browse


def main_menu(ctx: Context) -> tuple[Option, ...]:
    """The main menu buttons, in the order the product card fixes; the officer comes last."""
    return (
        ctx.option(f"{actions.CATEGORY}:paspor", "menu.paspor"),
        ctx.option(f"{actions.CATEGORY}:wna", "menu.wna"),
        ctx.option(f"{actions.CATEGORY}:kantor", "menu.kantor"),
        ctx.option(actions.QUEUE, "menu.queue"),
        ctx.option(actions.ANNOUNCEMENTS, "menu.announcements"),
        ctx.option(actions.LANGUAGE, "menu.language"),
        ctx.option(actions.OFFICER, "menu.officer"),
    )


def shown_text(ctx: Context, announcement: announcements.Announcement) -> str:
    """An announcement in the person's language, neutralised: staff typed it."""
    return escape_markup(announcement.text(ctx.lang))


async def show_start(ctx: Context, arg: str) -> list[Reply]:
    """Greet and show the menu, with the newest announcement; `/start <topic-id>` (a deep link)
    opens that topic."""
    if arg:
        return await browse.show_topic(ctx, arg.strip().lower())
    greeting = ctx.t("greeting")
    active = await announcements.active_announcements(ctx.store.reader, ctx.today())
    if active:
        greeting = f"{greeting}\n\n{ctx.t('ann.latest', body=shown_text(ctx, active[0]))}"
    return [Reply(greeting, main_menu(ctx))]


async def show_menu(ctx: Context, arg: str) -> list[Reply]:
    """Show the main menu."""
    return [Reply(ctx.t("menu_prompt"), main_menu(ctx))]


async def show_help(ctx: Context, arg: str) -> list[Reply]:
    """Explain how to use the assistant."""
    return [Reply(ctx.t("help"), main_menu(ctx))]
