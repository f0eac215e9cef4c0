"""Hand-over to an officer through the assistant: asking, passing the question on, service
hours, the fallback without a staff group, the staff group's answers and the 90-day retention."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.core import Incoming, Option, Reply
from bot.outbox import replies_from_json
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


async def outbox(store: Store) -> list[tuple[str, str, list[Reply]]]:
    rows = await store.db.execute_fetchall("SELECT key, chat_key, replies FROM outbox ORDER BY id")
    return [(row[0], row[1], replies_from_json(row[2])) for row in rows]


def forwarded(content: Content, question: str, ref: str = "#H-0001", lang: str = "id") -> Reply:
    """The message the staff group gets for a question."""
    return Reply(
        content.t("handover.forward", "id", ref=ref, channel="test", language=lang, body=question)
    )


def topic_answer(content: Content, topic_id: str) -> str:
    return content.topic_text(content.topics[topic_id], "id")


def with_menu(content: Content, text: str) -> list[Reply]:
    """A reply that ends the hand-over conversation: the text and the main menu."""
    menu = [
        ("c:paspor", "menu.paspor"),
        ("c:wna", "menu.wna"),
        ("c:kantor", "menu.kantor"),
        ("q", "menu.queue"),
        ("a", "menu.announcements"),
        ("lang", "menu.language"),
        ("h", "menu.officer"),
    ]
    return [Reply(text, tuple(Option(action, content.t(key, "id")) for action, key in menu))]


async def test_the_officer_button_asks_then_passes_the_question_on(
    assistant: Assistant, content: Content, store: Store
) -> None:
    asked = (await assistant.handle(Incoming("test", "7", "7", action="h"))).replies
    cancel = Option("hx", content.t("ann.btn_cancel", "id"))
    assert asked == [Reply(content.t("handover.ask", "id"), (cancel,))]
    done = await say(assistant, "Kapan paspor saya jadi?")
    # Monday 09.00 WIB: the office is open
    assert done == with_menu(content, content.t("handover.sent", "id", ref="#H-0001"))
    assert await outbox(store) == [
        ("handover:1", "-100", [forwarded(content, "Kapan paspor saya jadi?")])
    ]
    # The next message is a question to the bot again.
    answer = all_text(await say(assistant, "syarat paspor baru"))
    assert answer.startswith(topic_answer(content, "paspor-baru"))


async def test_outside_service_hours_the_question_waits_for_the_next_working_day(
    assistant: Assistant, content: Content, clock: FixedClock
) -> None:
    clock.now = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)  # Sunday noon WIB
    replies = await say(assistant, "/petugas Apakah buka hari Minggu?")
    assert all_text(replies) == content.t("handover.sent_closed", "id", ref="#H-0001")


@pytest.mark.parametrize(
    ("local", "key"),
    [
        ("07:59:59", "handover.sent_closed"),
        ("08:00:00", "handover.sent"),
        ("13:59:59", "handover.sent"),
        ("14:00:00", "handover.sent_closed"),
    ],
)
async def test_the_office_counts_as_open_from_the_first_to_before_the_last_minute(
    assistant: Assistant, content: Content, clock: FixedClock, local: str, key: str
) -> None:
    wib = dt.datetime.fromisoformat(f"2026-11-30T{local}+07:00")  # Monday, 08.00-14.00
    clock.now = wib.astimezone(dt.UTC)
    replies = await say(assistant, "/petugas Kapan buka?")
    assert replies == with_menu(content, content.t(key, "id", ref="#H-0001"))


async def test_the_human_route_takes_the_text_that_triggered_it(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "I want to talk to a real person please", lang_hint="en")
    [(_, _, replies)] = await outbox(store)
    assert replies == [forwarded(content, "I want to talk to a real person please", lang="en")]


async def test_cancel_while_the_bot_waits_for_the_question(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas")
    # The same ending as the Cancel button: the text and the main menu to go on from.
    assert await say(assistant, "batal") == with_menu(
        content, content.t("handover.cancelled", "id")
    )
    assert await outbox(store) == []


async def test_the_cancel_button_stops_the_wait_so_the_next_message_is_a_question_again(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas")
    cancelled = (await assistant.handle(Incoming("test", "7", "7", action="hx"))).replies
    assert cancelled == with_menu(content, content.t("handover.cancelled", "id"))
    answer = all_text(await say(assistant, "syarat paspor baru"))
    assert answer.startswith(topic_answer(content, "paspor-baru"))
    assert await outbox(store) == []


async def test_without_a_staff_group_the_button_says_how_to_reach_the_office(
    services: Services, content: Content
) -> None:
    plain = Assistant(dataclasses.replace(services, staff_chat=None))
    replies = (await plain.handle(Incoming("test", "7", "7", action="h"))).replies
    assert replies == with_menu(content, content.t("human", "id"))
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
    answers = [
        [Reply(content.t("handover.answer", "en", ref="#H-0001", body=body))]  # their language
        for body in ("Jawaban satu", "Jawaban dua")
    ]
    assert [replies for key, _, replies in rows[1:] if key.startswith("handover:")] == answers
    audit = await store.db.execute_fetchall("SELECT user_key, action, outcome FROM audit")
    assert [tuple(row) for row in audit] == [
        ("66", "answer #H-0001", "refused"),
        ("55", "answer #H-0001", "done"),
        ("55", "answer #H-0001", "done"),
    ]


async def test_a_staff_reply_without_text_or_to_an_unknown_reference_sends_nothing(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas Pertanyaan saya")
    forwarded = content.t(
        "handover.forward", "id", ref="#H-0001", channel="test", language="id", body="x"
    )
    sticker = Incoming("test", "55", "-100", reply_to=forwarded, role="admin")
    assert (await assistant.handle(sticker)).replies == []
    stale = forwarded.replace("#H-0001", "#H-0099")
    unknown = await say(assistant, "Jawaban", user="55", chat="-100", reply_to=stale, role="admin")
    assert unknown == [Reply(content.t("handover.unknown", "id", ref="#H-0099"))]
    assert [key for key, _, _ in await outbox(store)] == ["handover:1"]


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
        await questions.add_questions(db, [("resep rendang", "unknown", clock.now, 1)])
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


async def test_a_question_of_exactly_the_limit_is_passed_on_whole(
    assistant: Assistant, content: Content, store: Store
) -> None:
    question = "tanya " * 333 + "ya"  # 2,000 characters
    await say(assistant, "/petugas " + question)
    [(_, _, replies)] = await outbox(store)
    assert replies == [forwarded(content, question)]


async def test_a_long_question_is_shortened_to_one_staff_message(
    assistant: Assistant, content: Content, store: Store
) -> None:
    await say(assistant, "/petugas " + "kata " * 1000)
    [(_, _, replies)] = await outbox(store)
    shortened = ("kata " * 400)[:1999] + "…"  # 2,000 characters with the ellipsis
    assert replies == [forwarded(content, shortened)]
