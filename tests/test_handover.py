"""Hand-over to an officer through the assistant: asking, passing the question on, service
hours, the fallback without a staff group, the staff group's answers and the 90-day retention."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.core import Incoming, Reply
from bot.store import Store, questions
from bot.store.retention import forget_expired
from bot.understanding import Understanding
from tests.conftest import FixedClock, all_text

GROUP = ("test", "-100")


@pytest.fixture
def services(content: Content, store: Store, understanding: Understanding) -> Services:
    return Services(
        content, store, understanding, push_channels=frozenset({"test"}), staff_chat=GROUP
    )


async def say(assistant: Assistant, text: str, user: str = "7", **kw: str) -> list[Reply]:
    chat = kw.pop("chat", user)
    answer = await assistant.handle(Incoming("test", user, chat, text=text, **kw))  # type: ignore[arg-type]
    return answer.replies


async def outbox(store: Store) -> list[tuple[str, str, str]]:
    rows = await store.db.execute_fetchall("SELECT key, chat_key, replies FROM outbox ORDER BY id")
    return [(row[0], row[1], row[2]) for row in rows]


async def test_the_officer_button_asks_then_passes_the_question_on(
    assistant: Assistant, content: Content, store: Store
) -> None:
    asked = (await assistant.handle(Incoming("test", "7", "7", action="h"))).replies
    assert all_text(asked) == content.t("handover.ask", "id")
    done = all_text(await say(assistant, "Kapan paspor saya jadi?"))
    assert done == content.t("handover.sent", "id", ref="#H-0001")  # Monday 09.00 WIB: open
    [(key, chat, replies)] = await outbox(store)
    assert key == "handover:1" and chat == "-100" and "Kapan paspor saya jadi?" in replies
    # The next message is a question to the bot again.
    assert "Paspor" in all_text(await say(assistant, "syarat paspor baru"))


async def test_outside_service_hours_the_question_waits_for_the_next_working_day(
    assistant: Assistant, content: Content, clock: FixedClock
) -> None:
    clock.now = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)  # Sunday noon WIB
    replies = await say(assistant, "/petugas Apakah buka hari Minggu?")
    assert all_text(replies) == content.t("handover.sent_closed", "id", ref="#H-0001")


async def test_the_human_route_takes_the_text_that_triggered_it(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "I want to talk to a real person please", lang_hint="en")
    [(_, _, replies)] = await outbox(store)
    assert "I want to talk to a real person please" in replies


async def test_cancel_while_the_bot_waits_for_the_question(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas")
    assert all_text(await say(assistant, "batal")) == content.t("handover.cancelled", "id")
    assert await outbox(store) == []


async def test_without_a_staff_group_the_button_says_how_to_reach_the_office(
    services: Services, content: Content
) -> None:
    plain = Assistant(dataclasses.replace(services, staff_chat=None))
    replies = (await plain.handle(Incoming("test", "7", "7", action="h"))).replies
    assert all_text(replies) == content.t("human", "id")
    web = (await Assistant(services).handle(Incoming("web", "s", "s", text="/petugas"))).replies
    assert all_text(web) == content.t("human", "id")


async def test_staff_answers_go_back_once_each_and_are_audited(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas Pertanyaan saya", lang_hint="en")
    forwarded = content.t(
        "handover.forward", "id", ref="#H-0001", channel="test", language="id", body="x"
    )
    stranger = await say(assistant, "Saya jawab", user="66", chat="-100", reply_to=forwarded)
    assert all_text(stranger) == content.t("staff.only", "id")  # in the group, but not staff
    for answer in ("Jawaban satu", "Jawaban dua"):
        ack = await say(assistant, answer, user="55", chat="-100", reply_to=forwarded, role="admin")
        assert all_text(ack) == content.t("handover.answer_queued", "id", ref="#H-0001")
    assert await say(assistant, "ngobrol", user="55", chat="-100") == []
    rows = await outbox(store)
    # The first answer also brings the survey invitation; the second does not (30-day rule).
    assert [(key, chat) for key, chat, _ in rows[1:]] == [
        ("handover:1:1", "7"),
        ("skm-offer:test:7:2026-11-30", "7"),
        ("handover:1:2", "7"),
    ]
    audit = await store.db.execute_fetchall("SELECT user_key, action, outcome FROM audit")
    assert [tuple(row) for row in audit] == [
        ("66", "answer #H-0001", "refused"),
        ("55", "answer #H-0001", "done"),
        ("55", "answer #H-0001", "done"),
    ]


async def test_hand_overs_and_their_messages_are_deleted_after_ninety_days(
    assistant: Assistant, store: Store, clock: FixedClock
) -> None:
    await say(assistant, "/petugas Pertanyaan lama")
    clock.now += dt.timedelta(days=91)
    await say(assistant, "/petugas Pertanyaan baru", user="8")
    keys = [key for key, _, _ in await outbox(store)]
    assert keys == ["handover:2"]
    rows = await store.db.execute_fetchall("SELECT id, chat_key FROM handovers")
    assert [tuple(row) for row in rows] == [(2, "8")]


async def test_the_hourly_sweep_forgets_old_hand_overs_even_when_no_new_one_starts(
    assistant: Assistant, store: Store, clock: FixedClock
) -> None:
    await say(assistant, "/petugas Pertanyaan lama")
    async with store.transaction() as db:
        await questions.record_question(db, "resep rendang", "unknown", clock.now)
    clock.now += dt.timedelta(days=89)
    await say(assistant, "/petugas Pertanyaan kedua", user="8")
    await forget_expired(store)
    assert [key for key, _, _ in await outbox(store)] == ["handover:1", "handover:2"]
    clock.now += dt.timedelta(days=2)  # the first is now 91 days old, the second 2
    await forget_expired(store)
    assert [key for key, _, _ in await outbox(store)] == ["handover:2"]
    rows = await store.db.execute_fetchall("SELECT id FROM handovers")
    assert [row[0] for row in rows] == [2]
    assert await store.db.execute_fetchall("SELECT * FROM questions") == []


async def test_a_long_question_is_shortened_to_one_staff_message(
    assistant: Assistant, store: Store
) -> None:
    await say(assistant, "/petugas " + "kata " * 1000)
    [(_, _, replies)] = await outbox(store)
    assert "…" in replies and len(replies) < 2500
