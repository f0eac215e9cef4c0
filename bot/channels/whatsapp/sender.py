"""Posting to the Graph API: answers inside the 24-hour window, the alert template outside it."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from bot.channels.whatsapp.parse import ERROR_OUTSIDE_WINDOW
from bot.channels.whatsapp.render import Labels, Payload, alert_template, render
from bot.config import Settings, SettingsError, check_whatsapp
from bot.content import Content
from bot.core import Lang, Reply
from bot.outbox import Undeliverable
from bot.store import Store, users, whatsapp

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WINDOW = dt.timedelta(hours=24)
MAX_SEND_ATTEMPTS = 5
FIRST_BACKOFF = 1.0  # seconds before the first resend; doubles each time
# 130429: the number's throughput; 131056: too many messages to one user. Both pass with time.
RETRY_ERRORS = frozenset({130429, 131056})

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp settings, checked once: all there, or a one-line error naming the field."""

    access_token: SecretStr
    phone_number_id: str
    app_secret: SecretStr
    verify_token: SecretStr
    api_base_url: str
    alert_template: str | None
    admin_numbers: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings) -> WhatsAppSettings:
        check_whatsapp(settings)
        token, phone = settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID
        secret, verify = settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_VERIFY_TOKEN
        if token is None or phone is None or secret is None or verify is None:
            raise SettingsError("WHATSAPP_ACCESS_TOKEN: required for WhatsApp")
        return cls(
            token,
            phone,
            secret,
            verify,
            settings.WHATSAPP_API_BASE_URL,
            settings.WHATSAPP_ALERT_TEMPLATE,
            tuple(settings.ADMIN_WHATSAPP_NUMBERS),
        )


class GraphError(Exception):
    """The Graph API refused a message for good."""

    def __init__(self, status: int, code: int | None) -> None:
        # The message is for a traceback only: the outbox records the type name, never it.
        super().__init__(f"graph api: HTTP {status}, error code {code}")  # pragma: no mutate
        self.status = status


class OutsideWindow(Undeliverable):
    """Nothing was sent: the person's 24-hour window is closed and no template can be used.

    The outbox counts these as skipped, not failed: resending will not help.
    """


def _error_code(response: httpx.Response) -> int | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None


class WhatsAppSender:
    """Posts messages to the Graph API. `send` is the outbox's entry point: it knows the 24-hour
    window; `deliver` answers someone who just wrote."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: WhatsAppSettings,
        content: Content,
        store: Store,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.content = content
        self.store = store
        self.template = settings.alert_template
        self._url = f"{settings.api_base_url.rstrip('/')}/{settings.phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {settings.access_token.get_secret_value()}"}
        self._sleep = sleep

    async def post(self, to: str, message: Payload) -> None:
        """One message; throughput errors are waited out with backoff and the message resent.

        Raises OutsideWindow on 131047 (after recording it) and GraphError on other refusals.
        """
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body |= message
        delay = FIRST_BACKOFF
        for attempt in range(MAX_SEND_ATTEMPTS):
            response = await self.http.post(self._url, json=body, headers=self._headers)
            if response.is_success:
                return
            code = _error_code(response)
            if code == ERROR_OUTSIDE_WINDOW:
                async with self.store.transaction() as db:
                    await whatsapp.close_window(db, to, self.store.clock())
                raise OutsideWindow("131047: the 24-hour window is closed")  # pragma: no mutate
            retryable = response.status_code == 429 or code in RETRY_ERRORS
            if not retryable or attempt == MAX_SEND_ATTEMPTS - 1:
                raise GraphError(response.status_code, code)
            log.warning(
                "whatsapp: throttled (HTTP %d, code %s), waiting %.0f s",
                response.status_code,
                code,
                delay,
            )
            await self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no mutate

    async def deliver(self, to: str, replies: list[Reply], lang: Lang) -> None:
        """Every reply, in order, as free-form messages."""
        labels = Labels.of(self.content, lang)
        for reply in replies:
            for message in render(reply, labels):
                await self.post(to, message)

    async def send(self, chat_key: str, replies: list[Reply]) -> None:
        """A proactive message: free-form inside the 24-hour window, else the alert template.

        Raises OutsideWindow when the window is closed and no template is configured.
        """
        lang = await users.get_language(self.store.db, CHANNEL, chat_key) or "id"
        last = await whatsapp.last_inbound(self.store.db, chat_key)
        if last is not None and self.store.clock() - last < WINDOW:
            try:
                await self.deliver(chat_key, replies, lang)
                return
            except OutsideWindow:
                log.info("whatsapp: window closed earlier than recorded; trying the template")
        message = alert_template(self.template, lang, replies) if self.template else None
        if message is None:
            raise OutsideWindow("no open window, no WHATSAPP_ALERT_TEMPLATE")  # pragma: no mutate
        await self.post(chat_key, message)
