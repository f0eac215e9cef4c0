"""The queue's state machine, ticket parsing, local day and the wait estimate: pure units."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from bot.clock import day_end, local_day
from bot.queue.estimate import minutes_per_number, wait_range
from bot.queue.state import (
    MAX_NUMBER,
    Call,
    CallKind,
    CallNext,
    QueueError,
    QueueState,
    Report,
    SetNumber,
    SetStatus,
    Ticket,
    apply,
    parse_ticket,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
START = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # Monday 08.00 WIB


@pytest.mark.parametrize("text", ["A-025", "A025", "a 25", "A.25", " a-0025 "])
def test_a_ticket_is_read_however_it_is_typed(text: str) -> None:
    assert parse_ticket(text) == Ticket("A", 25)
    assert str(parse_ticket(text)) == "A-025"


def test_the_highest_number_a_machine_prints_is_a_ticket() -> None:
    assert parse_ticket(f"A-{MAX_NUMBER}") == Ticket("A", MAX_NUMBER)


@pytest.mark.parametrize("text", ["", "A", "25", "AB-25", "A-0", "A-12345", "A-25 B-26"])
def test_something_that_is_not_a_ticket_is_refused(text: str) -> None:
    assert parse_ticket(text) is None


def test_calling_next_counts_up_and_resumes_a_paused_service() -> None:
    paused = QueueState("A", "paused", "istirahat", now_serving=4, last_issued=10)
    state, kind = apply(paused, CallNext())
    assert state == QueueState("A", "open", None, now_serving=5, last_issued=10)
    assert kind == "call"


def test_calling_past_the_last_issued_ticket_raises_last_issued_with_it() -> None:
    state, _ = apply(QueueState("A", now_serving=10, last_issued=10), CallNext())
    assert (state.now_serving, state.last_issued, state.waiting) == (11, 11, 0)


def test_a_closed_service_cannot_call() -> None:
    with pytest.raises(QueueError) as caught:
        apply(QueueState("A", "closed"), CallNext())
    assert caught.value.key == "queue.err_closed"


def test_only_set_may_move_the_number_backwards() -> None:
    state, kind = apply(QueueState("A", now_serving=30), SetNumber(12))
    assert (state.now_serving, kind) == (12, "set")
    with pytest.raises(QueueError) as caught:
        apply(QueueState("A", now_serving=30), Report(now_serving=12))
    assert caught.value.key == "queue.err_backwards"


def test_set_refuses_numbers_out_of_range() -> None:
    with pytest.raises(QueueError):
        apply(QueueState("A"), SetNumber(-1))


def test_pause_and_close_keep_a_reason_and_open_clears_it() -> None:
    paused, kind = apply(QueueState("A", now_serving=3), SetStatus("paused", "sistem gangguan"))
    assert (paused.status, paused.reason, paused.now_serving, kind) == (
        "paused",
        "sistem gangguan",
        3,
        None,
    )
    opened, _ = apply(paused, SetStatus("open", "ignored"))
    assert (opened.status, opened.reason) == ("open", None)


def test_a_machine_report_moves_forward_and_an_identical_one_changes_nothing() -> None:
    state, kind = apply(QueueState("A", now_serving=3), Report(7, last_issued=20, status="open"))
    assert (state.now_serving, state.last_issued, state.waiting, kind) == (7, 20, 13, "call")
    again, kind = apply(state, Report(7, last_issued=20, status="open"))
    assert again == state and kind is None


def test_a_report_cannot_shrink_last_issued_or_put_it_below_now_serving() -> None:
    with pytest.raises(QueueError):
        apply(QueueState("A", now_serving=3, last_issued=20), Report(5, last_issued=19))
    with pytest.raises(QueueError) as caught:
        apply(QueueState("A"), Report(5, last_issued=4))
    assert caught.value.key == "queue.err_issued_below"


def test_the_day_rolls_over_at_local_midnight() -> None:
    before = dt.datetime(2026, 11, 30, 16, 59, 59, tzinfo=dt.UTC)  # 23.59.59 WIB
    assert local_day(before, JAKARTA) == dt.date(2026, 11, 30)
    assert local_day(before + dt.timedelta(seconds=1), JAKARTA) == dt.date(2026, 12, 1)
    assert day_end(dt.date(2026, 11, 30), JAKARTA) == before + dt.timedelta(seconds=1)


def calls(*steps: tuple[int, float, CallKind]) -> list[Call]:
    """(number, minutes after START, kind) → calls."""
    return [Call(n, kind, START + dt.timedelta(minutes=m)) for n, m, kind in steps]


def test_the_estimate_uses_the_configured_pace_until_three_intervals_are_measured() -> None:
    two = calls((1, 0, "call"), (2, 4, "call"), (3, 8, "call"))
    assert minutes_per_number(two, fallback=6.0) == 6.0
    three = calls((1, 0, "call"), (2, 4, "call"), (3, 8, "call"), (4, 10, "call"))
    assert minutes_per_number(three, fallback=6.0) == 4.0  # median of 4, 4 and 2


def test_the_estimate_follows_the_median_of_the_last_ten_intervals_only() -> None:
    # Eleven slow intervals of 30 minutes, then ten of 4 and 6 minutes (median 5). Counting
    # the eleventh-last interval, or all of them, would give 6 or 30.
    slow = [(n, n * 30.0, "call") for n in range(1, 13)]
    recent = [(13 + i, 360 + 5.0 * i + (6 if i % 2 == 0 else 5), "call") for i in range(10)]
    assert minutes_per_number(calls(*slow, *recent), fallback=9.0) == 5.0


def test_a_jump_counts_as_that_many_numbers() -> None:
    # 1 → 4 in 15 minutes is 5 minutes a number, not 15; so are the jumps after it.
    history = calls((1, 0, "call"), (4, 15, "call"), (6, 25, "call"), (9, 40, "call"))
    assert minutes_per_number(history, fallback=9.0) == 5.0


def test_a_staff_correction_is_not_an_interval_and_the_pace_starts_afresh_after_it() -> None:
    # Setting 5 → 40 a minute later is a correction, not 35 numbers served in a minute; setting
    # back (40 → 2) measures nothing either.
    history = calls(
        (1, 0, "call"),
        (2, 5, "call"),
        (5, 20, "call"),
        (40, 21, "set"),
        (2, 22, "set"),
        (3, 27, "call"),
        (4, 32, "call"),
    )
    assert minutes_per_number(history, fallback=9.0) == 5.0
    # Two real intervals around a forward correction are still too few to measure a pace.
    few = calls((1, 0, "call"), (2, 5, "call"), (10, 6, "set"), (11, 11, "call"))
    assert minutes_per_number(few, fallback=9.0) == 9.0


def test_the_wait_is_a_range_not_a_promise() -> None:
    assert wait_range(ahead=3, per_number=5.0) == (15, 30)  # 4 numbers × 5 min × 0.75–1.5
    assert wait_range(ahead=2, per_number=3.0) == (6, 14)  # 9 minutes: 6.75 down, 13.5 up
    assert wait_range(ahead=0, per_number=0.1) == (0, 1)  # never "up to 0 minutes"


@pytest.mark.parametrize("number", [0, MAX_NUMBER])
def test_staff_may_set_any_number_from_zero_to_the_highest(number: int) -> None:
    assert apply(QueueState("A"), SetNumber(number)) == (QueueState("A", now_serving=number), "set")


@pytest.mark.parametrize("number", [-1, MAX_NUMBER + 1])
def test_staff_cannot_set_a_number_outside_the_machines_range(number: int) -> None:
    with pytest.raises(QueueError) as refused:
        apply(QueueState("A"), SetNumber(number))
    assert (refused.value.key, refused.value.values) == ("queue.err_number", {})


def test_setting_a_number_past_the_last_issued_ticket_moves_that_up_too() -> None:
    state = QueueState("A", now_serving=5, last_issued=10)
    assert apply(state, SetNumber(12))[0] == replace(state, now_serving=12, last_issued=12)
    assert apply(state, SetNumber(7))[0] == replace(state, now_serving=7, last_issued=10)


@pytest.mark.parametrize(
    ("report", "field", "current"),
    [(Report(4, 20), "now_serving", 5), (Report(6, 9), "last_issued", 10)],
)
def test_a_report_going_backwards_names_the_number_and_its_current_value(
    report: Report, field: str, current: int
) -> None:
    with pytest.raises(QueueError) as refused:
        apply(QueueState("A", now_serving=5, last_issued=10), report)
    assert (refused.value.key, refused.value.values) == (
        "queue.err_backwards",
        {"field": field, "current": current},
    )


def test_a_report_may_say_the_last_ticket_issued_is_being_served() -> None:
    state, kind = apply(QueueState("A", now_serving=5, last_issued=10), Report(12, 12))
    assert (state, kind) == (QueueState("A", now_serving=12, last_issued=12), "call")


def test_a_report_without_a_status_or_with_the_same_one_keeps_the_state_and_its_reason() -> None:
    paused = QueueState("A", status="paused", reason="istirahat", now_serving=5, last_issued=10)
    assert apply(paused, Report(5))[0] == paused
    assert apply(paused, Report(5, status="paused"))[0] == paused
    reopened = apply(paused, Report(6, status="open"))[0]
    assert reopened == replace(paused, status="open", reason=None, now_serving=6)
