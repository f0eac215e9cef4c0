"""The queue desk over a real store: concurrency, day rollover, reminders through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import pytest

from bot.content import Content
from bot.context import Services
from bot.core import Reply
from bot.outbox import FIRST_BACKOFF, MAX_ATTEMPTS, MAX_BACKOFF, OutboxWorker
from bot.queue.state import CallNext, Report, SetNumber, Ticket
from bot.queue_desk import Actor, QueueDesk
from bot.store import Store
from bot.store.outbox import enqueue
from bot.understanding import Understanding
from tests.conftest import FixedClock

STAFF = Actor("test", "staff-1")


class RecordingSender:
    """A channel that records what the outbox sends; `fail` makes the next sends raise."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[str, list[Reply]]] = []
        self.fail = fail

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("network down")
        self.sent.append((chat_key, replies))


@pytest.fixture
def desk(services: Services) -> QueueDesk:
    return services.queue_desk()


async def serving(desk: QueueDesk, letter: str = "A") -> int:
    return next(v.state.now_serving for v in await desk.board() if v.service.letter == letter)


async def test_a_hundred_simultaneous_calls_end_exactly_a_hundred_higher(desk: QueueDesk) -> None:
    await asyncio.gather(*(desk.change("A", CallNext(), STAFF, "/panggil A") for _ in range(100)))
    assert await serving(desk) == 100
    async with desk.store.db.execute("SELECT COUNT(*) FROM queue_calls") as cursor:
        assert (await cursor.fetchone())[0] == 100


async def test_staff_calls_and_machine_reports_together_never_lose_or_repeat_a_number(
    desk: QueueDesk,
) -> None:
    machine = Actor("api", "queue-machine")
    reports = [desk.change("A", Report(n), machine, "POST") for n in (10, 20, 30)]
    calls = [desk.change("A", CallNext(), STAFF, "/panggil A") for _ in range(20)]
    results = await asyncio.gather(*reports, *calls, return_exceptions=True)
    async with desk.store.db.execute(
        "SELECT number FROM queue_calls WHERE service = 'A' ORDER BY id"
    ) as cursor:
        numbers = [row[0] for row in await cursor.fetchall()]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    refused = sum(isinstance(r, Exception) for r in results)  # reports that arrived too late
    assert await serving(desk) == numbers[-1] and len(numbers) == 23 - refused


async def test_the_first_change_after_local_midnight_starts_a_new_day(
    desk: QueueDesk, clock: FixedClock
) -> None:
    clock.now = dt.datetime(2026, 11, 30, 16, 59, tzinfo=dt.UTC)  # 23.59 WIB
    await desk.change("A", SetNumber(41), STAFF, "/set A 41")
    clock.now += dt.timedelta(minutes=1)  # 00.00 WIB, the next day
    assert await serving(desk) == 0
    await desk.change("A", CallNext(), STAFF, "/panggil A")
    assert await serving(desk) == 1 and desk.today() == dt.date(2026, 12, 1)


async def test_a_reminder_is_sent_exactly_once_even_across_a_restart(
    tmp_path: Path, content: Content, understanding: Understanding, clock: FixedClock
) -> None:
    path = tmp_path / "restart.sqlite3"
    store = await Store.open(path, clock=clock)
    services = Services(content, store, understanding, push_channels=frozenset({"test"}))
    desk = services.queue_desk()
    before = RecordingSender()
    assert await OutboxWorker(store, {"test": before}).drain() == 0
    await desk.remind(Ticket("A", 10), "test", "chat-9", "en")
    for _ in range(7):  # A-007 is 3 before A-010: the reminder is due
        await desk.change("A", CallNext(), STAFF, "/panggil A")
    assert services.outbox_wake.is_set() and before.sent == []
    await store.close()  # the process stops between the trigger and the send

    store = await Store.open(path, clock=clock)
    sender = RecordingSender()
    worker = OutboxWorker(store, {"test": sender})
    assert await worker.drain() == 1
    await (
        Services(content, store, understanding)
        .queue_desk()
        .change("A", CallNext(), STAFF, "/panggil A")
    )
    assert await worker.drain() == 0
    [(chat_key, [reply])] = sender.sent
    assert chat_key == "chat-9"
    assert reply.text == content.t("queue.alert", "en", ticket="A-010", serving="A-007", ahead=2)
    assert [o.id for o in reply.options] == ["q:A-010"]
    await store.close()


async def test_a_failed_send_stays_in_the_outbox_and_goes_out_after_its_backoff(
    desk: QueueDesk, clock: FixedClock
) -> None:
    await desk.remind(Ticket("B", 4), "test", "chat-1", "id")
    await desk.change("B", CallNext(), STAFF, "/panggil B")
    sender = RecordingSender(fail=1)
    worker = OutboxWorker(desk.store, {"test": sender})
    assert await worker.drain() == 0 and sender.sent == []
    assert await worker.drain() == 0  # still waiting out the backoff
    clock.now += FIRST_BACKOFF
    assert await worker.drain() == 1 and len(sender.sent) == 1


async def test_reminders_end_with_the_day(desk: QueueDesk, clock: FixedClock) -> None:
    await desk.remind(Ticket("A", 5), "test", "chat-1", "id")
    clock.now += dt.timedelta(days=1)
    for _ in range(5):
        await desk.change("A", CallNext(), STAFF, "/panggil A")
    assert await OutboxWorker(desk.store, {"test": RecordingSender()}).drain() == 0


