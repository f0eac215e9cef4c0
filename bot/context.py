"""What a handler receives: the incoming message, the person's language and the services."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.actions import MENU
from bot.clock import Clock, local_day, utcnow
from bot.config import Settings
from bot.content import Content, load_content
from bot.core import Incoming, Lang, Option, Reply
from bot.queue_desk import QueueDesk
from bot.store import Store
from bot.store.bookkeeping import Bookkeeping
from bot.understanding import Understanding

log = logging.getLogger(__name__)
StaffListener = Callable[[str, str, bool], Awaitable[None]]


@dataclass(frozen=True)
class Services:
    """Long-lived pieces every handler may use; built once by the composition root."""

    content: Content
    store: Store
    understanding: Understanding
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    # Channels that can send a message nobody asked for (reminders); the web chat cannot.
    push_channels: AbstractSet[str] = frozenset()
    # Set after a change put messages in the outbox, so the worker sends them at once.
    outbox_wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Told (channel, user key, now staff?) when an administrator edits the staff list, so a
    # channel can show or hide the staff commands in that person's menu.
    staff_listeners: list[StaffListener] = field(default_factory=list)
    # Where hand-overs to an officer go: (channel, chat key) of the staff group, if any.
    staff_chat: tuple[str, str] | None = None
    # Last seen and counters, written behind in batches (answering needs no write).
    bookkeeping: Bookkeeping = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bookkeeping", Bookkeeping(self.store))

    def queue_desk(self) -> QueueDesk:
        """Today's queue over this store; cheap, one per request."""
        return QueueDesk(self.store, self.content, self.zone, self.outbox_wake)

    async def staff_changed(self, channel: str, user_key: str, is_staff: bool) -> None:
        for listener in self.staff_listeners:
            await listener(channel, user_key, is_staff)


async def open_services(
    settings: Settings,
    clock: Clock = utcnow,
    understanding: Understanding | None = None,
    database: Path | str | None = None,
    push_channels: AbstractSet[str] = frozenset(),
    staff_chat: tuple[str, str] | None = None,
) -> Services:
    """Load content (raises ContentError), open the store, build the engine unless given."""
    content = understanding.content if understanding else load_content(settings.CONTENT_DIR)
    store = await Store.open(database or settings.DATABASE_PATH, clock=clock)
    try:
        if understanding is None:
            log.info("understanding: preparing the question engine (a few seconds)")
            understanding = Understanding(content, cache_dir=settings.data_dir)
    except BaseException:
        await store.close()
        raise
    return Services(
        content=content,
        store=store,
        understanding=understanding,
        zone=settings.zone,
        push_channels=push_channels,
        staff_chat=staff_chat,
    )


@dataclass(frozen=True)
class Answer:
    """What the assistant says back, and the language it is in: channels render labels of
    their own (WhatsApp's list button) in it instead of deciding the language again."""

    replies: list[Reply]
    lang: Lang


@dataclass(frozen=True)
class Context:
    """One message being handled. `lang` is the person's /bahasa choice when `lang_chosen`,
    otherwise the platform's hint, which the message's own language may still override."""

    incoming: Incoming
    lang: Lang
    services: Services
    lang_chosen: bool = False
    # The conversations this chat has open (bot/store/conversations.py), read with the profile.
    open_conversations: frozenset[str] = frozenset()

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

    def menu_button(self) -> Option:
        """The "Menu" button most replies end with."""
        return self.option(MENU, "btn.menu")

    def unknown_action(self) -> list[Reply]:
        """The reply to a button that no longer means anything (an old message, a gone draft)."""
        return [self.reply(self.t("unknown_action"), self.menu_button())]
