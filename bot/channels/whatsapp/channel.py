"""The WhatsApp channel: the webhook and its processing, verified bodies → Incoming →
Assistant → sender."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import re
from collections.abc import Coroutine
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.assistant import Assistant
from bot.channels import Channel, Connectors
from bot.channels.whatsapp.parse import InboundMessage, parse_webhook, valid_signature
from bot.channels.whatsapp.sender import (
    CHANNEL,
    GraphError,
    OutsideWindow,
    Sleep,
    WhatsAppSender,
    WhatsAppSettings,
)
from bot.config import Settings
from bot.core import Incoming, Reply, Role
from bot.guard import parse_json
from bot.outbox import may_have_arrived
from bot.store import Store, whatsapp
from bot.store.outbox import enqueue

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
# An answer that met a Graph server error or a network failure is resent through the outbox
# under this key for this long; after that the question is stale.
RETRY_OUTBOX_KEY = "whatsapp-answer"
RETRY_ANSWER_FOR = dt.timedelta(hours=1)
INDONESIA = "62"  # country calling code
GRAPH_TIMEOUT = 15.0  # seconds for one Graph API call
_VERIFY_TOKEN = re.compile(r"(hub\.verify_token=)[^&\s]*")


class RedactVerifyToken(logging.Filter):
    """Meta's handshake carries the verify token in the query string, which uvicorn's access
    log prints: hide it there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _VERIFY_TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def lang_hint(number: str) -> str | None:
    """WhatsApp tells no language; a number from abroad suggests English. The message's own
    language and a stored /bahasa choice still win."""
    return None if number.startswith(INDONESIA) else "en"


