"""Expiry reminders: when each reminder of a document falls due, and the job that puts the due
ones in the outbox (`ukkbot run` calls `send_due_reminders` every few minutes).

Days are local days in TIMEZONE; a reminder goes out on its day from SEND_FROM local time, not
at midnight. A reminder missed while the bot was down goes out late, once; of several missed
ones only the latest is sent.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot import actions
from bot.clock import day_end
from bot.content import Content
from bot.content.books import ReminderDocument
from bot.core import Lang, Option, Reply
from bot.store import Store
from bot.store import reminders as reminder_store
from bot.store.outbox import enqueue

SEND_FROM = dt.time(8, 0)
INTERVAL_SECONDS = 600
OUTBOX_KEY = "expiry"  # expiry:<reminder id>:<lead index>
DATE_FORMAT = "%d-%m-%Y"
_DATE = re.compile(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})\s*$")


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier; the month's last day when that month is shorter
    (31 May minus 3 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def due_days(document: ReminderDocument, expires_on: dt.date) -> list[dt.date]:
    """The days the document's reminders fall due, earliest first."""
    if document.lead_months:
        days = [months_before(expires_on, months) for months in document.lead_months]
    else:
        days = [expires_on - dt.timedelta(days=lead) for lead in document.lead_days]
    return sorted(days)


def first_lead(
    document: ReminderDocument, expires_on: dt.date, today: dt.date
) -> tuple[int, dt.date | None]:
    """For a reminder set today: the first lead still ahead (today counts) and its day; leads
    already past are skipped."""
    days = due_days(document, expires_on)
    for lead, day in enumerate(days):
        if day >= today:
            return lead, day
    return len(days), None


def parse_date(text: str) -> dt.date | None:
    """ "10-05-2027", "10/5/2027", "10.05.2027" → the date; None when it is not one."""
    match = _DATE.match(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def sendable_up_to(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The last due day that may go out now: today from SEND_FROM on, yesterday before."""
    local = now.astimezone(zone)
    today = local.date()
    return today if local.time() >= SEND_FROM else today - dt.timedelta(days=1)


def reminder_reply(
    content: Content, lang: Lang, document: ReminderDocument, expires_on: dt.date, today: dt.date
) -> Reply:
    """The reminder: the document, its date, how many days are left, what to do, and buttons
    to the topic about extending it and to the person's reminders."""
    topic = content.topics[document.topic]
    text = content.t(
        "rem.due",
        lang,
        document=document.name.get(lang),
        date=expires_on.strftime(DATE_FORMAT),
        days=(expires_on - today).days,
        advice=content.t(f"rem.advice.{document.id}", lang),
    )
    return Reply(
        text,
        (
            Option(f"{actions.TOPIC}:{topic.id}", topic.title.get(lang)),
            Option(actions.REMINDERS, content.t("rem.btn_list", lang)),
        ),
    )


async def send_due_reminders(store: Store, content: Content, zone: ZoneInfo) -> int:
    """Put every reminder due by now in the outbox (in the person's language) and move each
    to its next lead; forget reminders of expired documents. How many were queued."""
    now = store.clock()
    today = now.astimezone(zone).date()
    up_to = sendable_up_to(now, zone)
    queued = 0
    async with store.transaction() as db:
        await reminder_store.forget_expired(db, today)
        await reminder_store.forget_old_drafts(db, now)
        for reminder in await reminder_store.due(db, up_to):
            document = content.reminders.document(reminder.document)
            if document is None:  # the kind was removed from the content: nothing to say
                await reminder_store.advance(db, reminder.id, reminder.next_lead, None)
                continue
            days = due_days(document, reminder.expires_on)
            fell_due = [i for i, day in enumerate(days) if i >= reminder.next_lead and day <= up_to]
            if not fell_due:  # the lead times were changed in the content: take them afresh
                await reminder_store.advance(
                    db, reminder.id, *first_lead(document, reminder.expires_on, today)
                )
                continue
            lead = fell_due[-1]  # of the leads that fell due, only the latest is worth sending
            reply = reminder_reply(content, reminder.lang, document, reminder.expires_on, today)
            queued += await enqueue(
                db,
                f"{OUTBOX_KEY}:{reminder.id}:{lead}",
                reminder.channel,
                reminder.chat_key,
                [reply],
                now,
                expires_at=day_end(reminder.expires_on, zone),
            )
            following = days[lead + 1] if lead + 1 < len(days) else None
            await reminder_store.advance(db, reminder.id, lead + 1, following)
    return queued
