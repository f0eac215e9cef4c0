"""The queue of one service on one day as a small state machine; pure, no I/O, no clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["open", "paused", "closed"]
STATUSES: tuple[Status, ...] = ("open", "paused", "closed")
CallKind = Literal["call", "set"]
MAX_NUMBER = 9999
MAX_REASON_CHARS = 200

_TICKET = re.compile(r"^([A-Za-z])\s*[-.]?\s*(\d{1,4})$")


@dataclass(frozen=True)
class Ticket:
    """A printed ticket such as A-025: the service letter and the number."""

    service: str
    number: int

    def __str__(self) -> str:
        return f"{self.service}-{self.number:03d}"


def parse_ticket(text: str) -> Ticket | None:
    """ "A-025", "A025", "a 25", "A.25" → Ticket("A", 25); None when it is not a ticket."""
    match = _TICKET.match(text.strip())
    if match is None or not 0 < int(match.group(2)) <= MAX_NUMBER:
        return None
    return Ticket(match.group(1).upper(), int(match.group(2)))


@dataclass(frozen=True)
class QueueState:
    """What one service's queue looks like; a service nobody touched today is the default."""

    service: str
    status: Status = "open"
    reason: str | None = None
    now_serving: int = 0
    last_issued: int | None = None

    @property
    def waiting(self) -> int | None:
        """How many issued tickets are not yet called, when the queue machine told us."""
        if self.last_issued is None:
            return None
        return max(0, self.last_issued - self.now_serving)


@dataclass(frozen=True)
class Call:
    """A number called (or set by staff) at a moment; the history the estimate reads."""

    number: int
    kind: CallKind
    at: dt.datetime


class QueueError(Exception):
    """A change that is refused; `key` names the UI string that explains it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class CallNext:
    """Staff call the next number."""


@dataclass(frozen=True)
class SetNumber:
    """Staff correct the number being served; the one change that may go backwards."""

    number: int


@dataclass(frozen=True)
class SetStatus:
    """Staff open, pause (with a reason) or close the service."""

    status: Status
    reason: str | None = None


@dataclass(frozen=True)
class Report:
    """The queue machine reports its numbers (and maybe its status)."""

    now_serving: int
    last_issued: int | None = None
    status: Status | None = None


Change = CallNext | SetNumber | SetStatus | Report


def apply(state: QueueState, change: Change) -> tuple[QueueState, CallKind | None]:
    """The state after `change` and what kind of call to record (None: no number changed).

    Numbers never go backwards except through SetNumber; a refused change raises QueueError.
    """
    match change:
        case CallNext():
            if state.status == "closed":
                raise QueueError("queue.err_closed", service=state.service)
            number = state.now_serving + 1
            issued = None if state.last_issued is None else max(state.last_issued, number)
            new = replace(state, status="open", reason=None, now_serving=number, last_issued=issued)
            return new, "call"
        case SetNumber(number):
            if not 0 <= number <= MAX_NUMBER:
                raise QueueError("queue.err_number")
            issued = None if state.last_issued is None else max(state.last_issued, number)
            return replace(state, now_serving=number, last_issued=issued), "set"
        case SetStatus(status, reason):
            return replace(state, status=status, reason=reason if status != "open" else None), None
        case Report(now_serving, last_issued, status):
            if now_serving < state.now_serving:
                raise QueueError(
                    "queue.err_backwards", field="now_serving", current=state.now_serving
                )
            if last_issued is not None:
                if state.last_issued is not None and last_issued < state.last_issued:
                    raise QueueError(
                        "queue.err_backwards", field="last_issued", current=state.last_issued
                    )
                if last_issued < now_serving:
                    raise QueueError("queue.err_issued_below")
            new = replace(
                state,
                now_serving=now_serving,
                last_issued=state.last_issued if last_issued is None else last_issued,
            )
            if status is not None and status != state.status:
                new = replace(new, status=status, reason=None)
            return new, "call" if now_serving > state.now_serving else None
