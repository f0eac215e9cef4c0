"""Expiry reminders: the lead-time arithmetic across month ends, the chat flow, firing on the
right local day with a fixed clock in different time zones, language, cancelling and erasure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.assistant import Assistant
from bot.broadcast import BroadcastHook
from bot.content import Content
from bot.context import Services
from bot.core import Incoming, Reply
from bot.outbox import Blocked, OutboxWorker
from bot.reminders import due_days, months_before, parse_date, send_due_reminders
from bot.store import Store
from bot.store import reminders as repo
from bot.store.outbox import URGENT, replies_from_json
from bot.understanding import Understanding
from tests.conftest import Chat, FixedClock, all_text, option_ids
from tests.test_whatsapp import PERSON, make_harness

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7
JAYAPURA = ZoneInfo("Asia/Jayapura")  # UTC+9


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2027, 5, 10), 9, dt.date(2026, 8, 10)),
        (dt.date(2027, 5, 31), 3, dt.date(2027, 2, 28)),  # February is shorter
        (dt.date(2028, 5, 31), 3, dt.date(2028, 2, 29)),  # leap year
        (dt.date(2027, 12, 31), 7, dt.date(2027, 5, 31)),
        (dt.date(2028, 3, 31), 9, dt.date(2027, 6, 30)),  # June has 30 days
        (dt.date(2027, 1, 15), 9, dt.date(2026, 4, 15)),  # across a year
    ],
)
def test_months_before_keeps_the_day_or_takes_the_months_last(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert months_before(day, months) == expected


def test_lead_times_fit_each_document(content: Content) -> None:
    books = content.reminders
    passport, itas = books.document("passport"), books.document("itas")
    assert passport is not None and itas is not None
    assert due_days(passport, dt.date(2027, 5, 10)) == [dt.date(2026, 8, 10), dt.date(2026, 10, 10)]
    assert due_days(itas, dt.date(2027, 3, 1)) == [
        dt.date(2027, 1, 15),  # 45 days before, across the month end
        dt.date(2027, 1, 30),
        dt.date(2027, 2, 22),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-05-2027", dt.date(2027, 5, 10)),
        ("10/5/2027", dt.date(2027, 5, 10)),
        (" 1.12.2027 ", dt.date(2027, 12, 1)),
        ("31-02-2027", None),
        ("2027-05-10", None),
        ("besok", None),
    ],
)
def test_expiry_dates_are_read_day_month_year(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@pytest.fixture
def push_services(content: Content, store: Store, understanding: Understanding) -> Services:
    return Services(
        content=content, store=store, understanding=understanding, push_channels=frozenset({"test"})
    )


@pytest.fixture
def person(push_services: Services) -> Chat:
    return Chat(Assistant(push_services), "7")


async def outbox(store: Store) -> list[tuple[str, str]]:
    rows = await store.db.execute_fetchall("SELECT key, replies FROM outbox ORDER BY id")
    return [(row["key"], replies_from_json(row["replies"])[0].text) for row in rows]


async def test_a_reminder_is_set_by_typing_the_date(
    person: Chat, store: Store, content: Content
) -> None:
    overview = await person.say("/pengingat")
    assert "pg:d:itas" in option_ids(overview)
    asked = await person.tap("pg:d:itas")
    assert "pg:y:itas:2026" in option_ids(asked)
    added = await person.say("10-05-2027")
    assert all_text(added) == content.t(
        "rem.added",
        "id",
        document="ITAS / KITAS",
        date="10-05-2027",
        days="26-03-2027, 10-04-2027, 03-05-2027",
    )
    assert "t:itas-perpanjang" in option_ids(added)
    [reminder] = await repo.list_for(store.db, "test", "7")
    assert (reminder.document, reminder.expires_on) == ("itas", dt.date(2027, 5, 10))
    listed = await person.say("/reminder")
    assert content.t("rem.item", "id", document="ITAS / KITAS", date="10-05-2027") in all_text(
        listed
    )


async def test_naming_the_document_asks_for_its_date(person: Chat, store: Store) -> None:
    asked = await person.say("/reminder itap")
    assert "pg:y:itap:2036" in option_ids(asked)  # ITAP: up to ten years ahead
    await person.say("01-02-2030")
    [reminder] = await repo.list_for(store.db, "test", "7")
    assert (reminder.document, reminder.expires_on) == ("itap", dt.date(2030, 2, 1))


async def test_year_and_month_buttons_assume_the_first_day(person: Chat, store: Store) -> None:
    await person.tap("pg:d:passport")
    months = await person.tap("pg:y:passport:2028")
    assert len(option_ids(months)) == 12
    await person.tap("pg:m:passport:2028:3")
    await person.tap("pg:d:visit")
    await person.tap("pg:m:visit:2026:11")  # this month: today, not the 1st (already past)
    reminders = await repo.list_for(store.db, "test", "7")
    assert [(r.document, r.expires_on) for r in reminders] == [
        ("visit", dt.date(2026, 11, 30)),
        ("passport", dt.date(2028, 3, 1)),
    ]


async def test_bad_past_and_far_dates_are_explained(person: Chat, content: Content) -> None:
    await person.tap("pg:d:itas")
    assert all_text(await person.say("31-02-2027")) == content.t("rem.bad_date", "id")
    assert all_text(await person.say("01-01-2020")) == content.t("rem.past_date", "id")
    far = await person.say("01-01-2040")
    assert all_text(far) == content.t(
        "rem.far_date", "id", document="ITAS / KITAS", date="31-12-2031"
    )


async def test_a_question_typed_instead_of_a_date_is_answered(
    person: Chat, store: Store, content: Content
) -> None:
    await person.tap("pg:d:itas")
    answer = await person.say("syarat paspor baru")
    assert content.t("rem.bad_date", "id") not in all_text(answer)
    assert await repo.draft(store.db, "test", "7", store.clock()) is None


async def test_reminders_need_a_channel_that_can_send(chat: Chat, content: Content) -> None:
    assert all_text(await chat.say("/pengingat")) == content.t("rem.unavailable", "id")


async def test_a_reminder_fires_on_its_local_day_from_eight(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")  # first reminder 26-03-2027
    clock.now = dt.datetime(2027, 3, 26, 0, 59, tzinfo=dt.UTC)  # 07.59 in Jakarta
    assert await send_due_reminders(store, content, JAKARTA) == 0
    clock.now = dt.datetime(2027, 3, 26, 1, 0, tzinfo=dt.UTC)  # 08.00 in Jakarta
    assert await send_due_reminders(store, content, JAKARTA) == 1
    assert await send_due_reminders(store, content, JAKARTA) == 0  # once
    [(key, text)] = await outbox(store)
    assert key == "expiry:1:0"
    [row] = await store.db.execute_fetchall("SELECT priority FROM outbox")
    assert row["priority"] == URGENT  # ahead of any broadcast draining meanwhile
    advice = content.t("rem.advice.itas", "id")
    assert text == content.t(
        "rem.due", "id", document="ITAS / KITAS", date="10-05-2027", days=45, advice=advice
    )
    clock.now = dt.datetime(2027, 4, 10, 1, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
    assert [key for key, _ in await outbox(store)] == ["expiry:1:0", "expiry:1:1"]


async def test_the_day_follows_the_configured_time_zone(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    # 25-03 at 23.30 UTC: 06.30 on the 26th in Jakarta, 08.30 on the 26th in Jayapura.
    clock.now = dt.datetime(2027, 3, 25, 23, 30, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 0
    assert await send_due_reminders(store, content, JAYAPURA) == 1


async def test_after_downtime_only_the_latest_missed_reminder_goes_out(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    clock.now = dt.datetime(2027, 4, 12, 3, 0, tzinfo=dt.UTC)  # past the 45- and 30-day ones
    assert await send_due_reminders(store, content, JAKARTA) == 1
    [(key, text)] = await outbox(store)
    assert key == "expiry:1:1" and "(28 hari lagi)" in text
    clock.now = dt.datetime(2027, 5, 3, 3, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
    clock.now = dt.datetime(2027, 5, 11, 3, 0, tzinfo=dt.UTC)  # expired: the reminder is gone
    assert await send_due_reminders(store, content, JAKARTA) == 0
    assert await repo.list_for(store.db, "test", "7") == []


async def test_a_passport_set_late_skips_the_lead_already_past(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    added = await person.say("/pengingat passport 15-08-2027")  # 9 months before: 15-11-2026
    assert all_text(added) == content.t(
        "rem.added", "id", document="Paspor", date="15-08-2027", days="15-01-2027"
    )
    clock.now = dt.datetime(2027, 1, 15, 1, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
    assert [key for key, _ in await outbox(store)] == ["expiry:1:1"]


async def test_the_reminder_speaks_the_language_chosen_later(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat visit 20-12-2026")  # leads 05-11 (past), 20-11 (past), 13-12
    await person.say("/bahasa en")
    clock.now = dt.datetime(2026, 12, 13, 2, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
    [(_, text)] = await outbox(store)
    advice = content.t("rem.advice.visit", "en")
    assert text == content.t(
        "rem.due", "en", document="Visit visa", date="20-12-2026", days=7, advice=advice
    )


async def test_cancel_one_or_all_and_only_ones_own(
    person: Chat, push_services: Services, store: Store, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    await person.say("/pengingat passport 10-05-2030")
    other = Chat(Assistant(push_services), "8")
    await other.say("/pengingat itap 01-02-2028")
    listed = await person.say("/pengingat")
    assert {"pg:x:1", "pg:x:2", "pg:xa"} <= set(option_ids(listed))
    assert "pg:x:3" not in option_ids(listed)
    assert all_text(await person.tap("pg:x:3")) == content.t("rem.nothing", "id")  # not theirs
    assert all_text(await person.tap("pg:x:1")) == content.t("rem.cancelled", "id", count=1)
    assert all_text(await person.tap("pg:xa")) == content.t("rem.cancelled", "id", count=1)
    assert await repo.list_for(store.db, "test", "7") == []
    assert len(await repo.list_for(store.db, "test", "8")) == 1


async def test_erasing_a_person_forgets_their_reminders_and_request(
    person: Chat, store: Store
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    await person.tap("pg:d:passport")
    async with store.transaction() as db:
        assert await repo.forget_chat(db, "test", "7") == 1
    assert await repo.list_for(store.db, "test", "7") == []
    assert await repo.draft(store.db, "test", "7", store.clock()) is None


async def test_on_whatsapp_outside_the_window_the_reminder_goes_as_the_template(
    tmp_path: Path, clock: FixedClock, content: Content
) -> None:
    harness = await make_harness(tmp_path / "wa.sqlite3", clock, WHATSAPP_ALERT_TEMPLATE="alert")
    try:
        services = harness.app.services
        incoming = Incoming("whatsapp", PERSON, PERSON, text="/pengingat itas 10-05-2027")
        await harness.app.assistant.handle(incoming)
        clock.now = dt.datetime(2027, 3, 26, 2, 0, tzinfo=dt.UTC)  # weeks after they last wrote
        assert await send_due_reminders(services.store, services.content, services.zone) == 1
        assert await harness.app.outbox_worker().drain() == 1
        [message] = harness.graph.sent()
        assert message["type"] == "template" and message["template"]["name"] == "alert"
        [parameter] = message["template"]["components"][0]["parameters"]
        assert "ITAS / KITAS" in parameter["text"] and "10-05-2027" in parameter["text"]
    finally:
        await harness.close()


class BlockingSender:
    """A channel on which the person has blocked the bot."""

    async def send(self, chat_key: str, replies: list[Reply], /) -> None:
        raise Blocked


async def test_a_person_who_blocked_the_bot_loses_their_reminders(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    await person.say("/pengingat passport 10-05-2030")
    clock.now = dt.datetime(2027, 3, 26, 2, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
    hook = BroadcastHook(content, store.clock)
    await OutboxWorker(store, {"test": BlockingSender()}, on_done=hook).drain()
    assert await repo.list_for(store.db, "test", "7") == []


async def test_lead_times_changed_in_the_content_do_not_stop_the_job(
    person: Chat, store: Store, clock: FixedClock, content: Content
) -> None:
    await person.say("/pengingat itas 10-05-2027")
    async with store.transaction() as db:  # as if ITAS once had more lead times than now
        await repo.advance(db, 1, 7, dt.date(2027, 3, 1))
    clock.now = dt.datetime(2027, 3, 2, 2, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 0
    [reminder] = await repo.list_for(store.db, "test", "7")
    assert (reminder.next_lead, reminder.next_due) == (0, dt.date(2027, 3, 26))
    clock.now = dt.datetime(2027, 3, 26, 2, 0, tzinfo=dt.UTC)
    assert await send_due_reminders(store, content, JAKARTA) == 1
