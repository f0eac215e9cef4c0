"""The channel-neutral core: route a command, a button action or free text to a handler."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import metrics
from bot.context import Answer, Context, Services
from bot.core import Incoming, Lang, Reply, lang_from_hint
from bot.markup import escape_markup
from bot.store import conversations, users
from handlers import COMMANDS as COMMANDS
from handlers import CONVERSATIONS, Result, action_table, command_table
from handlers import STAFF_COMMANDS as STAFF_COMMANDS
from handlers import Command as Command
from handlers.answer import answer_text
from handlers.handover import answer_from_staff_group

log = logging.getLogger(__name__)

# One step of the route: the answer, or None to let the next step try.
Step = Callable[["Assistant", Context, str], Awaitable[Result | None]]


class Assistant:
    """`await assistant.handle(incoming)` → the replies to send and their language, on any
    channel."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._commands = command_table()
        self._actions = action_table()

    async def handle(self, incoming: Incoming) -> Answer:
        """Never raises: a failure is logged (without message text) and answered with an apology.
        Counted in the metrics by channel and the route step that answered."""
        started = time.perf_counter()
        try:
            answer, route = await self._route(incoming)
        except Exception:
            log.exception("handler failed (channel=%s)", incoming.channel)
            lang = lang_from_hint(incoming.lang_hint)
            answer, route = Answer([Reply(self.services.content.t("error", lang))], lang), "error"
        metrics.MESSAGES.labels(incoming.channel, route).inc()
        metrics.ANSWER_SECONDS.labels(incoming.channel).observe(time.perf_counter() - started)
        return answer

    async def staff(self, channel: str) -> list[str]:
        """The user keys of the staff on `channel` (administrators come from the settings)."""
        return await users.list_staff(self.services.store.db, channel)

    async def language(self, incoming: Incoming) -> Lang:
        """The language a reply to `incoming` starts from: the stored choice, else the hint."""
        stored = await users.get_language(
            self.services.store.db, incoming.channel, incoming.user_key
        )
        return stored or lang_from_hint(incoming.lang_hint)

    async def _route(self, incoming: Incoming) -> tuple[Answer, str]:
        """The answer and the name of the step that gave it."""
        store = self.services.store
        self.services.bookkeeping.touch(incoming.channel, incoming.user_key, store.clock())
        # Reads through the reader: a writer waiting for the database lock holds nobody up.
        # Administrators come from the settings (the channel marks them); staff from the store.
        state = await conversations.chat_state(
            store.reader, incoming.channel, incoming.chat_key, incoming.user_key, store.clock()
        )
        if incoming.role == "resident" and state.staff:
            incoming = replace(incoming, role="staff")
        lang = state.language or lang_from_hint(incoming.lang_hint)
        ctx = Context(
            incoming,
            lang,
            self.services,
            lang_chosen=state.language is not None,
            open_conversations=state.open,
        )
        text = (incoming.text or "").strip()
        for step in ROUTE:
            result = await step(self, ctx, text)
            if result is not None:
                answer = result if isinstance(result, Answer) else Answer(result, ctx.lang)
                return answer, step.__name__.lstrip("_")
        raise AssertionError("the last step answers everything")

    async def _action(self, ctx: Context, text: str) -> Result | None:
        if ctx.incoming.action is None:
            return None
        prefix, _, arg = ctx.incoming.action.partition(":")
        handler = self._actions.get(prefix)
        if handler is None:
            return ctx.unknown_action()
        return await handler(ctx, arg)

    async def _staff_group(self, ctx: Context, text: str) -> Result | None:
        incoming = ctx.incoming
        if (incoming.channel, incoming.chat_key) != self.services.staff_chat or text.startswith(
            "/"
        ):
            return None
        return await answer_from_staff_group(ctx)

    async def _command(self, ctx: Context, text: str) -> Result | None:
        if not text.startswith("/"):
            return None
        name, _, arg = text[1:].partition(" ")
        command = name.split("@", 1)[0].lower()
        handler = self._commands.get(command)
        if handler is None:
            unknown = ctx.t("unknown_command", command=escape_markup(command[:32]))
            return [ctx.reply(unknown, ctx.menu_button())]
        return await handler(ctx, arg.strip())

    async def _empty(self, ctx: Context, text: str) -> Result | None:
        if text:
            return None
        return [ctx.reply(ctx.t("unsupported_message"), ctx.menu_button())]

    async def _conversation(self, ctx: Context, text: str) -> Result | None:
        for name, conversation in CONVERSATIONS:
            if name in ctx.open_conversations:
                replies = await conversation(ctx, text)
                if replies is not None:
                    return replies
        return None

    async def _free_text(self, ctx: Context, text: str) -> Result | None:
        return await answer_text(ctx, text)


# The route, in order; the first step that answers wins. Order matters: a button tap is never
# text; in the staff group only commands are for the bot (everything else may be a reply to a
# hand-over); an open conversation (an announcement being written, a hand-over question) takes
# typed text before the engine does.
ROUTE: tuple[Step, ...] = (
    Assistant._action,  # a button: its action id
    Assistant._staff_group,  # a message in the staff group that is not a command
    Assistant._command,  # /command
    Assistant._empty,  # a sticker, a photo…: nothing to read
    Assistant._conversation,  # typed text while a conversation is open
    Assistant._free_text,  # a question for the engine
)
