"""Choosing the language (Indonesian or English); the choice is stored per person."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Context
from bot.core import Lang, Reply
from handlers.start import main_menu


async def choose_language(ctx: Context, arg: str) -> list[Reply]:
    """`/bahasa` offers the two languages; `/bahasa en` or the button sets one."""
    choice = arg.strip().lower()[:2]
    if choice != "id" and choice != "en":
        return [
            Reply(
                ctx.t("language_prompt"),
                (ctx.option("lang:id", "language.id"), ctx.option("lang:en", "language.en")),
            )
        ]
    lang: Lang = "en" if choice == "en" else "id"
    await ctx.store.set_language(ctx.incoming.channel, ctx.incoming.user_key, lang)
    ctx = replace(ctx, lang=lang)
    return [Reply(ctx.t("language_set"), main_menu(ctx))]
