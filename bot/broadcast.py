"""Announcement broadcasts through the outbox: the rows for every subscriber, written in the
transaction that publishes the announcement, and the creator's summary once the last row is done.
"""

from __future__ import annotations

import aiosqlite

from bot.content import Content
from bot.core import LANGS, Lang, Option, Reply
from bot.markup import escape_markup
from bot.outbox import Blocked, enqueue, replies_to_json
from bot.store import announcements as repo
from bot.store.db import Clock

UNSUBSCRIBE_ACTION = "s:-"


def broadcast_reply(content: Content, announcement: repo.Announcement, lang: Lang) -> Reply:
    """The message a subscriber gets, with a button to stop the subscription."""
    text = content.t("ann.broadcast", lang, body=escape_markup(announcement.text(lang)))
    return Reply(text, (Option(UNSUBSCRIBE_ACTION, content.t("sub.btn_stop", lang)),))


def progress_text(content: Content, lang: Lang, counts: dict[str, int]) -> str:
    return content.t("ann.progress", lang, **counts)


async def publish(
    db: aiosqlite.Connection,
    content: Content,
    announcement: repo.Announcement,
    channels: frozenset[str],
    clock: Clock,
) -> int:
    """Put the announcement in the outbox for every active subscriber; how many."""
    replies = {
        lang: replies_to_json([broadcast_reply(content, announcement, lang)]) for lang in LANGS
    }
    return await repo.enqueue_broadcast(db, announcement.id, replies, channels, clock())


class BroadcastHook:
    """The outbox worker's done hook: a person who blocked the bot is unsubscribed; when the
    last row of a broadcast is done, its creator gets a summary (through the outbox, once)."""

    def __init__(self, content: Content, clock: Clock) -> None:
        self.content = content
        self.clock = clock

    async def __call__(
        self, db: aiosqlite.Connection, row: aiosqlite.Row, outcome: str, error: str | None
    ) -> None:
        now = self.clock()
        if error == Blocked.__name__:
            await repo.unsubscribe(db, row["channel"], row["chat_key"], now)
        kind, _, rest = str(row["key"]).partition(":")
        if kind != repo.BROADCAST_KEY:
            return
        announcement_id = int(rest.split(":", 1)[0])
        if await repo.broadcast_pending(db, announcement_id):
            return
        announcement = await repo.get_announcement(db, announcement_id)
        if announcement is None:
            return
        counts = await repo.broadcast_progress(db, announcement_id)
        lang = await _language(db, announcement.channel, announcement.user_key)
        counts.pop("pending")
        text = self.content.t("ann.summary", lang, id=announcement_id, **counts)
        await enqueue(
            db,
            f"{repo.SUMMARY_KEY}:{announcement_id}",
            announcement.channel,
            announcement.chat_key,
            [Reply(text)],
            now,
        )


async def _language(db: aiosqlite.Connection, channel: str, user_key: str) -> Lang:
    rows = await db.execute_fetchall(
        "SELECT language FROM users WHERE channel = ? AND user_key = ?", (channel, user_key)
    )
    return "en" if any(row["language"] == "en" for row in rows) else "id"
