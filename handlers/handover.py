"""Hand-over to an officer: the person's question goes to the staff group with a reference
(#H-0042) and their channel only; a staff member's reply to it goes back through the outbox.
"""

from __future__ import annotations

import re

from bot import actions
from bot.context import Context
from bot.core import STAFF_ROLES, Lang, Reply
from bot.markup import clip, escape_markup
from bot.skm import offer_survey
from bot.store import handovers
from bot.store.audit import add_audit
from bot.store.db import Connection
from bot.store.outbox import enqueue
from handlers import staff
from handlers.announcements import CANCEL_WORDS
from handlers.start import main_menu

REFERENCE = re.compile(r"#H-(\d+)")
STAFF_LANG: Lang = "id"  # the staff group reads Indonesian
# The forwarded question stays one Telegram message, so a reply to it always carries the
# reference (a longer text would be split and its later pieces would have none).
MAX_QUESTION_CHARS = 2000


def can_hand_over(ctx: Context) -> bool:
    """A staff group is configured, its channel can send, and so can the person's."""
    staff_chat = ctx.services.staff_chat
    push = ctx.services.push_channels
    return staff_chat is not None and staff_chat[0] in push and ctx.incoming.channel in push


async def talk_to_officer(ctx: Context, arg: str) -> list[Reply]:
    """`/petugas [pertanyaan]`, the button or the human route: pass the question on, or ask it
    first; without a staff group, how to reach the office."""
    if not can_hand_over(ctx):
        return [Reply(ctx.t("human"), main_menu(ctx))]
    question = arg.strip()
    async with ctx.store.transaction() as db:
        handover = await handovers.open_handover(
            db,
            ctx.incoming.channel,
            ctx.incoming.chat_key,
            ctx.lang,
            not question,
            ctx.store.clock(),
        )
        if question:
            await forward(ctx, db, handover, question)
    if not question:
        cancel = ctx.option(actions.CANCEL_HANDOVER, "ann.btn_cancel")
        return [ctx.reply(ctx.t("handover.ask"), cancel)]
    return confirmation(ctx, handover)


async def take_question(ctx: Context, text: str) -> list[Reply] | None:
    """The question typed after the bot asked for it; None when nothing is waiting."""
    now = ctx.store.clock()
    channel, chat_key = ctx.incoming.channel, ctx.incoming.chat_key
    async with ctx.store.transaction() as db:
        handover = await handovers.waiting_handover(db, channel, chat_key, now)
        if handover is None:
            return None
        await handovers.stop_waiting(db, handover.id)
        if text.strip().lower() in CANCEL_WORDS:
            return [Reply(ctx.t("handover.cancelled"), main_menu(ctx))]
        await forward(ctx, db, handover, text)
    return confirmation(ctx, handover)


async def cancel_handover(ctx: Context, arg: str) -> list[Reply]:
    """The Cancel button while the bot waits for the question."""
    async with ctx.store.transaction() as db:
        handover = await handovers.waiting_handover(
            db, ctx.incoming.channel, ctx.incoming.chat_key, ctx.store.clock()
        )
        if handover is not None:
            await handovers.stop_waiting(db, handover.id)
    return [Reply(ctx.t("handover.cancelled"), main_menu(ctx))]


async def forward(
    ctx: Context, db: Connection, handover: handovers.Handover, question: str
) -> None:
    """The question to the staff group, in the outbox, in the caller's transaction."""
    assert ctx.services.staff_chat is not None
    channel, chat_key = ctx.services.staff_chat
    text = ctx.content.t(
        "handover.forward",
        STAFF_LANG,
        ref=handover.reference,
        channel=handover.channel,
        language=handover.lang,
        body=escape_markup(clip(question.strip(), MAX_QUESTION_CHARS)),
    )
    now = ctx.store.clock()
    await enqueue(
        db, f"{handovers.OUTBOX_KEY}:{handover.id}", channel, chat_key, [Reply(text)], now
    )
    ctx.services.outbox_wake.set()


def confirmation(ctx: Context, handover: handovers.Handover) -> list[Reply]:
    """The reference, the service hours, and whether an officer can read it today."""
    local = ctx.store.clock().astimezone(ctx.services.zone)
    span = ctx.content.office.hours.span(local.weekday())
    open_now = span is not None and span[0] <= local.time() < span[1]
    key = "handover.sent" if open_now else "handover.sent_closed"
    return [Reply(ctx.t(key, ref=handover.reference), main_menu(ctx))]


async def answer_from_staff_group(ctx: Context) -> list[Reply]:
    """A message in the staff group: a reply to a forwarded question goes back to the person
    (through the outbox, audited); anything else there is staff talking and left alone."""
    found = REFERENCE.search(ctx.incoming.reply_to or "")
    text = (ctx.incoming.text or "").strip()
    if found is None or not text:
        return []
    if ctx.incoming.role not in STAFF_ROLES:
        # Being in the group is not enough: only configured or admin-added staff answer people.
        return await staff.refuse(ctx, f"answer {found.group(0)}")
    now = ctx.store.clock()
    async with ctx.store.transaction() as db:
        handover = await handovers.get_handover(db, int(found.group(1)))
        if handover is None:
            return [Reply(ctx.content.t("handover.unknown", STAFF_LANG, ref=found.group(0)))]
        number = await handovers.mark_answered(db, handover.id, now)
        answer = ctx.content.t(
            "handover.answer", handover.lang, ref=handover.reference, body=escape_markup(text)
        )
        await enqueue(
            db,
            f"{handovers.OUTBOX_KEY}:{handover.id}:{number}",
            handover.channel,
            handover.chat_key,
            [Reply(answer)],
            now,
        )
        await offer_survey(
            db,
            ctx.content,
            (handover.channel, handover.chat_key),
            handover.lang,
            ctx.content.survey.handover_service,
            now,
            ctx.services.zone,
        )
        incoming = ctx.incoming
        await add_audit(
            db, now, incoming.channel, incoming.user_key, f"answer {handover.reference}", "done"
        )
    ctx.services.outbox_wake.set()
    return [Reply(ctx.content.t("handover.answer_queued", STAFF_LANG, ref=handover.reference))]
