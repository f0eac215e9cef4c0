"""Forget what is kept past its retention, even when nothing new arrives to trigger it: old
hand-overs and their messages, unanswered questions, WhatsApp message ids, survey invitations.
Each of these is also trimmed when a new one is written; `ukkbot run` calls `forget_expired`
every hour so that a quiet month does not keep them longer than promised."""

from __future__ import annotations

from bot.store.db import QUESTION_RETENTION, WHATSAPP_ID_RETENTION, Store, as_text
from bot.store.handovers import forget_old_handovers
from bot.store.survey import forget_old_invitations

INTERVAL_SECONDS = 3600


async def forget_expired(store: Store) -> None:
    now = store.clock()
    async with store.transaction() as db:
        await forget_old_handovers(db, now)
        await forget_old_invitations(db, now.date())
        await db.execute(
            "DELETE FROM questions WHERE last_seen < ?", (as_text(now - QUESTION_RETENTION),)
        )
        await db.execute(
            "DELETE FROM whatsapp_messages WHERE received < ?",
            (as_text(now - WHATSAPP_ID_RETENTION),),
        )
