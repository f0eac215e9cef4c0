"""Forget what is kept past its retention (README "Personal data" lists each): every table
that holds a person's id or number, the unanswered questions and the survey's suggestions.
Some are also trimmed when a new row is written; `ukkbot run` calls `forget_expired` every hour
so that a quiet month does not keep them longer than promised."""

from __future__ import annotations

from bot.store import (
    announcements,
    audit,
    handovers,
    outbox,
    queue,
    reminders,
    survey,
    users,
    whatsapp,
)
from bot.store.db import Store
from bot.store.questions import forget_old_questions

INTERVAL_SECONDS = 3600


async def forget_expired(store: Store) -> None:
    now = store.clock()
    async with store.transaction() as db:
        await handovers.forget_old_handovers(db, now)
        await survey.forget_old_invitations(db, now.date())
        await survey.forget_old_comments(db, now.date())
        await forget_old_questions(db, now)
        await whatsapp.forget_old_ids(db, now)
        await whatsapp.forget_old_windows(db, now)
        await users.forget_old_users(db, now)
        await audit.forget_old_audit(db, now)
        await outbox.forget_old_messages(db, now, except_prefix=f"{handovers.OUTBOX_KEY}:")
        await announcements.forget_old_announcements(db, now)
        await queue.forget_old_alerts(db, now)
        await reminders.forget_expired(db, now.date())
        await reminders.forget_old_drafts(db, now)
