"""How often one web-chat session, and one address, may send a message, a vote or a command.

Token buckets in memory: a restart forgets them, which only ever lets someone through. An
address has room for many sessions (an office or the MPP's Wi-Fi shares one), but bounds a
client that opens a new session for every request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["message", "vote", "command"]
MAX_KEYS = 20_000  # buckets kept per kind and scope; the least recently used go first


@dataclass(frozen=True)
class Rate:
    """`burst` at once, then one more every 1 / `per_second` seconds."""

    burst: int
    per_second: float


# (per session, per address)
RATES: dict[Kind, tuple[Rate, Rate]] = {
    "message": (Rate(20, 0.5), Rate(120, 5.0)),
    "vote": (Rate(10, 0.2), Rate(60, 2.0)),
    "command": (Rate(15, 0.5), Rate(90, 5.0)),
}


class Buckets:
    """One token bucket per key, at most `max_keys` of them."""

    def __init__(self, rate: Rate, clock: Callable[[], float], max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._tokens: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    def _level(self, key: str) -> float:
        now = self._clock()
        tokens, at = self._tokens.get(key, (float(self.rate.burst), now))
        return min(float(self.rate.burst), tokens + (now - at) * self.rate.per_second)

    def wait(self, key: str) -> float:
        """Seconds until `key` may act again; 0 when it may now."""
        return max(0.0, (1.0 - self._level(key)) / self.rate.per_second)

    def take(self, key: str) -> None:
        self._tokens[key] = (self._level(key) - 1.0, self._clock())
        self._tokens.move_to_end(key)
        if len(self._tokens) > self._max_keys:
            self._tokens.popitem(last=False)


class ChatLimiter:
    """Both the session's and the address's bucket of a kind must allow an act; only an
    allowed act uses up tokens, so someone told to slow down is not held back further."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = {
            kind: (Buckets(session, clock), Buckets(address, clock))
            for kind, (session, address) in RATES.items()
        }

    def check(self, kind: Kind, session: str, address: str) -> float:
        """0 and the act counted, or the seconds to wait before trying again."""
        by_session, by_address = self._buckets[kind]
        wait = max(by_session.wait(session), by_address.wait(address))
        if wait == 0:
            by_session.take(session)
            by_address.take(address)
        return wait
