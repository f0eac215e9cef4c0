"""Telegram through python-telegram-bot: updates → Incoming, Replies → HTML messages.

Long polling by default; in webhook mode our own HTTP server receives updates (see
`webhook_route`) and checks Telegram's secret-token header.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.assistant import COMMANDS, STAFF_COMMANDS, Assistant, Command
from bot.channels import Channel, Connectors
from bot.config import Settings
from bot.content import Content
from bot.core import LANGS, Incoming, Reply, Role, lang_from_hint
from bot.guard import read_json
from bot.limits import TELEGRAM_TEXT
from bot.markup import split_text, to_telegram_html
from bot.outbox import Blocked, Sender

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"  # when TELEGRAM_WEBHOOK_URL has no path
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_SEND_ATTEMPTS = 5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
SHORT_LABEL = 18  # labels up to this length go two to a keyboard row
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Options as an inline keyboard: short labels two per row, long ones alone."""
    if not reply.options:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for option in reply.options:
        button = InlineKeyboardButton(option.label, callback_data=option.id)
        if (
            rows
            and len(rows[-1]) == 1
            and len(option.label) <= SHORT_LABEL
            and len(rows[-1][0].text) <= SHORT_LABEL
        ):
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)


def parse_update(body: object, bot: Bot) -> Update:
    """A webhook body as an Update; ValueError when it is not one. PTB trusts the shape of what
    Telegram sends: wrong types deeper down raise TypeError, KeyError, AttributeError…"""
    if not isinstance(body, dict) or type(body.get("update_id")) is not int:
        raise ValueError("not an update")  # pragma: no mutate (the webhook answers a bare 400)
    return Update.de_json(body, bot)


