"""The channel-neutral core: route a command, a button action or free text to a handler."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.context import Context, Services
from bot.core import Incoming, Reply, lang_from_hint
from bot.markup import escape_markup
from bot.store import stats
from bot.store.queue import is_staff
from handlers import CONVERSATIONS, action_table, command_table
from handlers.answer import answer_question
from handlers.handover import answer_from_staff_group

log = logging.getLogger(__name__)


class Assistant:
    """`await assistant.handle(incoming)` → the replies to send, on any channel."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._commands = command_table()
        self._actions = action_table()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Never raises: a failure is logged (without message text) and answered with an apology."""
        try:
            return await self._route(incoming)
        except Exception:
            log.exception("handler failed (channel=%s)", incoming.channel)
            lang = lang_from_hint(incoming.lang_hint)
            return [Reply(self.services.content.t("error", lang))]

    async def _route(self, incoming: Incoming) -> list[Reply]:
        store = self.services.store
        await store.touch_user(incoming.channel, incoming.user_key)
        # Administrators come from the settings (the channel marks them); staff from the store.
        if incoming.role == "resident" and await is_staff(
            store.reader, incoming.channel, incoming.user_key
        ):
            incoming = replace(incoming, role="staff")
        stored = await store.get_language(incoming.channel, incoming.user_key)
        lang = stored or lang_from_hint(incoming.lang_hint)

        if incoming.action is not None:
            prefix, _, arg = incoming.action.partition(":")
            handler = self._actions.get(prefix)
            ctx = Context(incoming, lang, self.services)
            if handler is None:
                return [ctx.reply(ctx.t("unknown_action"), ctx.option("m", "btn.menu"))]
            return await handler(ctx, arg)

        text = (incoming.text or "").strip()
        if (incoming.channel, incoming.chat_key) == self.services.staff_chat and not (
            text.startswith("/")
        ):
            return await answer_from_staff_group(Context(incoming, lang, self.services))
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            ctx = Context(incoming, lang, self.services)
            command = name.split("@", 1)[0].lower()
            handler = self._commands.get(command)
            if handler is None:
                unknown = ctx.t("unknown_command", command=escape_markup(command[:32]))
                return [ctx.reply(unknown, ctx.option("m", "btn.menu"))]
            return await handler(ctx, arg.strip())
        if not text:
            ctx = Context(incoming, lang, self.services)
            return [ctx.reply(ctx.t("unsupported_message"), ctx.option("m", "btn.menu"))]

        # An open conversation (an announcement being written) takes the text before the engine.
        ctx = Context(incoming, lang, self.services)
        for conversation in CONVERSATIONS:
            replies = await conversation(ctx, text)
            if replies is not None:
                return replies

        analysis = self.services.understanding.analyse(text, default_lang=lang)
        unanswered = analysis.route == "clarify" or (
            analysis.route == "unknown" and not analysis.neighbour_id
        )
        # One write per typed question: a count per local day for /statistik (no text), and the
        # normalised text of what the bot could not answer outright.
        async with store.transaction() as db:
            await stats.count_question(db, ctx.today())
            if unanswered:
                await store.record_question(analysis.normalised, analysis.route)
        # A stored /bahasa choice wins; otherwise the answer follows the message's language.
        ctx = Context(incoming, stored or analysis.lang, self.services)
        return await answer_question(ctx, analysis)
