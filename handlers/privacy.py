"""`/hapusdata` (`/deletemydata`): a person erases what the bot keeps about them — their
language, subscription, reminders, survey invitation, hand-overs and messages to them — after
confirming with a button (UU 27/2022 Pasal 8; README "Personal data")."""

from __future__ import annotations

from bot import actions
from bot.context import Context
from bot.core import Reply
from bot.store import personal

YES, NO = "yes", "no"


async def ask_to_erase(ctx: Context, arg: str) -> list[Reply]:
    """`/hapusdata`: say what would be erased and ask to confirm."""
    return [
        ctx.reply(
            ctx.t("privacy.confirm"),
            ctx.option(f"{actions.ERASE}:{YES}", "privacy.yes"),
            ctx.option(f"{actions.ERASE}:{NO}", "privacy.no"),
        )
    ]


async def erase_my_data(ctx: Context, arg: str) -> list[Reply]:
    """The confirmation buttons: `del:yes` erases, anything else keeps everything."""
    if arg != YES:
        return [ctx.reply(ctx.t("privacy.kept"), ctx.menu_button())]
    incoming = ctx.incoming
    ctx.services.bookkeeping.forget_person(incoming.channel, incoming.user_key)
    await personal.erase_person(ctx.store, incoming.channel, incoming.user_key)
    return [ctx.reply(ctx.t("privacy.erased"))]
