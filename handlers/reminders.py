"""Expiry reminders for residents: `/pengingat` (`/reminder`) lists them and adds one — pick a
document, then type its expiry date or pick year and month — and cancels one or all.

Actions: `pg` the list; `pg:d:<doc>` a document chosen; `pg:y:<doc>:<year>` its year;
`pg:m:<doc>:<year>:<month>` its month (day 1 is assumed: reminders early, never late);
`pg:x:<id>` cancel one; `pg:xa` cancel all.
"""

from __future__ import annotations

import datetime as dt

from bot import actions
from bot.content.books import ReminderDocument
from bot.context import Context
from bot.core import Option, Reply
from bot.reminders import DATE_FORMAT, due_days, first_lead, parse_date
from bot.store import reminders as reminder_store

MONTHS = 12


async def show_reminders(ctx: Context, arg: str) -> list[Reply]:
    """`/pengingat`: this chat's reminders with a cancel button each, and a button per document
    to add one; `/pengingat itas` asks for the ITAS's date, `/pengingat itas 10-05-2027` adds it
    at once."""
    if ctx.incoming.channel not in ctx.services.push_channels:
        return [ctx.reply(ctx.t("rem.unavailable"), ctx.menu_button())]
    kind, _, date_text = arg.strip().partition(" ")
    document = ctx.content.reminders.document(kind.lower())
    if document is None:
        return await overview(ctx)
    if not date_text.strip():
        return await ask_date(ctx, document)
    return await add_reminder(ctx, document, parse_date(date_text))


async def overview(ctx: Context) -> list[Reply]:
    channel, chat_key = ctx.incoming.channel, ctx.incoming.chat_key
    reminders = await reminder_store.list_for(ctx.store.db, channel, chat_key)
    books = ctx.content.reminders
    lines = [ctx.t("rem.title")]
    options = [
        Option(f"{actions.REMINDERS}:d:{d.id}", ctx.t("rem.btn_add", document=d.name.get(ctx.lang)))
        for d in books.documents
    ]
    for reminder in reminders:
        document = books.document(reminder.document)
        name = document.name.get(ctx.lang) if document else reminder.document
        date = reminder.expires_on.strftime(DATE_FORMAT)
        lines.append(ctx.t("rem.item", document=name, date=date))
        options.append(
            Option(
                f"{actions.REMINDERS}:x:{reminder.id}",
                ctx.t("rem.btn_cancel", document=name, date=date),
            )
        )
    if not reminders:
        lines.append(ctx.t("rem.none"))
    elif len(reminders) > 1:
        options.append(ctx.option(f"{actions.REMINDERS}:xa", "rem.btn_cancel_all"))
    return [ctx.reply("\n".join(lines), *options)]


async def answer_reminders(ctx: Context, arg: str) -> list[Reply]:
    """A button of the reminders (see the module docstring for the action ids)."""
    if ctx.incoming.channel not in ctx.services.push_channels:
        return [ctx.reply(ctx.t("rem.unavailable"), ctx.menu_button())]
    step, _, rest = arg.partition(":")
    parts = rest.split(":")
    books = ctx.content.reminders
    document = books.document(parts[0]) if step in ("d", "y", "m") else None
    if step == "":
        return await overview(ctx)
    if step == "d" and document is not None:
        return await ask_date(ctx, document)
    if step == "y" and document is not None and len(parts) == 2 and parts[1].isdecimal():
        return [ask_month(ctx, document, int(parts[1]))]
    if step == "m" and document is not None and len(parts) == 3:
        picked = parse_date(f"1-{parts[2]}-{parts[1]}")
        if picked is not None:
            # The first of the month (or today, in this month): reminders early, never late.
            return await add_reminder(ctx, document, max(picked, ctx.today()), assumed=True)
    if step == "x" and rest.isdecimal():
        return await cancel_reminder(ctx, int(rest))
    if step == "xa":
        return await cancel_all_reminders(ctx)
    return ctx.unknown_action()


async def ask_date(ctx: Context, document: ReminderDocument) -> list[Reply]:
    """Ask for the expiry date: typed, or a year button (then a month button)."""
    async with ctx.store.transaction() as db:
        await reminder_store.open_draft(
            db, ctx.incoming.channel, ctx.incoming.chat_key, document.id, ctx.store.clock()
        )
    this_year = ctx.today().year
    years = [
        Option(f"{actions.REMINDERS}:y:{document.id}:{year}", str(year))
        for year in range(this_year, this_year + document.max_years + 1)
    ]
    text = ctx.t("rem.ask_date", document=document.name.get(ctx.lang))
    return [ctx.reply(text, *years)]