class TelegramChannel(Channel):
    """Owns the PTB Application and turns its updates into calls of the Assistant."""

    name = CHANNEL

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        assistant: Assistant,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.application = application
        self.assistant = assistant
        self.settings = settings
        self._sleep = sleep
        self._admins = frozenset(settings.ADMIN_TELEGRAM_IDS)
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(MessageHandler(filters.TEXT, self.on_text))
        application.add_handler(
            MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, self.on_other)
        )
        application.add_error_handler(self.on_error)

    @property
    def content(self) -> Content:
        return self.assistant.services.content

    def _incoming(
        self, update: Update, text: str | None = None, action: str | None = None
    ) -> Incoming:
        user = update.effective_user
        chat = update.effective_chat
        assert user is not None and chat is not None
        role: Role = "admin" if user.id in self._admins else "resident"
        message = update.effective_message
        replied = message.reply_to_message if message is not None else None
        author = replied.from_user if replied is not None else None
        # Only a reply to the bot's own message (a forwarded hand-over) counts.
        own = author is not None and author.id == self.application.bot.id
        return Incoming(
            CHANNEL,
            str(user.id),
            str(chat.id),
            text=text,
            action=action,
            lang_hint=user.language_code,
            role=role,
            reply_to=replied.text if own and replied is not None else None,
        )

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed message or /command."""
        assert update.effective_message is not None and update.effective_chat is not None
        answer = await self.assistant.handle(
            self._incoming(update, text=update.effective_message.text)
        )
        await self.send(update.effective_chat.id, answer.replies)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button tap: answer the callback (or the client spins), then handle the action."""
        query = update.callback_query
        assert query is not None
        await self._retry(query.answer)
        if update.effective_chat is None or not query.data:
            return
        answer = await self.assistant.handle(self._incoming(update, action=query.data))
        await self.send(update.effective_chat.id, answer.replies)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice notes…: we can only read text."""
        if update.effective_chat is None or update.effective_user is None:
            return
        answer = await self.assistant.handle(self._incoming(update))
        await self.send(update.effective_chat.id, answer.replies)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log without personal data; apologise to the person when we know the chat."""
        log.error(
            "telegram update failed: %s", type(context.error).__name__, exc_info=context.error
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            user = update.effective_user
            lang = lang_from_hint(user.language_code if user else None)
            try:
                await self.send(update.effective_chat.id, [Reply(self.content.t("error", lang))])
            except Exception:
                log.error("could not send the apology")

    async def send(self, chat_id: int | str, replies: list[Reply]) -> None:
        """Send replies in order; long texts split at paragraphs, buttons on the last piece."""
        bot = self.application.bot
        for reply in replies:
            if reply.location is not None:
                loc = reply.location
                await self._retry(
                    partial(bot.send_venue, chat_id, loc.lat, loc.lon, loc.name, loc.address)
                )
            if reply.image is not None:
                await self._retry(partial(bot.send_photo, chat_id, reply.image))
            pieces = split_text(reply.text, TELEGRAM_TEXT)
            for i, piece in enumerate(pieces):
                markup = keyboard(reply) if i == len(pieces) - 1 else None
                await self._retry(
                    partial(
                        bot.send_message,
                        chat_id,
                        to_telegram_html(piece),
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        link_preview_options=NO_PREVIEW,
                    )
                )

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """Wait out a 429 (RetryAfter) and send the same call again; never drop it. A 403 (the
        person blocked the bot) raises Blocked: the outbox stops sending to them."""
        for attempt in range(MAX_SEND_ATTEMPTS):
            try:
                return await call()
            except Forbidden as exc:
                raise Blocked(type(exc).__name__) from exc  # pragma: no mutate (traceback text)
            except RetryAfter as exc:
                if attempt == MAX_SEND_ATTEMPTS - 1:
                    raise
                delay = exc.retry_after
                seconds = delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)
                log.warning("telegram: 429 Too Many Requests, waiting %.0f s", seconds)
                await self._sleep(seconds)
        raise AssertionError("unreachable")  # pragma: no mutate

    async def set_commands(self) -> None:
        """The command menu in both languages, generated from the handler registry: residents
        get the public commands; each administrator's and staff member's chat also the staff
        ones (a chat scope), so residents never see them."""
        await self._publish_menu(COMMANDS)
        staff = await self.assistant.staff(CHANNEL)
        for chat_id in sorted({*self._admins, *(int(user) for user in staff)}):
            await self._publish_menu((*COMMANDS, *STAFF_COMMANDS), BotCommandScopeChat(chat_id))

    async def _publish_menu(
        self, commands: tuple[Command, ...], scope: BotCommandScopeChat | None = None
    ) -> None:
        bot = self.application.bot
        for lang in (*LANGS, None):
            menu = [
                BotCommand(c.name, self.content.t(c.description_key, lang or "id"))
                for c in commands
            ]
            await self._retry(partial(bot.set_my_commands, menu, scope=scope, language_code=lang))

    @property
    def sender(self) -> Sender:
        return self

    async def staff_changed(self, user_key: str, is_staff: bool) -> None:
        """Show the staff commands in a new staff member's menu, or take them away."""
        if not user_key.isdecimal():
            return
        scope = BotCommandScopeChat(int(user_key))
        try:
            if is_staff:
                await self._publish_menu((*COMMANDS, *STAFF_COMMANDS), scope)
            else:
                for lang in (*LANGS, None):
                    await self._retry(partial(self.application.bot.delete_my_commands, scope, lang))
        except Exception as exc:  # the list changed; the menu follows at the next start
            log.warning("telegram: staff menu not updated (%s)", type(exc).__name__)

    async def start(self) -> None:
        """Initialise, publish the command menu, then poll or register the webhook."""
        app = self.application
        await app.initialize()
        await self.set_commands()
        await app.start()
        if self.settings.TELEGRAM_WEBHOOK_URL:
            secret = self.settings.TELEGRAM_WEBHOOK_SECRET
            await app.bot.set_webhook(
                self.settings.TELEGRAM_WEBHOOK_URL,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("telegram: webhook mode")
        else:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("telegram: polling")

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def routes(self) -> list[BaseRoute]:
        """In webhook mode, Telegram's webhook on our server; polling needs none."""
        url = self.settings.TELEGRAM_WEBHOOK_URL
        return [self.webhook_route(urlparse(url).path or WEBHOOK_PATH)] if url else []

    def webhook_route(self, path: str) -> Route:
        """POST endpoint for Telegram's webhook; 403 unless the secret header matches."""
        secret = self.settings.TELEGRAM_WEBHOOK_SECRET
        expected = secret.get_secret_value().encode() if secret else b""

        async def receive(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not expected or not hmac.compare_digest(given, expected):
                return Response(status_code=403)
            try:
                update = parse_update(await read_json(request), self.application.bot)
            except Exception:  # whatever PTB raises on a body of the wrong shape
                return Response(status_code=400)
            await self.application.update_queue.put(update)
            return Response(status_code=200)

        return Route(path, receive, methods=["POST"])


def build_application(
    settings: Settings, request: BaseRequest | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application; `request` lets tests answer the Bot API offline."""
    assert settings.TELEGRAM_BOT_TOKEN is not None
    # No PTB rate limiter: its 30 a second would cap BROADCAST_RATE, and it logs each 429 as
    # an error. The outbox's RateLimiter paces what we send unprompted; a 429 reaches _retry,
    # which logs one warning, waits and resends.
    builder = ApplicationBuilder().token(settings.TELEGRAM_BOT_TOKEN.get_secret_value())
    if settings.TELEGRAM_API_BASE_URL:
        builder = builder.base_url(settings.TELEGRAM_API_BASE_URL)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if settings.TELEGRAM_WEBHOOK_URL:
        builder = builder.updater(None)
    return builder.build()


def from_settings(
    settings: Settings, assistant: Assistant, connectors: Connectors
) -> TelegramChannel | None:
    """The Telegram channel when TELEGRAM_BOT_TOKEN is set."""
    if settings.TELEGRAM_BOT_TOKEN is None:
        return None
    application = build_application(settings, connectors.telegram_request)
    return TelegramChannel(application, assistant, settings, sleep=connectors.sleep)
