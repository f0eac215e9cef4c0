"""The composition root: the one place that wires content, store, engine, handlers and channels.

Everything here builds without network, so tests build the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.assistant import Assistant
from bot.broadcast import BroadcastHook
from bot.channels.telegram import CHANNEL as TELEGRAM_CHANNEL
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.web import web_routes
from bot.channels.whatsapp import CHANNEL as WHATSAPP_CHANNEL
from bot.channels.whatsapp import WEBHOOK_PATH as WHATSAPP_WEBHOOK_PATH
from bot.channels.whatsapp import RedactVerifyToken, Sleep, WhatsAppChannel
from bot.config import Settings
from bot.content import load_content
from bot.context import Services
from bot.outbox import OutboxWorker, RateLimiter, Sender
from bot.queue.api import queue_routes
from bot.store import Store
from bot.store.db import Clock, utcnow
from bot.store.retention import INTERVAL_SECONDS as RETENTION_INTERVAL_SECONDS
from bot.store.retention import forget_expired
from bot.understanding import Understanding

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"
GRAPH_TIMEOUT = 15.0  # seconds for one Graph API call


@dataclass
class App:
    """The running pieces, closed together."""

    settings: Settings
    services: Services
    assistant: Assistant
    telegram: TelegramChannel | None = None
    whatsapp: WhatsAppChannel | None = None

    def outbox_worker(self) -> OutboxWorker:
        """The worker that sends reminders and broadcasts through every channel able to send
        unprompted, each at BROADCAST_RATE, and tells an announcement's creator how it went."""
        senders: dict[str, Sender] = {}
        if self.telegram is not None:
            senders[TELEGRAM_CHANNEL] = self.telegram
        if self.whatsapp is not None:
            senders[WHATSAPP_CHANNEL] = self.whatsapp.sender
        store = self.services.store
        return OutboxWorker(
            store,
            senders,
            self.services.outbox_wake,
            limiters={name: RateLimiter(self.settings.BROADCAST_RATE) for name in senders},
            on_done=BroadcastHook(self.services.content, store.clock),
        )

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.stop()
        if self.whatsapp is not None:
            await self.whatsapp.stop()
        await self.services.store.close()


async def build_app(
    settings: Settings,
    clock: Clock = utcnow,
    with_telegram: bool = True,
    understanding: Understanding | None = None,
    whatsapp_http: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
) -> App:
    """Load content (raises ContentError), open the store, build the assistant and channels.

    Tests pass `understanding` (one engine built from the same content; it takes ~1 s), and
    `whatsapp_http` and `sleep` to put a fake Graph API and a recording sleep in place.
    """
    content = understanding.content if understanding else load_content(settings.CONTENT_DIR)
    store = await Store.open(settings.DATABASE_PATH, clock=clock)
    has_telegram = settings.TELEGRAM_BOT_TOKEN is not None
    has_whatsapp = settings.WHATSAPP_ACCESS_TOKEN is not None
    # Channels that can send reminders whenever they are configured: `ukkbot run` drains them.
    push = {TELEGRAM_CHANNEL} if has_telegram else set()
    push |= {WHATSAPP_CHANNEL} if has_whatsapp else set()
    if understanding is None:
        log.info("understanding: preparing the question engine (a few seconds)")
        understanding = Understanding(content, cache_dir=settings.data_dir)
    services = Services(
        content=content,
        store=store,
        understanding=understanding,
        zone=settings.zone,
        push_channels=frozenset(push),
        staff_chat=(
            (TELEGRAM_CHANNEL, str(settings.STAFF_CHAT_ID))
            if has_telegram and settings.STAFF_CHAT_ID is not None
            else None
        ),
    )
    assistant = Assistant(services)
    app = App(settings, services, assistant)
    if with_telegram and has_telegram:
        app.telegram = TelegramChannel(build_application(settings), assistant, settings)
    if has_whatsapp:
        http = whatsapp_http or httpx.AsyncClient(timeout=GRAPH_TIMEOUT)
        app.whatsapp = WhatsAppChannel(assistant, settings, http, sleep=sleep)
    return app


def build_http(app: App) -> Starlette:
    """The one HTTP server: web chat, health, the queue API, and the Telegram and WhatsApp
    webhooks when configured."""

    async def healthz(request: Request) -> Response:
        database = "ok"
        try:
            await app.services.store.ping()
        except Exception:
            database = "error"
        body = {
            "status": "ok" if database == "ok" else "degraded",
            "content": {"topics": len(app.services.content.topics)},
            "database": database,
        }
        return JSONResponse(body, status_code=200 if database == "ok" else 503)

    routes = [
        *web_routes(app.assistant),
        *queue_routes(app.services, app.settings.QUEUE_API_TOKEN),
        Route("/healthz", healthz),
    ]
    if app.telegram is not None and app.settings.TELEGRAM_WEBHOOK_URL:
        path = urlparse(app.settings.TELEGRAM_WEBHOOK_URL).path or TELEGRAM_WEBHOOK_PATH
        routes.append(app.telegram.webhook_route(path))
    if app.whatsapp is not None:
        routes.extend(app.whatsapp.webhook_routes())
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: it re-raises the signal on exit, which would
    kill the process before Telegram and the database are closed."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _forget_expired_hourly(store: Store) -> None:
    while True:
        try:
            await forget_expired(store)
        except Exception:  # a failed sweep is retried next hour; the bot keeps running
            log.exception("retention sweep failed")
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


async def serve(settings: Settings) -> None:
    """`ukkbot run`: every configured channel in one process until SIGINT/SIGTERM."""
    app = await build_app(settings)
    config = uvicorn.Config(
        build_http(app), host=settings.HTTP_HOST, port=settings.HTTP_PORT, log_level="info"
    )
    server = _Server(config)
    if app.whatsapp is not None:  # after uvicorn.Config, which sets up its loggers
        logging.getLogger("uvicorn.access").addFilter(RedactVerifyToken())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    outbox: asyncio.Task[None] | None = None
    sweeper = asyncio.create_task(_forget_expired_hourly(app.services.store))
    try:
        if app.telegram is not None:
            await app.telegram.start()
        if app.whatsapp is not None:
            log.info("whatsapp: webhook at %s", WHATSAPP_WEBHOOK_PATH)
        # After the channels started: pending reminders from before a restart go out now.
        outbox = asyncio.create_task(app.outbox_worker().run())
        log.info("web chat at http://%s:%s", settings.HTTP_HOST, settings.HTTP_PORT)
        await server.serve()
    finally:
        for task in (outbox, sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.close()
        log.info("stopped")