def ask_month(ctx: Context, document: ReminderDocument, year: int) -> Reply:
    names = ctx.t("rem.months").split(",")
    options = [
        Option(f"{actions.REMINDERS}:m:{document.id}:{year}:{month}", names[month - 1].strip())
        for month in range(1, MONTHS + 1)
    ]
    return ctx.reply(
        ctx.t("rem.ask_month", document=document.name.get(ctx.lang), year=year), *options
    )


async def take_expiry_date(ctx: Context, text: str) -> list[Reply] | None:
    """The date typed after choosing a document; None when no choice is open, or when the text
    has no digits at all (a question: the choice is dropped and the question answered)."""
    channel, chat_key = ctx.incoming.channel, ctx.incoming.chat_key
    kind = await reminder_store.draft(ctx.store.db, channel, chat_key, ctx.store.clock())
    if kind is None:
        return None
    document = ctx.content.reminders.document(kind)
    if document is None or not any(char.isdigit() for char in text):
        async with ctx.store.transaction() as db:
            await reminder_store.drop_draft(db, channel, chat_key)
        return None
    return await add_reminder(ctx, document, parse_date(text))


async def add_reminder(
    ctx: Context, document: ReminderDocument, expires_on: dt.date | None, assumed: bool = False
) -> list[Reply]:
    """Check the date and keep the reminder; say when the reminders will come. `assumed`: the
    day was not given (picked by month), so say which day was taken."""
    channel, chat_key = ctx.incoming.channel, ctx.incoming.chat_key
    name = document.name.get(ctx.lang)
    today = ctx.today()
    if expires_on is None:
        return [ctx.reply(ctx.t("rem.bad_date"), ctx.option(actions.REMINDERS, "rem.btn_list"))]
    if expires_on < today:
        return [ctx.reply(ctx.t("rem.past_date"), ctx.option(actions.REMINDERS, "rem.btn_list"))]
    latest = dt.date(today.year + document.max_years, 12, 31)
    if expires_on > latest:
        text = ctx.t("rem.far_date", document=name, date=latest.strftime(DATE_FORMAT))
        return [ctx.reply(text, ctx.option(actions.REMINDERS, "rem.btn_list"))]
    lead, next_due = first_lead(document, expires_on, today)
    reminder = reminder_store.Reminder(
        0, channel, chat_key, ctx.lang, document.id, expires_on, next_due, lead
    )
    async with ctx.store.transaction() as db:
        await reminder_store.drop_draft(db, channel, chat_key)
        added = await reminder_store.add(db, reminder, ctx.store.clock())
    if not added:
        return [ctx.reply(ctx.t("rem.not_added"), ctx.option(actions.REMINDERS, "rem.btn_list"))]
    date = expires_on.strftime(DATE_FORMAT)
    upcoming = [d.strftime(DATE_FORMAT) for d in due_days(document, expires_on)[lead:]]
    if upcoming:
        text = ctx.t("rem.added", document=name, date=date, days=", ".join(upcoming))
    else:
        text = ctx.t("rem.added_late", document=name, date=date)
    if assumed:
        text = f"{text}\n{ctx.t('rem.assumed_day', date=date)}"
    topic = ctx.content.topics[document.topic]
    return [
        ctx.reply(
            text,
            Option(f"{actions.TOPIC}:{topic.id}", topic.title.get(ctx.lang)),
            ctx.option(actions.REMINDERS, "rem.btn_list"),
        )
    ]


async def cancel_reminder(ctx: Context, reminder_id: int) -> list[Reply]:
    async with ctx.store.transaction() as db:
        gone = await reminder_store.cancel(
            db, ctx.incoming.channel, ctx.incoming.chat_key, reminder_id
        )
    text = ctx.t("rem.cancelled", count=1) if gone else ctx.t("rem.nothing")
    return [ctx.reply(text, ctx.option(actions.REMINDERS, "rem.btn_list"))]


async def cancel_all_reminders(ctx: Context) -> list[Reply]:
    async with ctx.store.transaction() as db:
        count = await reminder_store.forget_chat(db, ctx.incoming.channel, ctx.incoming.chat_key)
    text = ctx.t("rem.cancelled", count=count) if count else ctx.t("rem.nothing")
    return [ctx.reply(text, ctx.option(actions.REMINDERS, "rem.btn_list"))]
