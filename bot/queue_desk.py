"""The queue desk: reads today's board and applies changes, with their calls, audit rows and
reminders, in one transaction. Staff commands and the queue machine's API both go through it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import actions, metrics
from bot.clock import day_end, local_day
from bot.content import Content
from bot.content.models import QueueService
from bot.core import Lang, Option, Reply
from bot.queue.estimate import minutes_per_number
from bot.queue.state import Call, Change, QueueState, Ticket, apply
from bot.skm import offer_survey
from bot.store import Store, audit, queue
from bot.store.db import Connection
from bot.store.outbox import enqueue


@dataclass(frozen=True)
class Actor:
    """Who changes the queue: a person on a channel, or the queue machine."""

    channel: str
    user_key: str


@dataclass(frozen=True)
class ServiceView:
    """One service today as residents see it."""

    service: QueueService
    state: QueueState
    started: bool  # someone (staff or the machine) touched it today
    per_number: float  # minutes per number, measured or the configured fallback


def ticket_text(service: str, number: int) -> str:
    return str(Ticket(service, number))


class QueueDesk:
    """Today's queue over the store; cheap to build, one per request."""

    def __init__(
        self, store: Store, content: Content, zone: ZoneInfo, outbox_wake: asyncio.Event
    ) -> None:
        self.store = store
        self.content = content
        self.zone = zone
        self.outbox_wake = outbox_wake

    def now(self) -> dt.datetime:
        return self.store.clock()

    def today(self) -> dt.date:
        return local_day(self.now(), self.zone)

    async def board(self) -> list[ServiceView]:
        """Every configured service, in content order, with today's state and pace."""
        day = self.today()
        return await self.store.read_cached(f"queue-board:{day}", lambda db: self._board(db, day))

    async def _board(self, db: Connection, day: dt.date) -> list[ServiceView]:
        states = await queue.day_states(db, day)
        calls = await queue.recent_calls(db, day, self.content.queue.letters)
        return [
            ServiceView(
                service,
                states.get(service.letter, QueueState(service.letter)),
                service.letter in states,
                minutes_per_number(calls.get(service.letter, []), service.minutes_per_call),
            )
            for service in self.content.queue.services
        ]

    async def change(self, letter: str, change: Change, actor: Actor, action: str) -> QueueState:
        """Apply one change (raises QueueError when refused); an unchanged state writes nothing."""
        now = self.now()
        day = local_day(now, self.zone)
        alerts = 0
        async with self.store.transaction() as db:
            stored = await queue.day_state(db, day, letter)
            state = stored or QueueState(letter)
            new, kind = apply(state, change)
            if new == stored and kind is None:
                return state
            await queue.save_state(db, day, new, now)
            await audit.add_audit(db, now, actor.channel, actor.user_key, action, "done")
            if kind is not None:
                await queue.add_call(db, day, letter, Call(new.now_serving, kind, now))
                alerts = await self._queue_alerts(db, day, new, now)
                alerts += await self._survey_offers(db, day, state.now_serving, new, now)
        if kind is not None:
            metrics.QUEUE_CALLS.labels(letter, kind).inc()
        if alerts:
            self.outbox_wake.set()
        return new

    async def _queue_alerts(
        self, db: Connection, day: dt.date, state: QueueState, now: dt.datetime
    ) -> int:
        """Put the reminders that became due in the outbox, in the change's transaction."""
        ahead = self.content.queue.alert_ahead
        due = await queue.take_due_alerts(db, day, state.service, state.now_serving + ahead, now)
        for alert in due:
            reply = self.alert_reply(alert.lang, alert.service, alert.number, state.now_serving)
            await enqueue(
                db,
                f"queue-alert:{alert.id}",
                alert.channel,
                alert.chat_key,
                [reply],
                now,
                expires_at=day_end(day, self.zone),
            )
        return len(due)

    async def _survey_offers(
        self, db: Connection, day: dt.date, served: int, new: QueueState, now: dt.datetime
    ) -> int:
        """Invite to the survey whoever asked for a reminder for a number the queue just moved
        past (served), in the change's transaction; the 30-day rule decides who gets one."""
        service = self.content.survey.service_for_letter(new.service)
        if service is None or new.now_serving <= served:
            return 0
        invited, zone = 0, self.zone
        for alert in await queue.alerts_between(db, day, new.service, served, new.now_serving):
            where = (alert.channel, alert.chat_key)
            invited += await offer_survey(db, self.content, where, alert.lang, service, now, zone)
        return invited

    def alert_reply(self, lang: Lang, service: str, number: int, serving: int) -> Reply:
        """The reminder: how close the ticket is, with a button to see the queue."""
        values = {
            "ticket": ticket_text(service, number),
            "serving": ticket_text(service, serving),
            "ahead": max(0, number - serving - 1),
        }
        key = "queue.alert_called" if number <= serving else "queue.alert"
        text = self.content.t(key, lang, **values)
        button = Option(
            f"{actions.QUEUE}:{values['ticket']}", self.content.t("queue.btn_status", lang)
        )
        return Reply(text, (button,))

    async def remind(self, ticket: Ticket, channel: str, chat_key: str, lang: Lang) -> None:
        async with self.store.transaction() as db:
            await queue.add_alert(
                db, self.today(), ticket.service, ticket.number, channel, chat_key, lang, self.now()
            )

    async def cancel_reminders(self, channel: str, chat_key: str) -> int:
        async with self.store.transaction() as db:
            return await queue.cancel_alerts(db, self.today(), channel, chat_key)

    async def audit_refusal(self, actor: Actor, action: str) -> None:
        async with self.store.transaction() as db:
            await audit.add_audit(db, self.now(), actor.channel, actor.user_key, action, "refused")
