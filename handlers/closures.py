"""Closed days staff announced (announcements of the closure kind), as lines for the
opening-hours answer and the queue board."""

from __future__ import annotations

import datetime as dt

from bot.context import Context
from bot.markup import escape_markup
from bot.store import announcements

CLOSURES_AHEAD = dt.timedelta(days=30)  # closures announced this far ahead join the hours


def closed_days(first: dt.date, last: dt.date) -> str:
    """ "25-12-2026", or "24-12-2026 – 26-12-2026" for more than one day."""
    if first == last:
        return first.strftime("%d-%m-%Y")
    return f"{first.strftime('%d-%m-%Y')} – {last.strftime('%d-%m-%Y')}"


async def closure_lines(ctx: Context, ahead: dt.timedelta) -> list[str]:
    """A line per closure covering a day from today to `ahead` later, with its notice."""
    today, last = ctx.today(), ctx.today() + ahead
    # The queue board asks on every look: reuse the read until the database changes.
    found = await ctx.store.read_cached(
        f"closures:{today}:{last}", lambda db: announcements.closures(db, today, last)
    )
    lines = []
    for closure in found:
        assert closure.closed_from is not None and closure.closed_to is not None
        days = closed_days(max(closure.closed_from, today), closure.closed_to)
        lines.append(ctx.t("hours.closed", days=days, body=escape_markup(closure.text(ctx.lang))))
    return lines
