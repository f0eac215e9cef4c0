"""What a handler receives: the incoming message, the person's language and the services."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.core import Incoming, Lang, Option, Reply
from bot.queue.state import local_day
from bot.store import Store
from bot.understanding import Understanding

StaffListener = Callable[[str, str, bool], Awaitable[None]]


@dataclass(frozen=True)
class Services:
    """Long-lived pieces every handler may use; built once by the composition root."""

    content: Content
    store: Store
    understanding: Understanding
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    # Channels that can send a message nobody asked for (reminders); the web chat cannot.
    push_channels: frozenset[str] = frozenset()
    # Set after a change put messages in the outbox, so the worker sends them at once.
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Told (channel, user key, now staff?) when an administrator edits the staff list, so a
    # channel can show or hide the staff commands in that person's menu.
    staff_listeners: list[StaffListener] = field(default_factory=list)
    # Where hand-overs to an officer go: (channel, chat key) of the staff group, if any.
    staff_chat: tuple[str, str] | None = None

    async def staff_changed(self, channel: str, user_key: str, is_staff: bool) -> None:
        for listener in self.staff_listeners:
            await listener(channel, user_key, is_staff)


@dataclass(frozen=True)
class Context:
    """One message being handled."""

    incoming: Incoming
    lang: Lang
    services: Services

    @property
    def content(self) -> Content:
        return self.services.content

    @property
    def store(self) -> Store:
        return self.services.store

    def today(self) -> dt.date:
        """The local day (TIMEZONE) by the store's clock."""
        return local_day(self.store.clock(), self.services.zone)

    def t(self, key: str, **values: object) -> str:
        """A UI string in the person's language."""
        return self.content.t(key, self.lang, **values)

    def option(self, action: str, key: str, **values: object) -> Option:
        """A button whose label is a UI string."""
        return Option(action, self.t(key, **values))

    def reply(self, text: str, *options: Option) -> Reply:
        return Reply(text, tuple(options))
