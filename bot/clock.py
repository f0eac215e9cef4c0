"""Time for everyone: the injectable clock and the office's local day (TIMEZONE).

Below every package, so the store, the queue and the handlers share these without importing
each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The queue day a moment belongs to: the date in the office's time zone."""
    return moment.astimezone(zone).date()


def day_end(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Local midnight after `day`, in UTC: when that day's reminders stop counting."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
