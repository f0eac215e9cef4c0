"""Forget what is kept past its retention, even when nothing new arrives to trigger it: old
hand-overs and their messages, unanswered questions, WhatsApp message ids. Each of these is
also trimmed when a new one is written; `ukkbot run` calls `forget_expired` every hour so that
a quiet month does not keep them longer than promised."""

from __future__ import annotations

from bot.store.db import Store
from bot.store.handovers import forget_old_handovers
from bot.store.questions import forget_old_questions
from bot.store.whatsapp import forget_old_ids

INTERVAL_SECONDS = 3600


async def forget_expired(store: Store) -> None:
    now = store.clock()
    async with store.transaction() as db:
        await forget_old_handovers(db, now)
        await forget_old_questions(db, now)
        await forget_old_ids(db, now)
