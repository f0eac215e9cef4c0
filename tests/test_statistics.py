"""Feedback under answers, anonymous counts, and `/statistik` with its PNG chart."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib.image
import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.queue.state import CallNext
from bot.queue_desk import Actor
from bot.store import Store
from tests.conftest import Chat, FixedClock, all_text, option_ids

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def officer(assistant: Assistant) -> Chat:
    return Chat(assistant, "100", role="admin")


@pytest.fixture
def resident(assistant: Assistant) -> Chat:
    return Chat(assistant, "300")


async def test_every_topic_answer_offers_thumbs_that_fit_callback_data(
    resident: Chat, content: Content
) -> None:
    for topic_id in content.topics:
        ids = option_ids(await resident.tap(f"t:{topic_id}"))
        assert f"f:+:{topic_id}" in ids and f"f:-:{topic_id}" in ids
        assert all(len(i.encode()) <= 64 for i in ids)


async def test_votes_and_views_are_counted_per_topic_and_day_without_a_user(
    resident: Chat, store: Store, content: Content
) -> None:
    await resident.say("syarat paspor baru")
    await resident.tap("t:paspor-baru")
    thanks = await resident.tap("f:-:paspor-baru")
    assert all_text(thanks) == content.t("feedback.thanks_down", "id")
    await resident.tap("f:+:itas")
    assert all_text(await resident.tap("f:?:itas")) == content.t("unknown_action", "id")
    await resident.assistant.services.bookkeeping.flush()
    rows = await store.db.execute_fetchall("SELECT * FROM topic_stats ORDER BY topic")
    assert [tuple(row) for row in rows] == [
        ("2026-11-30", "itas", 0, 1, 0),
        ("2026-11-30", "paspor-baru", 2, 0, 1),
    ]


async def test_statistics_show_the_week_and_a_readable_png_chart(
    officer: Chat, resident: Chat, services: Services, clock: FixedClock, content: Content
) -> None:
    desk = services.queue_desk()
    for minutes in (0, 6, 10):
        clock.now = dt.datetime(2026, 11, 30, 2, minutes, tzinfo=dt.UTC)
        await desk.change("A", CallNext(), Actor("test", "100"), "/panggil A")
    await resident.say("syarat paspor baru")
    await resident.say("zzqx blorp")  # declined: an unanswered question
    await resident.tap("f:-:paspor-baru")

    reply, survey = await officer.say("/statistik")
    assert survey.text.startswith(content.t("skm.stats_title", "id", month="2026-11"))
    text = reply.text
    assert content.t("stats.title", "id", first="2026-11-24", last="2026-11-30") in text
    assert content.t("stats.questions", "id", count=2) in text
    title = content.topics["paspor-baru"].title.get("id")
    assert f"- {title}: 1" in text
    assert "zzqx blorp" in text
    assert content.t("stats.votes", "id", title=title, up=0, down=1) in text
    assert "- A: 30-11: 3 · " + content.t("stats.median", "id", minutes="5.0") in text

    audit = await services.store.db.execute_fetchall("SELECT user_key, action FROM audit")
    assert ("100", "/statistik") in [tuple(row) for row in audit]
    assert reply.image is not None and reply.image.startswith(PNG_SIGNATURE)
    pixels = matplotlib.image.imread(io.BytesIO(reply.image), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100


async def test_residents_cannot_see_statistics(resident: Chat, content: Content) -> None:
    assert all_text(await resident.say("/statistik")) == content.t("staff.only", "id")
