"""Announcements: residents read and subscribe to the kinds they want; staff write one in a
short guided conversation (kind → text → English → closed days or expiry → preview → publish),
edit, end, delete and follow its broadcast.

The conversation's state is a row in the store, so it survives a restart; while it is open the
staff member's free text goes to it (see `continue_draft`, routed before the engine).
"""

from __future__ import annotations

import datetime as dt
import re
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
from handlers.closures import closed_days
from handlers.staff import audit_view
from handlers.start import main_menu, shown_text

MAX_TEXT_CHARS = 1500  # leaves room for the broadcast's heading within every channel's limit
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y")
CANCEL_WORDS = frozenset({"batal", "cancel"})
SKIP_WORDS = frozenset({"lewati", "skip", "-"})
ENGLISH_WORDS = frozenset({"en", "english", "inggris"})
SKIP, CANCEL, PUBLISH = "skip", "cancel", "ok"
KIND_CHOICE = "k"  # ad:k:<kind> in the conversation, s:k:<kind> to toggle a subscribed kind
MAX_CLOSED_DAYS = 31
_RANGE = re.compile(r"\s*(?:-|–|s/?d|sampai|to|until)\s+", re.IGNORECASE)


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
        body=labelled_text(ctx, announcement),
    )


async def show_announcements(ctx: Context, arg: str) -> list[Reply]:
    """Active announcements, newest first, with the subscribe or stop button; staff see the
    latest ones, ended too, with their numbers and broadcast figures."""
    if ctx.incoming.role in STAFF_ROLES:
        return await show_staff_announcements(ctx)
    active = await announcements.active_announcements(ctx.store.reader, ctx.today())
    lines = [ctx.t("ann.title")]
    for announcement in active:
        item = ctx.t("ann.item", body=labelled_text(ctx, announcement))
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


def labelled_text(ctx: Context, announcement: announcements.Announcement) -> str:
    """The announcement's text after its kind in bold."""
    return f"**{ctx.t(f'ann.kind.{announcement.kind}')}**: {shown_text(ctx, announcement)}"


def kind_options(ctx: Context, chosen: frozenset[announcements.Kind]) -> list[Option]:
    """One toggle per kind, marked when the chat receives it."""
    return [
        Option(
            f"{actions.SUBSCRIPTION}:{KIND_CHOICE}:{kind}",
            ctx.t(
                "sub.kind_on" if kind in chosen else "sub.kind_off", kind=ctx.t(f"ann.kind.{kind}")
            ),
        )
        for kind in announcements.KINDS
    ]


async def toggle_kind(ctx: Context, kind: str) -> list[Reply]:
    """`s:k:<kind>`: receive that kind, or stop it; without any kind left the subscription
    stops."""
    incoming = ctx.incoming
    chosen_kind = announcements.parse_kind(kind)
    if chosen_kind is None or incoming.channel not in ctx.services.push_channels:
        return ctx.unknown_action()
    now = ctx.store.clock()
    async with ctx.store.transaction() as db:
        kinds = await announcements.subscribed_kinds(db, incoming.channel, incoming.chat_key)
        if kinds is None:
            await announcements.subscribe(db, incoming.channel, incoming.chat_key, ctx.lang, now)
            kinds = frozenset({chosen_kind})
        else:
            kinds = kinds ^ {chosen_kind}
        if kinds:
            await announcements.set_kinds(db, incoming.channel, incoming.chat_key, kinds, now)
    if not kinds:
        return await unsubscribe(ctx, "")
    text = ctx.t("sub.kinds")
    return [
        ctx.reply(
            text, *kind_options(ctx, kinds), subscription_option(ctx, True), ctx.menu_button()
        )
    ]


