"""The composition root: the one place that wires content, store, engine, handlers and channels.

Everything here builds without network, so tests build the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.assistant import Assistant
from bot.broadcast import BroadcastHook
from bot.channels import Channel, ChannelFactory, Connectors, telegram, web, whatsapp
from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.context import Services, open_services
from bot.outbox import OutboxWorker, RateLimiter, Sender, Sleep
from bot.queue_api import queue_routes
from bot.store import Store
from bot.store.retention import INTERVAL_SECONDS as RETENTION_INTERVAL_SECONDS
from bot.store.retention import forget_expired
from bot.understanding import Understanding

log = logging.getLogger(__name__)

# Every channel the app can run: each factory builds its channel when its settings are there.
# Adding a channel is its own module plus one line here (docs/channels.md).
CHANNELS: tuple[ChannelFactory, ...] = (
    web.from_settings,
    telegram.from_settings,
    whatsapp.from_settings,
)


@dataclass
class App:
    """The running pieces, closed together."""

    settings: Settings
    services: Services
    assistant: Assistant
    channels: list[Channel] = field(default_factory=list)
    # The names of the channels able to send unprompted; Services reads the same set.
    push_channels: set[str] = field(default_factory=set)

    def add(self, channel: Channel) -> None:
        """Run `channel` with the others: its routes, start and stop, sender, staff changes."""
        self.channels.append(channel)
        if channel.sender is not None:
            self.push_channels.add(channel.name)

        async def staff_changed(channel_name: str, user_key: str, is_staff: bool) -> None:
            if channel_name == channel.name:
                await channel.staff_changed(user_key, is_staff)

        self.services.staff_listeners.append(staff_changed)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def outbox_worker(self) -> OutboxWorker:
        """The worker that sends reminders and broadcasts through every channel able to send
        unprompted, each at BROADCAST_RATE, and tells an announcement's creator how it went."""
        senders: dict[str, Sender] = {
            c.name: c.sender for c in self.channels if c.sender is not None
        }
        store = self.services.store
        return OutboxWorker(
            store,
            senders,
            self.services.outbox_wake,
            limiters={name: RateLimiter(self.settings.BROADCAST_RATE) for name in senders},
            on_done=BroadcastHook(self.services.content, store.clock),
        )

    async def start(self) -> None:
        for channel in self.channels:
            await channel.start()

    async def close(self) -> None:
        for channel in self.channels:
            await channel.stop()
        await self.services.store.close()


async def build_app(
    settings: Settings,
    clock: Clock = utcnow,
    understanding: Understanding | None = None,
    connectors: Connectors | None = None,
    channels: Sequence[ChannelFactory] = CHANNELS,
) -> App:
    """Load content (raises ContentError), open the store, build the assistant and channels.

    Tests pass `understanding` (one engine built from the same content; it takes ~1 s) and
    `connectors` to put a fake Bot API, a fake Graph API and a recording sleep in place;
    `ukkbot chat` passes no channels.
    """
    push: set[str] = set()  # filled as the channels are added
    services = await open_services(
        settings,
        clock,
        understanding,
        push_channels=push,
        staff_chat=(
            (telegram.CHANNEL, str(settings.STAFF_CHAT_ID))
            if settings.TELEGRAM_BOT_TOKEN is not None and settings.STAFF_CHAT_ID is not None
            else None
        ),
    )
    assistant = Assistant(services)
    app = App(settings, services, assistant, push_channels=push)
    for factory in channels:
        channel = factory(settings, assistant, connectors or Connectors())
        if channel is not None:
            app.add(channel)
    return app


def build_http(app: App) -> Starlette:
    """The one HTTP server: health, the queue API and every channel's routes."""

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

    routes: list[BaseRoute] = [
        *queue_routes(app.services, app.settings.QUEUE_API_TOKEN),
        Route("/healthz", healthz),
    ]
    for channel in app.channels:
        routes.extend(channel.routes())
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: it re-raises the signal on exit, which would
    kill the process before Telegram and the database are closed."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def forget_expired_hourly(store: Store, sleep: Sleep = asyncio.sleep) -> None:
    """The retention sweep every hour until cancelled."""
    while True:
        try:
            await forget_expired(store)
        except Exception:  # a failed sweep is retried next hour; the bot keeps running
            log.exception("retention sweep failed")
        await sleep(RETENTION_INTERVAL_SECONDS)


async def serve(settings: Settings) -> None:
    """`ukkbot run`: every configured channel in one process until SIGINT/SIGTERM."""
    app = await build_app(settings)
    config = uvicorn.Config(
        build_http(app), host=settings.HTTP_HOST, port=settings.HTTP_PORT, log_level="info"
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    outbox: asyncio.Task[None] | None = None
    sweeper = asyncio.create_task(forget_expired_hourly(app.services.store))
    try:
        await app.start()  # after uvicorn.Config, which sets up the loggers channels filter
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
