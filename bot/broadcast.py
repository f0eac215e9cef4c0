"""Announcement broadcasts through the outbox: the rows for every subscriber, written in the
transaction that publishes the announcement, and the creator's summary once the last row is done.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from bot import actions
from bot.clock import Clock
from bot.content import Content
from bot.core import LANGS, Lang, Option, Reply
from bot.markup import escape_markup
from bot.outbox import Blocked
from bot.store import announcements, reminders, users
from bot.store.db import Connection, Row
from bot.store.outbox import enqueue, replies_to_json


def broadcast_reply(
    content: Content, announcement: announcements.Announcement, lang: Lang
) -> Reply:
    """The message a subscriber gets, its kind first, with a button to stop the subscription."""
    kind = content.t(f"ann.kind.{announcement.kind}", lang)
    body = f"**{kind}**\n{escape_markup(announcement.text(lang))}"
    text = content.t("ann.broadcast", lang, body=body)
    return Reply(text, (Option(actions.UNSUBSCRIBE, content.t("sub.btn_stop", lang)),))


def progress_text(content: Content, lang: Lang, counts: dict[str, int]) -> str:
    return content.t("ann.progress", lang, **counts)


async def publish(
    db: Connection,
    content: Content,
    announcement: announcements.Announcement,
    channels: AbstractSet[str],
    clock: Clock,
) -> int:
    """Put the announcement in the outbox for every active subscriber; how many."""
    replies = {
        lang: replies_to_json([broadcast_reply(content, announcement, lang)]) for lang in LANGS
    }
    return await announcements.enqueue_broadcast(db, announcement, replies, channels, clock())


class BroadcastHook:
    """The outbox worker's done hook: a person who blocked the bot is unsubscribed and their
    expiry reminders forgotten; when the last row of a broadcast is done, its creator gets a
    summary (through the outbox, once)."""

    def __init__(self, content: Content, clock: Clock) -> None:
        self.content = content
        self.clock = clock

    async def __call__(self, db: Connection, row: Row, outcome: str, error: str | None) -> None:
        now = self.clock()
        if error == Blocked.__name__:
            await announcements.unsubscribe(db, row["channel"], row["chat_key"], now)
            await reminders.forget_chat(db, row["channel"], row["chat_key"])
        kind, _, rest = str(row["key"]).partition(":")
        if kind != announcements.BROADCAST_KEY:
            return
        announcement_id = int(rest.split(":", 1)[0])
        if await announcements.broadcast_pending(db, announcement_id):
            return
        announcement = await announcements.get_announcement(db, announcement_id)
        if announcement is None:
            return
        counts = await announcements.broadcast_progress(db, announcement_id)
        lang = await users.get_language(db, announcement.channel, announcement.user_key) or "id"
        counts.pop("pending")
        text = self.content.t("ann.summary", lang, id=announcement_id, **counts)
        await enqueue(
            db,
            f"{announcements.SUMMARY_KEY}:{announcement_id}",
            announcement.channel,
            announcement.chat_key,
            [Reply(text)],
            now,
        )
