"""Broadcasting an announcement to many subscribers through the outbox: each exactly once, at
the configured rate, blocked people unsubscribed, a crash halfway resumed without a second copy,
progress for staff and a summary for the creator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.broadcast import BroadcastHook
from bot.channels.whatsapp import OutsideWindow
from bot.content import Content
from bot.context import Services
from bot.core import Reply
from bot.outbox import FIRST_BACKOFF, MAX_LAG_SECONDS, Blocked, OutboxWorker, RateLimiter
from bot.store import Store, announcements
from bot.understanding import Understanding
from tests.conftest import Chat, FixedClock, all_text
from tests.test_announcements import publish

SUBSCRIBERS = 1000
# Enough that the crash comes with many sends in flight (the worker runs 16 at once).
CRASH_SUBSCRIBERS = 200
CREATOR = "200"


class Crash(BaseException):
    """The process dies: nothing after it runs, not even the outbox's bookkeeping."""


class RecordingSender:
    """A fake transport: records each delivery; blocked chats answer like a 403, chats in
    `flaky` fail once like a network error, and after `crash_after` sends the process dies."""

    def __init__(
        self,
        blocked: frozenset[str] = frozenset(),
        flaky: frozenset[str] = frozenset(),
        crash_after: int | None = None,
        network: bool = False,
    ) -> None:
        self.sent: list[tuple[str, list[Reply]]] = []
        self.blocked = blocked
        self.flaky = set(flaky)
        self.crash_after = crash_after
        self.network = network  # yield to the loop mid-send, like a real call
        self.in_flight = self.most_in_flight = 0

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.network:
                await asyncio.sleep(0)
            await self._deliver(chat_key, replies)
        finally:
            self.in_flight -= 1

    async def _deliver(self, chat_key: str, replies: list[Reply]) -> None:
        if self.crash_after is not None and len(self.sent) == self.crash_after:
            raise Crash
        if chat_key in self.blocked:
            raise Blocked("Forbidden")
        if chat_key in self.flaky:
            self.flaky.discard(chat_key)
            raise ConnectionError("network down")
        self.sent.append((chat_key, replies))


