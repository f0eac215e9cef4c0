"""The composition root: the one place that wires content, store, engine, handlers and channels.

Everything here builds without network, so tests build the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import guard, metrics
from bot.assistant import Assistant
from bot.broadcast import BroadcastHook
from bot.channels import Channel, ChannelFactory, Connectors, telegram, web, whatsapp
from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.context import Services, open_services
from bot.logs import configure_logging
from bot.outbox import OutboxWorker, RateLimiter, Sender, Sleep
from bot.queue_api import queue_routes
from bot.reminders import INTERVAL_SECONDS as REMINDER_INTERVAL_SECONDS
from bot.reminders import send_due_reminders
from bot.store import announcements, outbox
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

    async def scrape(request: Request) -> Response:
        """Prometheus text format; the gauges are read from the database now."""
        reader = app.services.store.reader
        metrics.OUTBOX_PENDING.clear()
        for name, count in (await outbox.pending_by_class(reader)).items():
            metrics.OUTBOX_PENDING.labels(name).set(count)
        metrics.BROADCAST.clear()
        latest = await announcements.latest_broadcast(reader)
        if latest is not None:
            for outcome, count in (await announcements.broadcast_progress(reader, latest)).items():
                metrics.BROADCAST.labels(str(latest), outcome).set(count)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        *queue_routes(app.services, app.settings.QUEUE_API_TOKEN),
        Route("/healthz", healthz),
        Route("/metrics", scrape, methods=["GET"]),
    ]
    limits = {"/api/queue/": guard.QUEUE_BODY}
    for channel in app.channels:
        for route in channel.routes():
            routes.append(route)
            if isinstance(route, Route) and "POST" in (route.methods or ()):
                limits[route.path] = guard.CHANNEL_BODY.get(channel.name, guard.DEFAULT_BODY)
    csp = guard.content_security_policy(app.settings.ALLOWED_ORIGINS)
    middleware = [  # outermost first: a refused body still gets the headers
        Middleware(guard.SecurityHeaders, csp=csp),
        Middleware(guard.BodyLimit, limits=limits, default=guard.DEFAULT_BODY),
    ]
    return Starlette(routes=routes, middleware=middleware)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: it re-raises the signal on exit, which would
    kill the process before Telegram and the database are closed."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def every(
    seconds: float,
    job: Callable[[], Awaitable[object]],
    name: str,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run `job` now and every `seconds` until cancelled; a failure is logged and retried next
    time, the bot keeps running."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed", name)
        await sleep(seconds)


async def _send_due_reminders(services: Services) -> None:
    if await send_due_reminders(services.store, services.content, services.zone):
        services.outbox_wake.set()


async def serve(settings: Settings) -> None:
    """`ukkbot run`: every configured channel in one process until SIGINT/SIGTERM."""
    configure_logging(settings)
    app = await build_app(settings)
    # log_config=None: uvicorn's lines go through our handler (one line, masked) too.
    config = uvicorn.Config(
        build_http(app), host=settings.HTTP_HOST, port=settings.HTTP_PORT, log_config=None
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    outbox: asyncio.Task[None] | None = None
    store, services = app.services.store, app.services
    sweeper = asyncio.create_task(
        every(RETENTION_INTERVAL_SECONDS, lambda: forget_expired(store), "retention sweep")
    )
    reminders = asyncio.create_task(
        every(REMINDER_INTERVAL_SECONDS, lambda: _send_due_reminders(services), "reminders")
    )
    try:
        await app.start()  # after uvicorn.Config, which sets up the loggers channels filter
        # After the channels started: pending reminders from before a restart go out now.
        outbox = asyncio.create_task(app.outbox_worker().run())
        log.info("web chat at http://%s:%s", settings.HTTP_HOST, settings.HTTP_PORT)
        await server.serve()
    finally:
        for task in (outbox, sweeper, reminders):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.close()
        log.info("stopped")
