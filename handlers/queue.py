"""Queue status for residents: today's board, where a ticket stands, reminders."""

from __future__ import annotations

import datetime as dt
import math

from bot import actions
from bot.context import Context
from bot.core import Option, Reply
from bot.queue.estimate import wait_range
from bot.queue.state import QueueState, Ticket, parse_ticket
from bot.queue_desk import QueueDesk, ServiceView, ticket_text
from handlers.closures import closure_lines


def status_text(ctx: Context, state: QueueState) -> str:
    """A service's state in words: serving, paused or closed with the reason, or not started
    (a service nobody touched today has the default state: open, nothing served)."""
    if state.status == "open" and not state.now_serving:
        return ctx.t("queue.status.not_started")
    serving = ticket_text(state.service, state.now_serving)
    text = ctx.t(
        f"queue.status.{state.status}",
        serving=serving,
        reason=state.reason or ctx.t("queue.no_reason"),
    )
    if state.status == "paused" and state.now_serving:
        text = f"{text} · {ctx.t('queue.last_served', serving=serving)}"
    return text


def service_line(ctx: Context, view: ServiceView) -> str:
    """One line of the board: letter, name, state, and the wait when it is known."""
    line = ctx.t(
        "queue.line",
        letter=view.service.letter,
        name=view.service.name.get(ctx.lang),
        status=status_text(ctx, view.state),
    )
    if view.started and view.state.status == "open":
        waiting = view.state.waiting
        if waiting is None:
            pace = ctx.t("queue.pace", minutes=math.ceil(view.per_number))
        else:
            low, high = wait_range(waiting, view.per_number)
            pace = ctx.t("queue.waiting", count=waiting, low=low, high=high)
        line = f"{line} · {pace}"
    return line


def hours_notice(ctx: Context, desk: QueueDesk) -> str | None:
    """Outside opening hours: when service starts, that it ended, or that today is closed."""
    local = desk.now().astimezone(ctx.services.zone)
    span = ctx.content.office.hours.span(local.weekday())
    if span is None:
        return ctx.t("queue.closed_today")
    start, end = span
    if local.time() < start:
        return ctx.t("queue.before_hours", start=start.strftime("%H.%M"))
    if local.time() >= end:
        return ctx.t("queue.after_hours")
    return None


def queue_options(
    ctx: Context, ticket: Ticket | None = None, remind: bool = True
) -> tuple[Option, ...]:
    """Refresh (and "remind me" where this channel can send reminders), then the menu."""
    options: list[Option] = []
    if ticket is not None and remind and ctx.incoming.channel in ctx.services.push_channels:
        options.append(ctx.option(f"{actions.REMIND}:{ticket}", "queue.btn_remind"))
    options.append(
        ctx.option(f"{actions.QUEUE}:{ticket}" if ticket else actions.QUEUE, "queue.btn_status")
    )
    options.append(ctx.menu_button())
    return tuple(options)


async def show_queue(ctx: Context, arg: str) -> list[Reply]:
    """Today's queue for every service; `/antrian A-025` shows where that ticket stands."""
    desk = ctx.services.queue_desk()
    if arg.strip():
        return await show_ticket(ctx, desk, arg)
    board = await desk.board()
    lines = [ctx.t("queue.title"), *(service_line(ctx, view) for view in board)]
    if not any(view.started for view in board) and (notice := hours_notice(ctx, desk)):
        lines.append(notice)
    lines += await closure_lines(ctx, dt.timedelta())  # a closure announced for today
    lines.append(ctx.t("queue.note"))
    return [Reply("\n".join(lines), queue_options(ctx))]


async def find_view(ctx: Context, desk: QueueDesk, arg: str) -> tuple[Ticket, ServiceView] | Reply:
    """The ticket in `arg` and its service today, or the reply explaining what is wrong."""
    ticket = parse_ticket(arg)
    if ticket is None:
        return ctx.reply(ctx.t("queue.bad_ticket"), *queue_options(ctx))
    view = next((v for v in await desk.board() if v.service.letter == ticket.service), None)
    if view is None:
        letters = ", ".join(ctx.content.queue.letters)
        return ctx.reply(
            ctx.t("queue.unknown_service", letter=ticket.service, letters=letters),
            *queue_options(ctx),
        )
    return ticket, view


async def show_ticket(ctx: Context, desk: QueueDesk, arg: str) -> list[Reply]:
    """How many numbers are ahead of a ticket and roughly how long; kind when it was called."""
    found = await find_view(ctx, desk, arg)
    if isinstance(found, Reply):
        return [found]
    ticket, view = found
    state = view.state
    line = service_line(ctx, view)
    if view.started and state.status == "closed":
        return [Reply(line, queue_options(ctx))]
    serving = ticket_text(state.service, state.now_serving)
    ahead = ticket.number - state.now_serving - 1
    if ahead < 0:
        text = ctx.t("queue.ticket_called", ticket=ticket, serving=serving)
        return [Reply(f"{line}\n{text}", queue_options(ctx))]
    if not view.started:
        text = ctx.t(
            "queue.ticket_waiting_start", ticket=ticket, letter=ticket.service, ahead=ahead
        )
        if notice := hours_notice(ctx, desk):
            text = f"{text}\n{notice}"
    elif ahead == 0:
        text = ctx.t("queue.ticket_next", ticket=ticket)
    else:
        low, high = wait_range(ahead, view.per_number)
        text = ctx.t("queue.ticket_ahead", ticket=ticket, ahead=ahead, low=low, high=high)
    # A reminder only helps while the ticket is further away than the reminder's distance.
    remindable = not view.started or ahead >= ctx.content.queue.alert_ahead
    return [Reply(f"{line}\n{text}", queue_options(ctx, ticket, remindable))]


async def remind_me(ctx: Context, arg: str) -> list[Reply]:
    """`/ingatkan A-025` or the button: a message when the ticket is a few numbers away."""
    if not arg.strip():
        return [ctx.reply(ctx.t("queue.remind_usage"), *queue_options(ctx))]
    desk = ctx.services.queue_desk()
    found = await find_view(ctx, desk, arg)
    if isinstance(found, Reply):
        return [found]
    ticket, view = found
    if ctx.incoming.channel not in ctx.services.push_channels:
        return [ctx.reply(ctx.t("queue.remind_unavailable", ticket=ticket), *queue_options(ctx))]
    alert_ahead = ctx.content.queue.alert_ahead
    serving = view.state.now_serving
    if view.started and ticket.number <= serving:
        text = ctx.t(
            "queue.ticket_called", ticket=ticket, serving=ticket_text(ticket.service, serving)
        )
    elif view.started and ticket.number - serving <= alert_ahead:
        text = ctx.t(
            "queue.remind_near", ticket=ticket, serving=ticket_text(ticket.service, serving)
        )
    else:
        await desk.remind(ticket, ctx.incoming.channel, ctx.incoming.chat_key, ctx.lang)
        text = ctx.t("queue.remind_set", ticket=ticket, ahead=alert_ahead)
    return [ctx.reply(text, *queue_options(ctx))]


async def cancel_reminders(ctx: Context, arg: str) -> list[Reply]:
    """`/batal`: forget today's reminders for this chat."""
    count = await ctx.services.queue_desk().cancel_reminders(
        ctx.incoming.channel, ctx.incoming.chat_key
    )
    text = ctx.t("queue.cancelled", count=count) if count else ctx.t("queue.nothing_to_cancel")
    return [ctx.reply(text, *queue_options(ctx))]
