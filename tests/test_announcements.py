"""Announcements through the real assistant: the staff conversation, what residents see,
subscriptions, expiry, editing; every staff command refused and audited for residents."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.core import Incoming
from bot.store import Store
from bot.understanding import Understanding
from handlers import STAFF_ACTIONS, STAFF_COMMANDS
from tests.conftest import Chat, FixedClock, all_text, audit, option_ids


@pytest.fixture
def services(content: Content, store: Store, understanding: Understanding) -> Services:
    """Services where the test channel can send unprompted, like Telegram."""
    return Services(content, store, understanding, push_channels=frozenset({"test"}))


async def publish(officer: Chat, text: str, english: str | None = None, until: str = "") -> str:
    """Write and publish an announcement; the confirmation text."""
    await officer.say("/umumkan")
    await officer.say(text)
    await (officer.say(english) if english else officer.tap("ad:skip"))
    await (officer.say(until) if until else officer.tap("ad:skip"))
    return all_text(await officer.tap("ad:ok"))


@pytest.mark.parametrize("command", STAFF_COMMANDS, ids=lambda c: c.name)
async def test_a_resident_is_refused_every_staff_command_and_it_is_audited(
    command: object, resident: Chat, content: Content, store: Store
) -> None:
    name = getattr(command, "name")  # noqa: B009
    replies = await resident.say(f"/{name} 1")
    assert all_text(replies) == content.t("staff.only", "id")
    assert await audit(store) == [("300", f"/{name} 1", "refused")]


@pytest.mark.parametrize("prefix", sorted(STAFF_ACTIONS))
async def test_a_resident_tapping_a_staff_button_is_refused_and_audited(
    prefix: str, resident: Chat, content: Content, store: Store
) -> None:
    assert all_text(await resident.tap(f"{prefix}:ok")) == content.t("staff.only", "id")
    assert await audit(store) == [("300", f"{prefix}:ok", "refused")]


async def test_staff_write_an_announcement_step_by_step_and_residents_see_it(
    officer: Chat, resident: Chat, content: Content, store: Store
) -> None:
    ask = await officer.say("/umumkan")
    assert all_text(ask) == content.t("ann.ask_kind", "id", max=1500)
    kinds = ["ad:k:quota", "ad:k:outage", "ad:k:closure", "ad:k:general", "ad:cancel"]
    assert option_ids(ask) == kinds
    # Typing the text at once makes a general announcement.
    assert "Lewati" in str(await officer.say("Layanan tutup 1 Desember **rapat**"))
    assert content.t("ann.ask_expiry", "id") in all_text(await officer.say("Closed on 1 December"))
    preview = await officer.say("31-12-2026")
    assert "2026-12-31" in all_text(preview) and option_ids(preview) == ["ad:ok", "ad:cancel"]
    done = all_text(await officer.tap("ad:ok"))
    assert done == content.t("ann.published", "id", id=1, count=0)

    seen = all_text(await resident.say("/pengumuman"))
    assert "Layanan tutup 1 Desember * *rapat* *" in seen  # typed markup is neutralised
    assert "2026-12-31" in seen
    english = Chat(resident.assistant, "301", lang_hint="en")
    await english.say("/language en")
    assert "Closed on 1 December" in all_text(await english.tap("a"))
    assert "Layanan tutup" in all_text(await resident.say("/start"))
    assert ("200", "/umumkan #1", "done") in await audit(store)


async def test_cancel_works_at_every_step_and_nothing_is_published(
    officer: Chat, resident: Chat, content: Content
) -> None:
    answers = [[], ["Teks"], ["Teks", "Text"], ["Teks", "Text", "2026-12-31"]]
    for i, before in enumerate(answers):
        await officer.say("/umumkan")
        for answer in before:
            await officer.say(answer)
        how = officer.say("batal") if i % 2 else officer.tap("ad:cancel")
        assert all_text(await how) == content.t("ann.cancelled", "id")
    assert content.t("ann.none", "id") in all_text(await resident.say("/pengumuman"))
    # After cancelling, free text is a question again.
    assert "Paspor" in all_text(await officer.say("syarat paspor baru"))


async def test_bad_input_at_each_step_is_explained_and_the_question_asked_again(
    officer: Chat, content: Content, clock: FixedClock
) -> None:
    await officer.say("/umumkan")
    too_long = all_text(await officer.say("x" * 1501))
    assert too_long.startswith(content.t("ann.bad_text", "id", max=1500))
    assert too_long.endswith(content.t("ann.ask_kind", "id", max=1500))
    await officer.say("Teks")
    assert content.t("ann.bad_text", "id", max=1500) in all_text(await officer.say("y" * 1501))
    await officer.tap("ad:skip")
    for bad, key in (("besok", "ann.bad_date"), ("31-02-2026", "ann.bad_date")):
        text = all_text(await officer.say(bad))
        assert text.startswith(content.t(key, "id")) and content.t("ann.ask_expiry", "id") in text
    past = all_text(await officer.say("2026-11-29"))  # the clock says 2026-11-30
    assert past.startswith(content.t("ann.past_date", "id"))
    today = all_text(await officer.say("30-11-2026"))
    assert "2026-11-30" in today
    assert all_text(await officer.say("ya")).startswith(content.t("ann.use_buttons", "id"))


async def test_the_conversation_survives_a_restart(
    officer: Chat, services: Services, content: Content
) -> None:
    await officer.say("/umumkan")
    await officer.say("Teks")
    again = Chat(Assistant(services), "200")  # a new assistant over the same store
    assert content.t("ann.ask_expiry", "id") in all_text(await again.say("Text"))


async def test_an_announcement_disappears_after_its_last_local_day(
    officer: Chat, resident: Chat, clock: FixedClock, content: Content
) -> None:
    await publish(officer, "Sampai besok", until="2026-12-01")
    clock.now = dt.datetime(2026, 12, 1, 16, 59, tzinfo=dt.UTC)  # 23.59 WIB on the 1st
    assert "Sampai besok" in all_text(await resident.say("/pengumuman"))
    until = content.t("ann.state.until", "id", date="2026-12-01")
    assert until in all_text(await officer.say("/pengumuman"))  # staff: still running
    clock.now += dt.timedelta(minutes=1)  # 00.00 WIB on the 2nd
    seen = all_text(await resident.say("/pengumuman"))
    assert "Sampai besok" not in seen and content.t("ann.none", "id") in seen
    assert content.t("ann.state.expired", "id") in all_text(await officer.say("/pengumuman"))


async def test_staff_edit_end_and_delete_announcements(
    officer: Chat, resident: Chat, content: Content, store: Store
) -> None:
    await publish(officer, "Lama")
    await publish(officer, "Kedua")
    assert all_text(await officer.say("/ubahpengumuman 1 Baru")) == content.t(
        "ann.edited", "id", id=1
    )
    await officer.say("/ubahpengumuman #1 en New")
    assert "Baru" in all_text(await resident.say("/pengumuman"))
    assert all_text(await officer.say("/akhiri 1")) == content.t("ann.ended", "id", id=1)
    assert "Baru" not in all_text(await resident.say("/pengumuman"))
    assert all_text(await officer.say("/akhiri 1")) == content.t("ann.not_found", "id", id=1)
    assert all_text(await officer.say("/hapuspengumuman 2")) == content.t("ann.deleted", "id", id=2)
    assert content.t("ann.none", "id") in all_text(await resident.say("/pengumuman"))
    listing = all_text(await officer.say("/pengumuman"))
    assert "#1" in listing and "#2" not in listing
    assert all_text(await officer.say("/ubahpengumuman x")) == content.t("ann.usage_edit", "id")
    actions = [action for user, action, _ in await audit(store) if user == "200"]
    assert actions[-3:] == ["/ubahpengumuman #1 en", "/akhiri #1", "/hapuspengumuman #2"]


async def test_residents_subscribe_and_stop_in_both_languages(
    resident: Chat, assistant: Assistant, content: Content, store: Store
) -> None:
    kinds = content.t("sub.kinds", "id")
    assert all_text(await resident.say("/langganan")) == f"{content.t('sub.done', 'id')}\n{kinds}"
    assert (
        all_text(await resident.say("/langganan")) == f"{content.t('sub.already', 'id')}\n{kinds}"
    )
    assert "s:-" in option_ids(await resident.tap("a"))
    assert all_text(await resident.tap("s:-")) == content.t("sub.stopped", "id")
    assert all_text(await resident.say("/berhenti")) == content.t("sub.not_subscribed", "id")
    visitor = Chat(assistant, "400", lang_hint="en")
    await visitor.say("/language en")
    assert all_text(await visitor.say("/subscribe")).startswith(content.t("sub.done", "en"))
    rows = await store.db.execute_fetchall("SELECT chat_key, language, active FROM subscriptions")
    assert sorted(tuple(r) for r in rows) == [("300", "id", 0), ("400", "en", 1)]


async def test_the_web_chat_cannot_subscribe(assistant: Assistant, content: Content) -> None:
    replies = (await assistant.handle(Incoming("web", "s", "s", text="/langganan"))).replies
    assert all_text(replies) == content.t("sub.unavailable", "id")


async def test_publish_tapped_twice_at_once_publishes_one_announcement(
    officer: Chat, store: Store
) -> None:
    for answer in ("/umumkan", "Teks"):
        await officer.say(answer)
    await officer.tap("ad:skip")
    await officer.tap("ad:skip")
    await asyncio.gather(officer.tap("ad:ok"), officer.tap("ad:ok"))
    rows = await store.db.execute_fetchall("SELECT COUNT(*) FROM announcements")
    assert next(iter(rows))[0] == 1