class WhatsAppChannel(Channel):
    """The webhook and its processing: verified bodies → Incoming → Assistant → sender."""

    name = CHANNEL

    def __init__(
        self,
        assistant: Assistant,
        settings: WhatsAppSettings,
        http: httpx.AsyncClient,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.assistant = assistant
        services = assistant.services
        self._sender = WhatsAppSender(http, settings, services.content, services.store, sleep)
        self._secret = settings.app_secret.get_secret_value().encode()
        self._verify = settings.verify_token.get_secret_value().encode()
        self._admins = frozenset(_digits(n) for n in settings.admin_numbers)
        self._redact = RedactVerifyToken()
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[str, asyncio.Task[None]] = {}  # per sender, the task to wait for

    @property
    def sender(self) -> WhatsAppSender:
        return self._sender

    @property
    def store(self) -> Store:
        return self.assistant.services.store

    def routes(self) -> list[BaseRoute]:
        """GET answers Meta's verification handshake; POST receives signed notifications."""

        async def verify(request: Request) -> Response:
            params = request.query_params
            token = params.get("hub.verify_token", "").encode()
            if params.get("hub.mode") == "subscribe" and hmac.compare_digest(token, self._verify):
                return PlainTextResponse(params.get("hub.challenge", ""))
            return Response(status_code=403)

        async def receive(request: Request) -> Response:
            body = await request.body()
            if not valid_signature(body, request.headers.get(SIGNATURE_HEADER), self._secret):
                return Response(status_code=403)
            try:
                notification = parse_webhook(parse_json(body))
            except (ValueError, AttributeError, TypeError):
                return Response(status_code=400)
            for recipient in notification.window_closed:
                log.info("whatsapp: a message was refused, 24-hour window closed (131047)")
                self._spawn(recipient, self._close_window(recipient))
            by_sender: dict[str, list[InboundMessage]] = {}
            for message in notification.messages:
                by_sender.setdefault(message.sender, []).append(message)
            for sender, theirs in by_sender.items():
                self._spawn(sender, self.process(theirs))
            return Response(status_code=200)

        return [
            Route(WEBHOOK_PATH, verify, methods=["GET"]),
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
        ]

    def _spawn(self, sender: str, work: Coroutine[Any, Any, None]) -> None:
        """Run after the 200 is sent, after the same person's earlier messages (so answers
        never interleave); kept so shutdown (and tests) can await it."""
        previous = self._latest.get(sender)

        async def in_turn() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await work

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        self._latest[sender] = task

        def forget(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            if self._latest.get(sender) is done:
                del self._latest[sender]

        task.add_done_callback(forget)

    async def drain(self) -> None:
        """Wait until every received message has been handled."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _close_window(self, recipient: str) -> None:
        async with self.store.transaction() as db:
            await whatsapp.close_window(db, recipient, self.store.clock())

    async def start(self) -> None:
        # Called after uvicorn.Config, which sets up the access log this filter goes on.
        logging.getLogger("uvicorn.access").addFilter(self._redact)
        log.info("whatsapp: webhook at %s", WEBHOOK_PATH)

    async def stop(self) -> None:
        await self.drain()
        await self.sender.http.aclose()
        logging.getLogger("uvicorn.access").removeFilter(self._redact)

    async def process(self, messages: list[InboundMessage]) -> None:
        """Handle messages in order; a failure is logged and the next one still handled."""
        for message in messages:
            try:
                await self.handle(message)
            except OutsideWindow:
                log.warning("whatsapp: reply refused, 24-hour window closed (131047)")
            except Exception:
                log.exception("whatsapp: message %s failed", message.wamid)

    async def handle(self, message: InboundMessage) -> None:
        """Answer one message unless its id was handled before (Meta redelivers)."""
        now = self.store.clock()
        async with self.store.transaction() as db:
            if not await whatsapp.claim_message(db, message.wamid, now):
                log.debug("whatsapp: %s delivered again, ignored", message.wamid)
                return
            sent_at = min(message.sent_at, now) if message.sent_at is not None else now
            await whatsapp.record_inbound(db, message.sender, sent_at)
        role: Role = "admin" if _digits(message.sender) in self._admins else "resident"
        incoming = Incoming(
            CHANNEL,
            message.sender,
            message.sender,
            text=message.text,
            action=message.action,
            lang_hint=lang_hint(message.sender),
            role=role,
            display_name=message.name,
        )
        answer = await self.assistant.handle(incoming)
        replies = answer.replies
        for i, reply in enumerate(replies):
            try:
                await self.sender.deliver(message.sender, [reply], answer.lang)
            except (GraphError, httpx.TransportError) as exc:
                if isinstance(exc, GraphError) and exc.status < 500:
                    raise  # refused for good: resending will not help
                if may_have_arrived(exc):
                    log.warning(
                        "whatsapp: answer to %s got no reply from Graph; not resent", message.wamid
                    )
                    return  # it may be on the phone already: at most once
                await self._retry_later(message, replies[i:], exc)
                return

    async def _retry_later(
        self, message: InboundMessage, replies: list[Reply], error: Exception
    ) -> None:
        """Graph had a server error or could not be reached: the answer (from the reply that
        failed on) goes to the outbox, which resends it with backoff for RETRY_ANSWER_FOR. A
        reply whose first part did arrive may then be seen twice; without this it was lost."""
        log.warning("whatsapp: answer to %s queued for resending: %s", message.wamid, error)
        now = self.store.clock()
        async with self.store.transaction() as db:
            await enqueue(
                db,
                f"{RETRY_OUTBOX_KEY}:{message.wamid}",
                CHANNEL,
                message.sender,
                replies,
                now,
                expires_at=now + RETRY_ANSWER_FOR,
            )


def from_settings(
    settings: Settings, assistant: Assistant, connectors: Connectors
) -> WhatsAppChannel | None:
    """The WhatsApp channel when WHATSAPP_ACCESS_TOKEN is set (the rest must be there too)."""
    if settings.WHATSAPP_ACCESS_TOKEN is None:
        return None
    http = connectors.http or httpx.AsyncClient(timeout=GRAPH_TIMEOUT)
    return WhatsAppChannel(assistant, WhatsAppSettings.of(settings), http, connectors.sleep)