async def test_an_unsent_reminder_expires_at_local_midnight(
    desk: QueueDesk, clock: FixedClock
) -> None:
    await desk.remind(Ticket("A", 2), "test", "chat-1", "id")
    await desk.change("A", CallNext(), STAFF, "/panggil A")
    clock.now += dt.timedelta(days=1)  # the worker was down all night
    sender = RecordingSender()
    assert await OutboxWorker(desk.store, {"test": sender}).drain() == 0 and sender.sent == []


async def test_asking_twice_for_the_same_ticket_gives_one_reminder(desk: QueueDesk) -> None:
    for _ in range(2):
        await desk.remind(Ticket("A", 4), "test", "chat-1", "id")
    await desk.change("A", SetNumber(3), STAFF, "/set A 3")
    sender = RecordingSender()
    assert await OutboxWorker(desk.store, {"test": sender}).drain() == 1


async def test_the_board_follows_changes_made_by_another_process(
    desk: QueueDesk, tmp_path: Path, clock: FixedClock, services: Services
) -> None:
    assert await serving(desk) == 0  # now cached
    other = await Store.open(tmp_path / "bot.sqlite3", clock=clock)  # the store fixture's file
    await (
        Services(services.content, other, services.understanding)
        .queue_desk()
        .change("A", SetNumber(9), STAFF, "/set A 9")
    )
    await other.close()
    assert await serving(desk) == 9


async def test_readers_arriving_together_share_one_load(desk: QueueDesk) -> None:
    loads = 0
    board = desk._board

    async def counting(db: object, day: dt.date) -> object:
        nonlocal loads
        loads += 1
        return await board(db, day)  # type: ignore[arg-type]

    desk._board = counting  # type: ignore[method-assign,assignment]
    await asyncio.gather(*(desk.board() for _ in range(50)))
    assert loads == 1


async def test_a_message_that_keeps_failing_is_given_up_after_max_attempts(
    desk: QueueDesk, clock: FixedClock
) -> None:
    await desk.remind(Ticket("A", 2), "test", "chat-1", "id")
    await desk.change("A", CallNext(), STAFF, "/panggil A")
    sender = RecordingSender(fail=MAX_ATTEMPTS)
    worker = OutboxWorker(desk.store, {"test": sender})
    for _ in range(MAX_ATTEMPTS + 1):
        await worker.drain()
        clock.now += MAX_BACKOFF
    assert sender.sent == [] and sender.fail == 0
    rows = await desk.store.db.execute_fetchall("SELECT attempts, outcome FROM outbox")
    assert [tuple(row) for row in rows] == [(MAX_ATTEMPTS, "failed")]


async def test_messages_for_a_channel_without_a_sender_wait_and_block_nothing(
    desk: QueueDesk,
) -> None:
    async with desk.store.transaction() as db:
        for i in range(120):
            await enqueue(db, f"whatsapp-{i}", "whatsapp", "62811", [Reply("hi")], desk.now())
        await enqueue(db, "telegram-1", "test", "7", [Reply("hi")], desk.now())
    sender = RecordingSender()
    assert await OutboxWorker(desk.store, {"test": sender}).drain() == 1
    rows = await desk.store.db.execute_fetchall("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
    assert next(iter(rows))[0] == 120


async def test_the_running_worker_sends_as_soon_as_a_change_wakes_it(
    desk: QueueDesk, services: Services
) -> None:
    delivered = asyncio.Event()

    class Signalling(RecordingSender):
        async def send(self, chat_key: str, replies: list[Reply], /) -> None:
            await super().send(chat_key, replies)
            delivered.set()

    sender = Signalling()
    worker = asyncio.create_task(
        OutboxWorker(desk.store, {"test": sender}, services.outbox_wake).run()
    )
    await desk.remind(Ticket("C", 3), "test", "chat-5", "id")
    await desk.change("C", SetNumber(1), STAFF, "/set C 1")
    await asyncio.wait_for(delivered.wait(), timeout=5)  # a guard, not a pause: woken at once
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert [chat for chat, _ in sender.sent] == ["chat-5"]


@pytest.mark.parametrize(
    ("number", "serving", "key", "ahead"),
    [(7, 5, "queue.alert", 1), (6, 5, "queue.alert", 0), (5, 5, "queue.alert_called", 0)],
)
def test_the_reminder_counts_the_numbers_left_and_says_when_the_ticket_is_being_served(
    desk: QueueDesk, content: Content, number: int, serving: int, key: str, ahead: int
) -> None:
    reply = desk.alert_reply("id", "A", number, serving)
    ticket, now = f"A-{number:03d}", f"A-{serving:03d}"
    assert reply.text == content.t(key, "id", ticket=ticket, serving=now, ahead=ahead)
    assert [option.id for option in reply.options] == [f"q:{ticket}"]


async def test_a_call_wakes_the_outbox_only_when_it_owes_someone_a_message(
    desk: QueueDesk, services: Services
) -> None:
    await desk.change("A", CallNext(), STAFF, "/panggil A")
    assert not services.outbox_wake.is_set()  # no reminder, no survey invitation
    await desk.remind(Ticket("A", 2), "test", "7", "id")
    await desk.change("A", CallNext(), STAFF, "/panggil A")
    assert services.outbox_wake.is_set()
