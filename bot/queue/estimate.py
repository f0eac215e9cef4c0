"""How long until a ticket is called: a range from today's pace, never a promise. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from statistics import median

from bot.queue.state import Call

RECENT_INTERVALS = 10  # the pace follows the last ten intervals, so it adapts within an hour
MIN_INTERVALS = 3  # fewer measured intervals than this: use the configured average instead
LOW_FACTOR = 0.75
HIGH_FACTOR = 1.5


def minutes_per_number(calls: Sequence[Call], fallback: float) -> float:
    """Median minutes per number over the last intervals between calls, else `fallback`.

    An interval runs from one call to the next call with a higher number; a jump of several
    numbers counts as that many numbers, and a staff correction ('set') starts afresh.
    """
    intervals = [
        (later.at - earlier.at).total_seconds() / 60 / (later.number - earlier.number)
        for earlier, later in pairwise(calls)
        if later.kind == "call" and later.number > earlier.number
    ]
    recent = intervals[-RECENT_INTERVALS:]
    return median(recent) if len(recent) >= MIN_INTERVALS else fallback


def wait_range(ahead: int, per_number: float) -> tuple[int, int]:
    """Whole minutes (low, high) for `ahead` numbers before one's own is called."""
    minutes = (ahead + 1) * per_number
    return math.floor(minutes * LOW_FACTOR), max(1, math.ceil(minutes * HIGH_FACTOR))
