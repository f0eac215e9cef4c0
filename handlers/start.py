"""The greeting, the main menu and help."""

from __future__ import annotations

from bot.context import Context
from bot.core import Option, Reply
from handlers import browse


def main_menu(ctx: Context) -> tuple[Option, ...]:
    """The main menu buttons, in the order the product card fixes."""
    return (
        ctx.option("c:paspor", "menu.paspor"),
        ctx.option("c:wna", "menu.wna"),
        ctx.option("c:kantor", "menu.kantor"),
        ctx.option("q", "menu.queue"),
        ctx.option("a", "menu.announcements"),
        ctx.option("lang", "menu.language"),
    )


async def show_start(ctx: Context, arg: str) -> list[Reply]:
    """Greet and show the menu; `/start <topic-id>` (a deep link) opens that topic."""
    if arg:
        return await browse.show_topic(ctx, arg.strip().lower())
    return [Reply(ctx.t("greeting"), main_menu(ctx))]


async def show_menu(ctx: Context, arg: str) -> list[Reply]:
    """Show the main menu."""
    return [Reply(ctx.t("menu_prompt"), main_menu(ctx))]


async def show_help(ctx: Context, arg: str) -> list[Reply]:
    """Explain how to use the assistant."""
    return [Reply(ctx.t("help"), main_menu(ctx))]
