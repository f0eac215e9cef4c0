"""Announcements: residents read and subscribe; staff write one in a short guided conversation
(text → English → expiry → preview → publish), edit, end, delete and follow its broadcast.

The conversation's state is a row in the store, so it survives a restart; while it is open the
staff member's free text goes to it (see `continue_draft`, routed before the engine).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import actions
from bot.broadcast import progress_text, publish
from bot.context import Context
from bot.core import STAFF_ROLES, Lang, Option, Reply
from bot.markup import escape_markup
from bot.store import announcements
from bot.store.audit import add_audit
from bot.store.db import Connection
from handlers.staff import audit_view
from handlers.start import main_menu, shown_text

MAX_TEXT_CHARS = 1500  # leaves room for the broadcast's heading within every channel's limit
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y")
CANCEL_WORDS = frozenset({"batal", "cancel"})
SKIP_WORDS = frozenset({"lewati", "skip", "-"})
ENGLISH_WORDS = frozenset({"en", "english", "inggris"})
SKIP, CANCEL, PUBLISH = "skip", "cancel", "ok"


def subscription_option(ctx: Context, subscribed: bool) -> Option:
    if subscribed:
        return ctx.option(actions.UNSUBSCRIBE, "sub.btn_stop")
    return ctx.option(actions.SUBSCRIBE, "sub.btn_subscribe")


def staff_line(
    ctx: Context, announcement: announcements.Announcement, counts: dict[str, int]
) -> str:
    day = ctx.today()
    if announcement.ended:
        state = ctx.t("ann.state.ended")
    elif not announcement.active_on(day):
        state = ctx.t("ann.state.expired")
    elif announcement.expires_on is not None:
        state = ctx.t("ann.state.until", date=announcement.expires_on.isoformat())
    else:
        state = ctx.t("ann.state.active")
    return ctx.t(
        "ann.staff_item",
        id=announcement.id,
        state=state,
        progress=progress_text(ctx.content, ctx.lang, counts),
        body=shown_text(ctx, announcement),
    )


async def show_announcements(ctx: Context, arg: str) -> list[Reply]:
    """Active announcements, newest first, with the subscribe or stop button; staff see the
    latest ones, ended too, with their numbers and broadcast figures."""
    if ctx.incoming.role in STAFF_ROLES:
        return await show_staff_announcements(ctx)
    active = await announcements.active_announcements(ctx.store.reader, ctx.today())
    lines = [ctx.t("ann.title")]
    for announcement in active:
        item = ctx.t("ann.item", body=shown_text(ctx, announcement))
        if announcement.expires_on is not None:
            item = f"{item}\n{ctx.t('ann.until', date=announcement.expires_on.isoformat())}"
        lines.append(item)
    if not active:
        lines.append(ctx.t("ann.none"))
    options = [ctx.menu_button()]
    incoming = ctx.incoming
    if incoming.channel in ctx.services.push_channels:
        subscribed = await announcements.is_subscribed(
            ctx.store.db, incoming.channel, incoming.chat_key
        )
        options.insert(0, subscription_option(ctx, subscribed))
    return [ctx.reply("\n\n".join(lines), *options)]


async def show_staff_announcements(ctx: Context) -> list[Reply]:
    lines = [ctx.t("ann.staff_title")]
    for announcement in await announcements.recent_announcements(ctx.store.db):
        counts = await announcements.broadcast_progress(ctx.store.db, announcement.id)
        lines.append(staff_line(ctx, announcement, counts))
    if len(lines) == 1:
        lines.append(ctx.t("ann.none"))
    return [Reply("\n\n".join(lines), main_menu(ctx))]


async def subscribe(ctx: Context, arg: str) -> list[Reply]:
    """`/langganan`: new announcements are sent to this chat."""
    if ctx.incoming.channel not in ctx.services.push_channels:
        return [
            ctx.reply(
                ctx.t("sub.unavailable"), ctx.option(actions.ANNOUNCEMENTS, "menu.announcements")
            )
        ]
    async with ctx.store.transaction() as db:
        new = await announcements.subscribe(
            db, ctx.incoming.channel, ctx.incoming.chat_key, ctx.lang, ctx.store.clock()
        )
    key = "sub.done" if new else "sub.already"
    return [ctx.reply(ctx.t(key), subscription_option(ctx, True), ctx.menu_button())]


async def unsubscribe(ctx: Context, arg: str) -> list[Reply]:
    """`/berhenti`: no more announcements to this chat."""
    async with ctx.store.transaction() as db:
        stopped = await announcements.unsubscribe(
            db, ctx.incoming.channel, ctx.incoming.chat_key, ctx.store.clock()
        )
    key = "sub.stopped" if stopped else "sub.not_subscribed"
    options = [ctx.menu_button()]
    if ctx.incoming.channel in ctx.services.push_channels:
        options.insert(0, subscription_option(ctx, False))
    return [ctx.reply(ctx.t(key), *options)]


async def change_subscription(ctx: Context, arg: str) -> list[Reply]:
    """The subscribe / stop buttons (`s:+`, `s:-`)."""
    return await (subscribe(ctx, "") if arg == "+" else unsubscribe(ctx, ""))


# --- the staff conversation -------------------------------------------------------------


def draft_option(ctx: Context, choice: str, key: str) -> Option:
    return ctx.option(f"{actions.DRAFT}:{choice}", key)


def question(ctx: Context, draft: announcements.Draft, problem: str | None = None) -> list[Reply]:
    """The question of the draft's step (after what was wrong with the last answer)."""
    cancel = draft_option(ctx, CANCEL, "ann.btn_cancel")
    skip = draft_option(ctx, SKIP, "ann.btn_skip")
    options: tuple[Option, ...]
    match draft.step:
        case "text_id":
            text, options = ctx.t("ann.ask_text_id", max=MAX_TEXT_CHARS), (cancel,)
        case "text_en":
            text, options = ctx.t("ann.ask_text_en", max=MAX_TEXT_CHARS), (skip, cancel)
        case "expiry":
            text, options = ctx.t("ann.ask_expiry"), (skip, cancel)
        case "confirm":
            text = preview(ctx, draft)
            options = (draft_option(ctx, PUBLISH, "ann.btn_publish"), cancel)
    if problem is not None:
        text = f"{problem}\n\n{text}"
    return [Reply(text, options)]