async def subscribe(ctx: Context, arg: str) -> list[Reply]:
    """`/langganan`: new announcements are sent to this chat, of the kinds it picks."""
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
        kinds = await announcements.subscribed_kinds(
            db, ctx.incoming.channel, ctx.incoming.chat_key
        )
    key = "sub.done" if new else "sub.already"
    text = f"{ctx.t(key)}\n{ctx.t('sub.kinds')}"
    options = kind_options(ctx, kinds or frozenset())
    return [ctx.reply(text, *options, subscription_option(ctx, True), ctx.menu_button())]


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
    """The subscribe / stop buttons (`s:+`, `s:-`) and the kind toggles (`s:k:<kind>`)."""
    choice, _, kind = arg.partition(":")
    if choice == KIND_CHOICE:
        return await toggle_kind(ctx, kind)
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
        case "kind":
            kinds = [
                draft_option(ctx, f"{KIND_CHOICE}:{kind}", f"ann.kind.{kind}")
                for kind in announcements.KINDS
            ]
            text, options = ctx.t("ann.ask_kind", max=MAX_TEXT_CHARS), (*kinds, cancel)
        case "closure":
            text, options = ctx.t("ann.ask_closure"), (cancel,)
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
    """The draft as it will be published: its kind (and closed days), the texts, the expiry."""
    head = ctx.t("ann.preview_kind", kind=ctx.t(f"ann.kind.{draft.kind}"))
    if draft.closed_from is not None and draft.closed_to is not None:
        days = closed_days(draft.closed_from, draft.closed_to)
        head = f"{head}\n{ctx.t('ann.preview_closed', days=days)}"
    body = ctx.t(
        "ann.preview",
        text_id=escape_markup(draft.text_id or ""),
        text_en=escape_markup(draft.text_en) if draft.text_en else ctx.t("ann.no_english"),
        until=draft.expires_on.isoformat() if draft.expires_on else ctx.t("ann.no_expiry"),
    )
    return f"{head}\n{body}"


def parse_days(text: str) -> tuple[dt.date, dt.date] | None:
    """One date, or two joined by "-", "s/d", "sampai", "to": the first and last day."""
    days = [parse_date(part) for part in _RANGE.split(text.strip(), maxsplit=1)]
    first, last = days[0], days[-1]
    return None if first is None or last is None else (first, last)


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
    """`/umumkan`: begin a new announcement (a draft in progress starts over) with its kind."""
    draft = announcements.Draft("kind")
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
        case "kind", str() if choice.startswith(f"{KIND_CHOICE}:"):
            kind = announcements.parse_kind(choice.removeprefix(f"{KIND_CHOICE}:"))
            if kind is None:
                return question(ctx, draft, ctx.t("ann.use_buttons"))
            draft = replace(draft, step="text_id", kind=kind)
        case "kind" | "text_id", None:
            # Typed at the kind question: a general announcement, its text given at once.
            if len(text) > MAX_TEXT_CHARS:
                return question(ctx, draft, ctx.t("ann.bad_text", max=MAX_TEXT_CHARS))
            draft = replace(draft, step="text_en", text_id=text)
        case "text_en", None:
            if len(text) > MAX_TEXT_CHARS:
                return question(ctx, draft, ctx.t("ann.bad_text", max=MAX_TEXT_CHARS))
            draft = replace(draft, step=after_texts(draft), text_en=text)
        case "text_en", "skip":
            draft = replace(draft, step=after_texts(draft), text_en=None)
        case "closure", None:
            days = parse_days(text)
            if days is None:
                return question(ctx, draft, ctx.t("ann.bad_date"))
            first, last = days
            if first < ctx.today():
                return question(ctx, draft, ctx.t("ann.past_date"))
            if last < first or (last - first).days >= MAX_CLOSED_DAYS:
                return question(ctx, draft, ctx.t("ann.bad_closure", max=MAX_CLOSED_DAYS))
            # A closure shows until its last closed day.
            draft = replace(
                draft, step="confirm", closed_from=first, closed_to=last, expires_on=last
            )
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


def after_texts(draft: announcements.Draft) -> announcements.Step:
    """A closure asks for its closed days (they end it too); other kinds for an expiry."""
    return "closure" if draft.kind == "closure" else "expiry"


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
