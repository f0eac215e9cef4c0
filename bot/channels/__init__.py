"""Channel adapters: each turns its platform's updates into Incoming and renders Replies.

A channel is a plug-in: it satisfies `Channel` and `bot.app.build_app` lists its factory in
`CHANNELS`, one line (docs/channels.md says how to add one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.routing import BaseRoute

from bot.outbox import Sender

if TYPE_CHECKING:
    import httpx
    from telegram.request import BaseRequest

    from bot.assistant import Assistant
    from bot.config import Settings


class Channel(Protocol):
    """What the app needs of a channel. Subclass it to inherit the defaults: no HTTP routes,
    nothing to start or stop, no sending nobody asked for."""

    name: str

    def routes(self) -> list[BaseRoute]:
        """HTTP endpoints on the one server (webhooks, pages)."""
        return []

    async def start(self) -> None:
        """Connect (poll, register a webhook); called once the HTTP server is configured."""
        return None

    async def stop(self) -> None:
        """Let go of connections; pending work finishes first."""
        return None

    @property
    def sender(self) -> Sender | None:
        """What the outbox sends reminders and broadcasts through; None when the channel can
        only answer (the web chat)."""
        return None

    async def staff_changed(self, user_key: str, is_staff: bool) -> None:
        """An administrator changed the staff list on this channel."""
        return None


@dataclass(frozen=True)
class Connectors:
    """What tests put in place of the platforms' networks (fakes at the HTTP boundary)."""

    telegram_request: BaseRequest | None = None
    http: httpx.AsyncClient | None = None
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


# Builds a channel when its settings are there; None when it is not configured.
ChannelFactory = Callable[["Settings", "Assistant", Connectors], "Channel | None"]