def preview(ctx: Context, draft: announcements.Draft) -> str:
    return ctx.t(
        "ann.preview",
        text_id=escape_markup(draft.text_id or ""),
        text_en=escape_markup(draft.text_en) if draft.text_en else ctx.t("ann.no_english"),
        until=draft.expires_on.isoformat() if draft.expires_on else ctx.t("ann.no_expiry"),
    )


def parse_date(text: str) -> dt.date | None:
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


async def save(ctx: Context, draft: announcements.Draft) -> None:
    async with ctx.store.transaction() as db:
        await announcements.save_draft(
            db, ctx.incoming.channel, ctx.incoming.user_key, draft, ctx.store.clock()
        )


async def start_announcement(ctx: Context, arg: str) -> list[Reply]:
    """`/umumkan`: begin a new announcement (a draft in progress starts over)."""
    draft = announcements.Draft("text_id")
    await save(ctx, draft)
    return question(ctx, draft)


async def continue_draft(ctx: Context, text: str) -> list[Reply] | None:
    """Typed text while a staff member writes an announcement; None when none is open."""
    if ctx.incoming.role not in STAFF_ROLES:
        return None
    draft = await announcements.get_draft(ctx.store.db, ctx.incoming.channel, ctx.incoming.user_key)
    if draft is None:
        return None
    word = text.strip().lower()
    if word in CANCEL_WORDS:
        return await step_draft(ctx, draft, CANCEL)
    if word in SKIP_WORDS:
        return await step_draft(ctx, draft, SKIP)
    return await step_draft(ctx, draft, None, text.strip())


async def answer_draft(ctx: Context, arg: str) -> list[Reply]:
    """The conversation's buttons: `ad:skip`, `ad:cancel`, `ad:ok`."""
    draft = await announcements.get_draft(ctx.store.db, ctx.incoming.channel, ctx.incoming.user_key)
    if draft is None:
        return ctx.unknown_action()
    return await step_draft(ctx, draft, arg)


async def step_draft(
    ctx: Context, draft: announcements.Draft, choice: str | None, text: str = ""
) -> list[Reply]:
    """Apply one answer (a button choice or typed text) to the draft and ask what comes next."""
    if choice == CANCEL:
        async with ctx.store.transaction() as db:
            await announcements.delete_draft(db, ctx.incoming.channel, ctx.incoming.user_key)
        return [Reply(ctx.t("ann.cancelled"), main_menu(ctx))]
    match draft.step, choice:
        case "text_id", None:
            if len(text) > MAX_TEXT_CHARS:
                return question(ctx, draft, ctx.t("ann.bad_text", max=MAX_TEXT_CHARS))
            draft = replace(draft, step="text_en", text_id=text)
        case "text_en", None:
            if len(text) > MAX_TEXT_CHARS:
                return question(ctx, draft, ctx.t("ann.bad_text", max=MAX_TEXT_CHARS))
            draft = replace(draft, step="expiry", text_en=text)
        case "text_en", "skip":
            draft = replace(draft, step="expiry", text_en=None)
        case "expiry", None:
            day = parse_date(text)
            if day is None:
                return question(ctx, draft, ctx.t("ann.bad_date"))
            if day < ctx.today():
                return question(ctx, draft, ctx.t("ann.past_date"))
            draft = replace(draft, step="confirm", expires_on=day)
        case "expiry", "skip":
            draft = replace(draft, step="confirm", expires_on=None)
        case "confirm", "ok":
            return await publish_draft(ctx, draft)
        case _:
            return question(ctx, draft, ctx.t("ann.use_buttons"))
    await save(ctx, draft)
    return question(ctx, draft)


