"""Queue status and announcements: placeholders until their issues land."""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply
from handlers.start import main_menu


async def show_queue(ctx: Context, arg: str) -> list[Reply]:
    """Today's queue (coming soon)."""
    return [Reply(ctx.t("coming_soon.queue"), main_menu(ctx))]


async def show_announcements(ctx: Context, arg: str) -> list[Reply]:
    """Active announcements (coming soon)."""
    return [Reply(ctx.t("coming_soon.announcements"), main_menu(ctx))]
