"""Notices people choose: announcements carry a kind, subscribers pick kinds and receive only
those, and a closure's days join the opening-hours answer."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.store import Store, announcements
from bot.store.outbox import replies_from_json
from bot.understanding import Understanding
from tests.conftest import Chat, FixedClock, all_text, option_ids


@pytest.fixture
def push_assistant(content: Content, store: Store, understanding: Understanding) -> Assistant:
    services = Services(
        content=content, store=store, understanding=understanding, push_channels=frozenset({"test"})
    )
    return Assistant(services)


@pytest.fixture
def staff(push_assistant: Assistant) -> Chat:
    return Chat(push_assistant, "100", role="admin")


async def post(staff: Chat, kind: str, text: str, last_answer: str | None = None) -> list[str]:
    """Write and publish an announcement of `kind`; the preview's text."""
    await staff.say("/umumkan")
    await staff.tap(f"ad:k:{kind}")
    await staff.say(text)
    step = await staff.tap("ad:skip")  # no English text
    preview = await (staff.say(last_answer) if last_answer else staff.tap("ad:skip"))
    assert option_ids(preview) == ["ad:ok", "ad:cancel"], all_text(step)
    await staff.tap("ad:ok")
    return [reply.text for reply in preview]


async def broadcast_to(store: Store) -> dict[str, list[str]]:
    """Outbox broadcast rows: announcement key prefix → the chats it went to."""
    rows = await store.db.execute_fetchall("SELECT key, chat_key FROM outbox ORDER BY id")
    sent: dict[str, list[str]] = {}
    for row in rows:
        kind, number, *_ = str(row["key"]).split(":")
        if kind == "ann":
            sent.setdefault(number, []).append(row["chat_key"])
    return sent


async def test_subscribers_receive_only_the_kinds_they_chose(
    push_assistant: Assistant, staff: Chat, store: Store, content: Content
) -> None:
    everything, outages_only = Chat(push_assistant, "1"), Chat(push_assistant, "2")
    await everything.say("/langganan")
    shown = await outages_only.say("/langganan")
    assert {"s:k:quota", "s:k:outage", "s:k:closure", "s:k:general"} <= set(option_ids(shown))
    for kind in ("quota", "closure", "general"):
        await outages_only.tap(f"s:k:{kind}")  # untick all but outages
    await post(staff, "quota", "Kuota M-Paspor dibuka Senin 08.00")
    await post(staff, "outage", "Sistem paspor gangguan hari ini")
    assert await broadcast_to(store) == {"1": ["1"], "2": ["1", "2"]}
    [row] = await store.db.execute_fetchall("SELECT replies FROM outbox WHERE key = 'ann:1:test:1'")
    text = replies_from_json(row["replies"])[0].text
    assert text.startswith(content.t("ann.broadcast", "id", body="").split("\n")[0])
    assert f"**{content.t('ann.kind.quota', 'id')}**" in text


async def test_ticking_a_kind_off_and_on_and_the_last_one_off_stops(
    push_assistant: Assistant, store: Store, content: Content
) -> None:
    person = Chat(push_assistant, "5")
    await person.say("/langganan")
    toggled = await person.tap("s:k:general")
    labels = [option.label for reply in toggled for option in reply.options]
    general = content.t("ann.kind.general", "id")
    assert content.t("sub.kind_off", "id", kind=general) in labels
    again = await person.tap("s:k:general")
    assert content.t("sub.kind_on", "id", kind=general) in [
        option.label for reply in again for option in reply.options
    ]
    # Every kind ticked again is stored as "all", so kinds added later come too.
    rows = await store.db.execute_fetchall("SELECT kinds FROM subscriptions WHERE chat_key = '5'")
    assert [row["kinds"] for row in rows] == [None]
    for kind in ("quota", "outage", "closure", "general"):
        last = await person.tap(f"s:k:{kind}")
    assert all_text(last) == content.t("sub.stopped", "id")
    rows = await store.db.execute_fetchall("SELECT active FROM subscriptions WHERE chat_key = '5'")
    assert [row["active"] for row in rows] == [0]
    # Subscribing again brings every kind back.
    await person.say("/langganan")
    rows = await store.db.execute_fetchall("SELECT kinds FROM subscriptions WHERE chat_key = '5'")
    assert [row["kinds"] for row in rows] == [None]