async def publish_draft(ctx: Context, draft: announcements.Draft) -> list[Reply]:
    """Store the announcement, put its broadcast in the outbox and close the draft, at once."""
    incoming, now = ctx.incoming, ctx.store.clock()
    async with ctx.store.transaction() as db:
        # A second tap on Publish (two at once) finds the draft gone and publishes nothing.
        if await announcements.get_draft(db, incoming.channel, incoming.user_key) is None:
            return ctx.unknown_action()
        announcement_id = await announcements.add_announcement(
            db, draft, incoming.channel, incoming.user_key, incoming.chat_key, now
        )
        announcement = await announcements.get_announcement(db, announcement_id)
        assert announcement is not None
        count = await publish(
            db, ctx.content, announcement, ctx.services.push_channels, ctx.store.clock
        )
        await announcements.delete_draft(db, incoming.channel, incoming.user_key)
        await add_audit(
            db, now, incoming.channel, incoming.user_key, f"/umumkan #{announcement_id}", "done"
        )
    if count:
        ctx.services.outbox_wake.set()
    return [Reply(ctx.t("ann.published", id=announcement_id, count=count), main_menu(ctx))]


# --- managing published announcements -------------------------------------------------


def split_id(arg: str) -> tuple[int, str] | None:
    """The announcement number at the start of `arg` (with or without #) and the rest."""
    first, _, rest = arg.strip().partition(" ")
    number = first.lstrip("#")
    return (int(number), rest.strip()) if number.isdecimal() else None


async def edit_announcement(ctx: Context, arg: str) -> list[Reply]:
    """`/ubahpengumuman 3 <teks>` (or `3 en <text>`): replace an announcement's text."""
    found = split_id(arg)
    if found is None or not found[1]:
        return [Reply(ctx.t("ann.usage_edit"))]
    announcement_id, text = found
    word, _, rest = text.partition(" ")
    lang: Lang = "id"
    if word.lower() in ENGLISH_WORDS and rest.strip():
        lang, text = "en", rest.strip()
    if len(text) > MAX_TEXT_CHARS:
        return [Reply(ctx.t("ann.bad_text", max=MAX_TEXT_CHARS))]
    return await _change(
        ctx,
        announcement_id,
        f"/ubahpengumuman #{announcement_id} {lang}",
        "ann.edited",
        lambda db: announcements.update_text(db, announcement_id, lang, text),
    )


async def end_announcement(ctx: Context, arg: str) -> list[Reply]:
    """`/akhiri 3`: the announcement stops showing now."""
    found = split_id(arg)
    if found is None:
        return [Reply(ctx.t("ann.usage_id", command="/akhiri"))]
    announcement_id = found[0]
    now = ctx.store.clock()
    return await _change(
        ctx,
        announcement_id,
        f"/akhiri #{announcement_id}",
        "ann.ended",
        lambda db: announcements.end_announcement(db, announcement_id, now),
    )


async def delete_announcement(ctx: Context, arg: str) -> list[Reply]:
    """`/hapuspengumuman 3`: delete it, with what of its broadcast has not gone out."""
    found = split_id(arg)
    if found is None:
        return [Reply(ctx.t("ann.usage_id", command="/hapuspengumuman"))]
    announcement_id = found[0]
    return await _change(
        ctx,
        announcement_id,
        f"/hapuspengumuman #{announcement_id}",
        "ann.deleted",
        lambda db: announcements.delete_announcement(db, announcement_id),
    )


async def _change(
    ctx: Context,
    announcement_id: int,
    action: str,
    done_key: str,
    change: Callable[[Connection], Awaitable[bool]],
) -> list[Reply]:
    """Apply a change to one announcement and audit it; say so when there is no such one."""
    incoming = ctx.incoming
    async with ctx.store.transaction() as db:
        changed = await change(db)
        if changed:
            await add_audit(
                db, ctx.store.clock(), incoming.channel, incoming.user_key, action, "done"
            )
    key = done_key if changed else "ann.not_found"
    return [Reply(ctx.t(key, id=announcement_id))]


async def show_broadcast(ctx: Context, arg: str) -> list[Reply]:
    """`/siaran 3`: how the broadcast of announcement 3 is going."""
    found = split_id(arg)
    if found is None:
        return [Reply(ctx.t("ann.usage_id", command="/siaran"))]
    announcement = await announcements.get_announcement(ctx.store.db, found[0])
    if announcement is None:
        return [Reply(ctx.t("ann.not_found", id=found[0]))]
    await audit_view(ctx, f"/siaran #{announcement.id}")
    counts = await announcements.broadcast_progress(ctx.store.db, announcement.id)
    return [Reply(staff_line(ctx, announcement, counts))]