class FakeTime:
    """A monotonic clock the limiter's sleeps move forward, so nothing really waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def services_for(store: Store, content: Content, understanding: Understanding) -> Services:
    return Services(content, store, understanding, push_channels=frozenset({"test"}))


async def subscribe_many(store: Store, count: int = SUBSCRIBERS) -> None:
    async with store.transaction() as db:
        for i in range(count):
            lang = "en" if i % 4 == 0 else "id"
            await announcements.subscribe(db, "test", f"chat-{i:04d}", lang, store.clock())


def worker(
    store: Store, content: Content, sender: RecordingSender, limiter: RateLimiter | None = None
) -> OutboxWorker:
    limiters = {} if limiter is None else {"test": limiter}
    return OutboxWorker(
        store, {"test": sender}, limiters=limiters, on_done=BroadcastHook(content, store.clock)
    )


@pytest.fixture
def officer(services: Services) -> Chat:
    return Chat(Assistant(services), CREATOR, role="admin")


@pytest.fixture
def services(content: Content, store: Store, understanding: Understanding) -> Services:
    return services_for(store, content, understanding)


def recipients(sender: RecordingSender) -> list[str]:
    return [chat for chat, _ in sender.sent if chat != CREATOR]


async def test_a_thousand_subscribers_each_get_it_once_at_the_configured_rate(
    officer: Chat, store: Store, content: Content
) -> None:
    await subscribe_many(store)
    assert "1000" in await publish(officer, "Libur nasional", "National holiday")
    sender, time = RecordingSender(), FakeTime()
    limiter = RateLimiter(25, clock=time, sleep=time.sleep)
    await worker(store, content, sender, limiter).drain()
    assert sorted(recipients(sender)) == [f"chat-{i:04d}" for i in range(SUBSCRIBERS)]
    # 25 a second overall: the 1,001 messages (with the summary) take 1,000 / 25 seconds.
    assert time.now == pytest.approx(SUBSCRIBERS / 25, abs=0.01)
    english = dict(sender.sent)["chat-0000"][0]
    assert "National holiday" in english.text and english.options[0].id == "s:-"
    assert "Libur nasional" in dict(sender.sent)["chat-0001"][0].text


async def test_one_chat_never_gets_more_than_one_message_a_second() -> None:
    time = FakeTime()
    limiter = RateLimiter(1000, per_chat=1.0, clock=time, sleep=time.sleep)
    stamps = []
    for chat in ["a", "a", "b", "a"]:
        await limiter.wait(chat)
        stamps.append((chat, time.now))
    assert stamps == [("a", 0.0), ("a", 1.0), ("b", 1.001), ("a", 2.0)]


async def test_blocked_people_are_unsubscribed_and_failures_retried_then_counted(
    officer: Chat, store: Store, content: Content, clock: FixedClock
) -> None:
    await subscribe_many(store, 10)
    await publish(officer, "Pengumuman")
    sender = RecordingSender(blocked=frozenset({"chat-0003"}), flaky=frozenset({"chat-0005"}))
    work = worker(store, content, sender)
    await work.drain()
    assert "chat-0005" not in recipients(sender)
    progress = all_text(await officer.say("/siaran 1"))
    expected = content.t("ann.progress", "id", sent=8, failed=1, skipped=0, pending=1)
    assert expected in progress
    clock.now += FIRST_BACKOFF
    await work.drain()
    assert sorted(recipients(sender)) == sorted(f"chat-{i:04d}" for i in range(10) if i != 3)
    rows = await store.db.execute_fetchall(
        "SELECT active FROM subscriptions WHERE chat_key = 'chat-0003'"
    )
    assert [row[0] for row in rows] == [0]
    [summary] = next(r for c, r in sender.sent if c == CREATOR)
    assert summary.text == content.t(
        "ann.summary", "id", id=1, sent=9, failed=1, skipped=0, expired=0, unconfirmed=0
    )
    await work.drain()  # nothing more, in particular no second summary
    assert len(sender.sent) == 10


@pytest.mark.parametrize("network", [False, True], ids=["instant", "in-flight"])
async def test_a_crash_halfway_then_a_restart_still_sends_each_exactly_once(
    tmp_path: Path, content: Content, understanding: Understanding, clock: FixedClock, network: bool
) -> None:
    path = tmp_path / "crash.sqlite3"
    store = await Store.open(path, clock=clock)
    officer = Chat(Assistant(services_for(store, content, understanding)), CREATOR, role="admin")
    await subscribe_many(store, CRASH_SUBSCRIBERS)
    await publish(officer, "Pengumuman")
    first = RecordingSender(crash_after=CRASH_SUBSCRIBERS // 2, network=network)
    with pytest.raises(Crash):
        await worker(store, content, first).drain()
    await store.close()

    store = await Store.open(path, clock=clock)
    second = RecordingSender()
    await worker(store, content, second).drain()
    delivered = recipients(first) + recipients(second)
    assert len(delivered) == CRASH_SUBSCRIBERS and len(set(delivered)) == CRASH_SUBSCRIBERS
    assert len(recipients(first)) == CRASH_SUBSCRIBERS // 2
    assert [c for c, _ in second.sent if c == CREATOR] == [CREATOR]
    await store.close()


async def test_subscribers_outside_the_whatsapp_window_are_counted_as_skipped(
    officer: Chat, store: Store, content: Content
) -> None:
    class ClosedWindow(RecordingSender):
        async def send(self, chat_key: str, replies: list[Reply], /) -> None:
            if chat_key != CREATOR:
                raise OutsideWindow("no template")
            await super().send(chat_key, replies)

    await subscribe_many(store, 3)
    await publish(officer, "Pengumuman")
    sender = ClosedWindow()
    await worker(store, content, sender).drain()
    [(_, [summary])] = sender.sent
    assert summary.text == content.t(
        "ann.summary", "id", id=1, sent=0, failed=0, skipped=3, expired=0, unconfirmed=0
    )


async def test_deleting_an_announcement_stops_what_has_not_gone_out(
    officer: Chat, store: Store, content: Content
) -> None:
    await subscribe_many(store, 5)
    await publish(officer, "Salah ketik")
    await officer.say("/hapuspengumuman 1")
    sender = RecordingSender()
    assert await worker(store, content, sender).drain() == 0


async def test_staff_see_progress_in_the_announcement_list(
    officer: Chat, store: Store, content: Content
) -> None:
    await subscribe_many(store, 2)
    await publish(officer, "Pengumuman")
    listing = all_text(await officer.say("/pengumuman"))
    assert content.t("ann.progress", "id", sent=0, failed=0, skipped=0, pending=2) in listing


async def test_a_new_announcement_after_a_deleted_one_still_reaches_everyone(
    officer: Chat, store: Store, content: Content
) -> None:
    await subscribe_many(store, 3)
    await publish(officer, "Pertama")
    await worker(store, content, RecordingSender()).drain()
    await officer.say("/hapuspengumuman 1")
    assert "#2" in await publish(officer, "Kedua")
    sender = RecordingSender()
    await worker(store, content, sender).drain()
    assert sorted(recipients(sender)) == ["chat-0000", "chat-0001", "chat-0002"]


async def test_the_limiter_catches_up_a_small_lag_but_never_bursts_after_idling() -> None:
    time = FakeTime()
    limiter = RateLimiter(10, per_chat=0.0, clock=time, sleep=time.sleep)
    await limiter.wait("a")
    time.now = 0.15  # the last send took 50 ms too long: the next one goes at once
    await limiter.wait("b")
    assert time.now == pytest.approx(0.15)
    await limiter.wait("c")  # back on schedule: 0.2
    assert time.now == pytest.approx(0.2)
    time.now = 5.0  # idle: the schedule starts afresh, one interval apart
    await limiter.wait("d")
    await limiter.wait("e")
    assert time.now == pytest.approx(5.1)


async def test_the_limiter_sleeps_only_for_a_later_slot_and_its_limits_are_inclusive() -> None:
    time = FakeTime()
    limiter = RateLimiter(1, per_chat=1.0625, clock=time, sleep=time.sleep)
    # Behind the first slot (0.0) by exactly MAX_LAG_SECONDS: still a lag to catch up, so the
    # next slot is 1.0, not 1.1
    time.now = MAX_LAG_SECONDS
    await limiter.wait("a")
    await limiter.wait("b")
    assert (time.now, time.sleeps) == (1.0, 1)
    time.now = 2.0  # the slot is now: no sleep, not even a zero one
    await limiter.wait("c")
    assert time.sleeps == 1
    # 62.5 ms behind the 3.0 slot, just when chat c's pause ends: c goes at once and the
    # schedule catches up (the next slot is 4.0, not 4.0625)
    time.now = 3.0625
    await limiter.wait("c")
    await limiter.wait("d")
    assert (time.now, time.sleeps) == (4.0, 2)


async def test_the_broadcast_follows_a_language_chosen_after_subscribing(
    officer: Chat, store: Store, content: Content
) -> None:
    resident = Chat(officer.assistant, "500")
    await resident.say("/langganan")
    await resident.tap("lang:en")
    await publish(officer, "Libur", "Holiday")
    sender = RecordingSender()
    await worker(store, content, sender).drain()
    [reply] = dict(sender.sent)["500"]
    assert "Holiday" in reply.text and "Libur" not in reply.text


async def test_several_chats_are_sent_to_at_once_and_one_chat_in_order(
    officer: Chat, store: Store, content: Content
) -> None:
    await subscribe_many(store, 40)
    await publish(officer, "Pertama")
    await publish(officer, "Kedua")
    sender = RecordingSender(network=True)
    await OutboxWorker(store, {"test": sender}, in_flight=8).drain()
    assert sender.most_in_flight == 8
    texts = [replies[0].text for chat, replies in sender.sent if chat == "chat-0007"]
    assert len(texts) == 2 and "Pertama" in texts[0] and "Kedua" in texts[1]