async def test_a_closure_joins_the_opening_hours_for_its_days(
    push_assistant: Assistant, staff: Chat, clock: FixedClock, content: Content
) -> None:
    preview = await post(staff, "closure", "MPP tutup hari Natal", last_answer="25-12-2026")
    assert content.t("ann.preview_closed", "id", days="25-12-2026") in preview[0]
    assert "2026-12-25" in preview[0]  # it shows until its last closed day
    resident = Chat(push_assistant, "9")
    hours = all_text(await resident.tap("t:jam-layanan"))
    notice = content.t("hours.closed", "id", days="25-12-2026", body="MPP tutup hari Natal")
    assert hours.startswith(notice)
    assert notice not in all_text(await resident.tap("t:lokasi"))
    clock.now = dt.datetime(2026, 12, 26, 2, 0, tzinfo=dt.UTC)
    assert notice not in all_text(await resident.tap("t:jam-layanan"))


async def test_a_closure_of_several_days_and_bad_ranges(
    push_assistant: Assistant, staff: Chat, content: Content, clock: FixedClock
) -> None:
    await staff.say("/umumkan")
    await staff.tap("ad:k:closure")
    await staff.say("Cuti bersama akhir tahun")
    await staff.tap("ad:skip")
    backwards = all_text(await staff.say("31-12-2026 - 29-12-2026"))
    assert backwards.startswith(content.t("ann.bad_closure", "id", max=31))
    past = all_text(await staff.say("29-11-2026"))
    assert past.startswith(content.t("ann.past_date", "id"))
    preview = all_text(await staff.say("29-12-2026 s/d 31-12-2026"))
    assert content.t("ann.preview_closed", "id", days="29-12-2026 – 31-12-2026") in preview
    await staff.tap("ad:ok")
    clock.now = dt.datetime(2026, 12, 30, 2, 0, tzinfo=dt.UTC)  # the second day: from today on
    hours = all_text(await Chat(push_assistant, "9").tap("t:jam-layanan"))
    expected = content.t(
        "hours.closed", "id", days="30-12-2026 – 31-12-2026", body="Cuti bersama akhir tahun"
    )
    assert hours.startswith(expected)


async def test_the_kind_question_takes_only_its_buttons(staff: Chat, content: Content) -> None:
    await staff.say("/umumkan")
    assert all_text(await staff.tap("ad:k:holiday")).startswith(content.t("ann.use_buttons", "id"))
    assert all_text(await staff.tap("ad:skip")).startswith(content.t("ann.use_buttons", "id"))


async def test_the_queue_board_shows_a_closure_on_its_day(
    push_assistant: Assistant, staff: Chat, clock: FixedClock, content: Content
) -> None:
    await post(staff, "closure", "Libur Natal", last_answer="25-12-2026")
    resident = Chat(push_assistant, "9")
    notice = content.t("hours.closed", "id", days="25-12-2026", body="Libur Natal")
    assert notice not in all_text(await resident.say("/antrian"))  # not today yet
    clock.now = dt.datetime(2026, 12, 25, 1, 0, tzinfo=dt.UTC)
    assert notice in all_text(await resident.say("/antrian"))


async def test_a_chat_that_never_subscribed_has_no_kinds(store: Store) -> None:
    assert await announcements.subscribed_kinds(store.db, "test", "nobody") is None


async def test_an_unknown_announcement_number_is_none(store: Store) -> None:
    assert await announcements.get_announcement(store.db, 99) is None
