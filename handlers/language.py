"""Choosing the language (Indonesian or English); the choice is stored per person."""

from __future__ import annotations

from dataclasses import replace

from bot import actions
from bot.context import Answer, Context
from bot.core import Lang, Reply
from bot.store import users
from handlers.start import main_menu


async def choose_language(ctx: Context, arg: str) -> list[Reply] | Answer:
    """`/bahasa` offers the two languages; `/bahasa en` or the button sets one."""
    choice = arg.strip().lower()[:2]
    if choice != "id" and choice != "en":
        return [
            Reply(
                ctx.t("language_prompt"),
                (
                    ctx.option(f"{actions.LANGUAGE}:id", "language.id"),
                    ctx.option(f"{actions.LANGUAGE}:en", "language.en"),
                ),
            )
        ]
    lang: Lang = "en" if choice == "en" else "id"
    async with ctx.store.transaction() as db:
        await users.set_language(
            db, ctx.incoming.channel, ctx.incoming.user_key, lang, ctx.store.clock()
        )
    ctx = replace(ctx, lang=lang)
    return Answer([Reply(ctx.t("language_set"), main_menu(ctx))], lang)
