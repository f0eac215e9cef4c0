"""The composition root: the one place that wires content, store, engine, handlers and channels.

Everything here builds without network, so tests build the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shutil
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from bot.config import Settings, StartupError
from bot.context import Services, open_services
from bot.logs import configure_logging
from bot.outbox import OutboxWorker, RateLimiter, Sender, Sleep
from bot.queue_api import queue_routes
from bot.reminders import INTERVAL_SECONDS as REMINDER_INTERVAL_SECONDS
from bot.reminders import send_due_reminders
from bot.store import StoreError, announcements, outbox
from bot.store.retention import INTERVAL_SECONDS as RETENTION_INTERVAL_SECONDS
from bot.store.retention import forget_expired
from bot.understanding import Understanding

log = logging.getLogger(__name__)

HEALTH_WRITE_SECONDS = 0.8  # /healthz waits this long for its test write, then says "busy"
MIN_FREE_BYTES = 100 * 2**20  # below this on the database's disk /healthz reports "low"
CHANNEL_FIRST_RETRY = 5.0  # seconds before a channel that failed to start is tried again
CHANNEL_MAX_RETRY = 300.0  # the pause doubles up to this


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


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
    # Each channel's state for /healthz: "starting", "up", "retrying (Error)", "stopped".
    states: dict[str, str] = field(default_factory=dict)
    # The senders of the channels not known to be down: the outbox sends through these only,
    # so messages for a channel whose start failed wait instead of using up their attempts.
    senders: dict[str, Sender] = field(default_factory=dict)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    disk_free: Callable[[Path], int] = free_bytes
    _retries: list[asyncio.Task[None]] = field(default_factory=list)

    def add(self, channel: Channel) -> None:
        """Run `channel` with the others: its routes, start and stop, sender, staff changes."""
        self.channels.append(channel)
        self.states[channel.name] = "stopped"
        if channel.sender is not None:
            self.push_channels.add(channel.name)
            self.senders[channel.name] = channel.sender

        async def staff_changed(channel_name: str, user_key: str, is_staff: bool) -> None:
            if channel_name == channel.name:
                await channel.staff_changed(user_key, is_staff)

        self.services.staff_listeners.append(staff_changed)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def outbox_worker(self) -> OutboxWorker:
        """The worker that sends reminders and broadcasts through every channel that is up and
        able to send unprompted, each at BROADCAST_RATE, and tells an announcement's creator
        how it went."""
        store = self.services.store
        rate = self.settings.BROADCAST_RATE
        return OutboxWorker(
            store,
            self.senders,
            self.services.outbox_wake,
            limiters={name: RateLimiter(rate, sleep=self.sleep) for name in self.push_channels},
            on_done=BroadcastHook(self.services.content, store.clock),
        )

    async def start(self) -> None:
        """Start every channel; one that fails (its platform is down) is retried in the
        background with a growing pause while the others serve."""
        for channel in self.channels:
            if not await self._start(channel):
                self._retries.append(asyncio.create_task(self._keep_starting(channel)))

    async def _start(self, channel: Channel) -> bool:
        self.states[channel.name] = "starting"
        try:
            await channel.start()
        except Exception as exc:
            self.senders.pop(channel.name, None)
            self.states[channel.name] = f"retrying ({type(exc).__name__})"
            log.warning("%s: could not start (%s); retrying", channel.name, type(exc).__name__)
            with contextlib.suppress(Exception):
                await channel.stop()  # let go of what the failed start opened
            return False
        self.states[channel.name] = "up"
        if channel.sender is not None:
            self.senders[channel.name] = channel.sender
            self.services.outbox_wake.set()  # what waited for it goes out now
        return True

    async def _keep_starting(self, channel: Channel) -> None:
        pause = CHANNEL_FIRST_RETRY
        while True:
            await self.sleep(pause)
            if await self._start(channel):
                log.info("%s: started", channel.name)
                return
            pause = min(pause * 2, CHANNEL_MAX_RETRY)

    async def close(self) -> None:
        """Stop what was started and close the store, even when a step fails."""
        for task in self._retries:
            task.cancel()
        await asyncio.gather(*self._retries, return_exceptions=True)
        for channel in self.channels:
            self.senders.pop(channel.name, None)
            try:
                await channel.stop()
            except Exception as exc:
                log.warning("%s: stopping failed (%s)", channel.name, type(exc).__name__)
            self.states[channel.name] = "stopped"
        await self.services.bookkeeping.flush()
        await self.services.store.close()

    async def health(self) -> tuple[bool, dict[str, object]]:
        """Whether the bot can keep its promises (the database takes writes, the disk has
        room), and the figures /healthz shows; within about HEALTH_WRITE_SECONDS."""
        database = await self.services.store.write_health(HEALTH_WRITE_SECONDS)
        try:
            free: int | None = self.disk_free(self.settings.data_dir)
        except OSError:
            free = None
        disk = "ok" if free is not None and free >= MIN_FREE_BYTES else "low"
        healthy = database == "ok" and disk == "ok"
        degraded = not healthy or any(state != "up" for state in self.states.values())
        return healthy, {
            "status": "degraded" if degraded else "ok",
            "content": {"topics": len(self.services.content.topics)},
            "database": database,
            "disk": {"state": disk, "free_mib": None if free is None else free // 2**20},
            "channels": dict(self.states),
        }


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
    try:
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
    except StoreError as exc:
        raise StartupError(f"DATABASE_PATH: {exc}") from exc
    connectors = connectors or Connectors()
    assistant = Assistant(services)
    app = App(settings, services, assistant, push_channels=push, sleep=connectors.sleep)
    try:
        for factory in channels:
            channel = factory(settings, assistant, connectors)
            if channel is not None:
                app.add(channel)
    except BaseException:
        await services.store.close()
        raise
    return app


def build_http(app: App) -> Starlette:
    """The one HTTP server: health, the queue API and every channel's routes."""

    async def healthz(request: Request) -> Response:
        healthy, body = await app.health()
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def scrape(request: Request) -> Response:
        """Prometheus text format; the gauges are read from the database now."""
        reader = app.services.store.reader
        metrics.OUTBOX_PENDING.clear()
        for (priority, family), count in (await outbox.pending_by_class(reader)).items():
            metrics.OUTBOX_PENDING.labels(priority, family).set(count)
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


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, taken before anything else starts: a port in use ends start-up
    at once instead of after the channels connected."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise StartupError(f"HTTP_PORT: cannot listen on {host}:{port} ({exc.strerror})") from exc


async def serve(settings: Settings) -> None:
    """`ukkbot run`: every configured channel in one process until SIGINT/SIGTERM.

    Start-up fails fast (StartupError, ContentError) on a port in use, bad content or a
    database that cannot be opened or written, closing what it had opened."""
    configure_logging(settings)
    sock = listen(settings.HTTP_HOST, settings.HTTP_PORT)
    try:
        app = await build_app(settings)
    except BaseException:
        sock.close()
        raise
    # The engine and content are ~90,000 objects that live as long as the process: kept out of
    # the collector's full passes, which otherwise stall every answer in flight for ~0.1 s.
    gc.freeze()
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
    bookkeeper = asyncio.create_task(services.bookkeeping.run())
    try:
        await app.start()  # after uvicorn.Config, which sets up the loggers channels filter
        # After the channels started: pending reminders from before a restart go out now.
        outbox = asyncio.create_task(app.outbox_worker().run())
        log.info("web chat at http://%s:%s", settings.HTTP_HOST, settings.HTTP_PORT)
        await server.serve(sockets=[sock])
    finally:
        sock.close()
        for task in (outbox, sweeper, reminders, bookkeeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.close()
        log.info("stopped")
