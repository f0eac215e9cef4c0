"""Queue conversations through the real assistant: residents, staff and administrators."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant import Assistant
from bot.content import Content
from bot.context import Services
from bot.core import Incoming, Reply
from bot.queue.state import Report
from bot.queue_desk import Actor
from bot.store import Store
from bot.store.audit import MAX_ACTION_CHARS as MAX_AUDIT_ACTION_CHARS
from bot.understanding import Understanding
from tests.conftest import Chat, FixedClock, all_text, audit, option_ids


@pytest.fixture
def services(content: Content, store: Store, understanding: Understanding) -> Services:
    """Services where the test channel can send reminders, like Telegram."""
    return Services(content, store, understanding, push_channels=frozenset({"test"}))


async def test_resident_cannot_call_next_and_the_attempt_is_audited(
    resident: Chat, content: Content, store: Store
) -> None:
    replies = await resident.say("/panggil A")
    assert all_text(replies) == content.t("staff.only", "id")
    assert await audit(store) == [("300", "/panggil A", "refused")]
    assert "belum ada nomor yang dipanggil" in all_text(await resident.say("/antrian"))


async def test_a_refused_attempt_with_a_long_argument_is_audited_cut_short(
    resident: Chat, store: Store
) -> None:
    await resident.say("/panggil " + "A" * 900)
    [(_, action, outcome)] = await audit(store)
    assert outcome == "refused" and action.startswith("/panggil AAA")
    assert len(action) == MAX_AUDIT_ACTION_CHARS


async def test_an_admin_makes_someone_staff_who_then_calls_and_the_reply_confirms(
    officer: Chat, content: Content, store: Store
) -> None:
    await officer.say("/panggil A")
    replies = await officer.say("/panggil a")
    assert all_text(replies) == content.t(
        "queue.done", "id", letter="A", name="Paspor (WNI)", status="sekarang dilayani A-002"
    )
    assert ("100", "/staf tambah 200", "done") in await audit(store)
    assert ("200", "/panggil a", "done") in await audit(store)


async def test_staff_commands_work_in_english_too(assistant: Assistant, admin: Chat) -> None:
    await admin.say("/staff add 201")
    officer = Chat(assistant, "201", lang_hint="en")
    await officer.say("/bahasa en")
    assert "now serving A-001" in all_text(await officer.say("/call A"))
    assert "paused (lunch break)" in all_text(await officer.say("/pause A lunch break"))


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("/panggil", "queue.usage_call"),
        ("/panggil Z", "queue.usage_call"),
        ("/set A", "queue.usage_set"),
        ("/set A -3", "queue.usage_set"),
        ("/set A dua", "queue.usage_set"),
        ("/buka", "queue.usage_status"),
        ("/jeda X rusak", "queue.usage_status"),
    ],
)
async def test_bad_staff_input_gets_a_clear_explanation(
    officer: Chat, content: Content, command: str, key: str
) -> None:
    assert all_text(await officer.say(command)) == content.t(key, "id", letters="A, B, C")


async def test_set_may_go_back_and_a_closed_service_cannot_call(
    officer: Chat, content: Content
) -> None:
    await officer.say("/set B 25")
    assert "sekarang dilayani B-012" in all_text(await officer.say("/set B 12"))
    assert "tutup (sistem gangguan)" in all_text(await officer.say("/tutup B sistem gangguan"))
    assert all_text(await officer.say("/panggil B")) == content.t(
        "queue.err_closed", "id", service="B"
    )


async def test_only_an_administrator_edits_the_staff_list(
    officer: Chat, admin: Chat, content: Content, store: Store
) -> None:
    assert all_text(await officer.say("/staf tambah 999")) == content.t("staff.admin_only", "id")
    assert ("200", "/staf tambah 999", "refused") in await audit(store)
    assert all_text(await admin.say("/staf tambah 200")) == content.t(
        "staff.already", "id", user="200"
    )
    assert all_text(await admin.say("/staf hapus 200")) == content.t(
        "staff.removed", "id", user="200"
    )
    assert all_text(await officer.say("/panggil A")) == content.t("staff.only", "id")
    assert all_text(await admin.say("/staf tambah abc")) == content.t("staff.usage", "id")


async def test_residents_see_every_service_with_wait_and_reasons(
    officer: Chat, resident: Chat, clock: FixedClock
) -> None:
    for _ in range(5):
        clock.now += dt.timedelta(minutes=4)
        await officer.say("/panggil A")
    await officer.say("/jeda B istirahat siang")
    text = all_text(await resident.say("/antrian"))
    assert "**A · Paspor (WNI)**: sekarang dilayani A-005 · sekitar 4 menit per nomor" in text
    assert "**B · Izin tinggal (WNA)**: dijeda (istirahat siang)" in text
    assert "**C · Informasi & pengaduan**: belum ada nomor yang dipanggil" in text


async def test_a_ticket_shows_how_many_are_ahead_and_a_range(
    officer: Chat, resident: Chat, content: Content
) -> None:
    await officer.say("/set A 20")
    replies = await resident.say("/antrian a 25")
    assert content.t("queue.ticket_ahead", "id", ticket="A-025", ahead=4, low=22, high=45) in (
        all_text(replies)
    )
    assert option_ids(replies) == ["r:A-025", "q:A-025", "m"]


async def test_free_text_about_the_queue_gets_the_board_or_the_tickets_place(
    officer: Chat, resident: Chat
) -> None:
    await officer.say("/set A 20")
    # Without a ticket in the question: today's board, not "that ticket cannot be read".
    assert await resident.say("antrian sampai mana") == await resident.say("/antrian")
    assert await resident.say("antrian A025 sampai mana") == await resident.say("/antrian A-025")


async def test_a_number_already_called_is_told_kindly(
    officer: Chat, resident: Chat, content: Content
) -> None:
    await officer.say("/set A 30")
    text, options = one(await resident.say("/antrian A-025"))
    assert text.endswith(
        "\n" + content.t("queue.ticket_called", "id", ticket="A-025", serving="A-030")
    )
    assert options == ["q", "m"]


async def test_unknown_service_and_unreadable_ticket_are_explained(
    resident: Chat, content: Content
) -> None:
    assert one(await resident.say("/antrian D-001")) == (
        content.t("queue.unknown_service", "id", letter="D", letters="A, B, C"),
        ["q", "m"],
    )
    assert one(await resident.say("/antrian besok")) == (
        content.t("queue.bad_ticket", "id"),
        ["q", "m"],
    )


async def test_before_opening_hours_residents_learn_when_service_starts(
    resident: Chat, clock: FixedClock, content: Content
) -> None:
    clock.now = dt.datetime(2026, 11, 30, 0, 15, tzinfo=dt.UTC)  # Monday 07.15 WIB
    assert content.t("queue.before_hours", "id", start="08.00") in all_text(
        await resident.say("/antrian")
    )
    clock.now = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)  # Saturday
    assert content.t("queue.closed_today", "id") in all_text(await resident.say("/antrian"))


async def test_remind_me_and_cancel(
    officer: Chat, resident: Chat, content: Content, store: Store
) -> None:
    await officer.say("/set A 10")
    replies = await resident.say("/ingatkan A-020")
    assert all_text(replies) == content.t("queue.remind_set", "id", ticket="A-020", ahead=3)
    assert one(await resident.say("/batal")) == (
        content.t("queue.cancelled", "id", count=1),
        ["q", "m"],
    )
    assert all_text(await resident.say("/batal")) == content.t("queue.nothing_to_cancel", "id")
    assert all_text(await resident.tap("r:A-012")) == content.t(
        "queue.remind_near", "id", ticket="A-012", serving="A-010"
    )


async def test_the_web_chat_offers_no_reminder_it_cannot_send(
    content: Content, store: Store, understanding: Understanding
) -> None:
    web = Assistant(Services(content, store, understanding))
    replies = (await web.handle(Incoming("web", "s", "s", text="/antrian A-025"))).replies
    assert "r:A-025" not in option_ids(replies)
    replies = (await web.handle(Incoming("web", "s", "s", text="/ingatkan A-025"))).replies
    assert one(replies) == (
        content.t("queue.remind_unavailable", "id", ticket="A-025"),
        ["q", "m"],
    )


async def test_staff_get_their_command_list_and_residents_do_not(
    officer: Chat, resident: Chat, content: Content
) -> None:
    text = all_text(await officer.say("/perintah"))
    assert text.startswith(content.t("staff.commands", "id"))
    assert content.t("cmd.call", "id") in text and content.t("cmd.staff", "id") in text
    assert all_text(await resident.say("/perintah")) == content.t("staff.only", "id")


async def test_no_reminder_is_offered_when_the_ticket_is_already_near(
    officer: Chat, resident: Chat
) -> None:
    await officer.say("/set A 10")
    assert option_ids(await resident.say("/antrian A-012")) == ["q:A-012", "m"]


def line(content: Content, status: str, letter: str = "A", name: str = "Paspor (WNI)") -> str:
    """One service's line on the board, as residents read it."""
    return content.t("queue.line", "id", letter=letter, name=name, status=status)


def one(replies: list[Reply]) -> tuple[str, list[str]]:
    [reply] = replies
    return reply.text, [option.id for option in reply.options]


async def test_the_board_gives_a_wait_range_from_the_machines_count_of_waiting_tickets(
    officer: Chat, resident: Chat, content: Content, services: Services, clock: FixedClock
) -> None:
    for _ in range(5):
        clock.now += dt.timedelta(minutes=4)
        await officer.say("/panggil A")
    await services.queue_desk().change("A", Report(5, last_issued=12), Actor("api", "m"), "report")
    text = all_text(await resident.say("/antrian"))
    waiting = content.t("queue.waiting", "id", count=7, low=24, high=48)  # 8 × 4 min × 0.75–1.5
    assert f"{line(content, 'sekarang dilayani A-005')} · {waiting}\n" in text


async def test_the_next_ticket_is_told_it_is_next_without_a_reminder_button(
    officer: Chat, resident: Chat, content: Content
) -> None:
    await officer.say("/set A 24")
    assert one(await resident.say("/antrian A-025")) == (
        f"{line(content, 'sekarang dilayani A-024')} · sekitar 6 menit per nomor\n"
        + content.t("queue.ticket_next", "id", ticket="A-025"),
        ["q:A-025", "m"],
    )


async def test_a_reminder_is_offered_from_exactly_the_reminder_distance(
    officer: Chat, resident: Chat
) -> None:
    await officer.say("/set A 21")  # A-025 has 3 ahead: the reminder still has work to do
    assert one(await resident.say("/antrian A-025"))[1] == ["r:A-025", "q:A-025", "m"]
    await officer.say("/set A 22")
    assert one(await resident.say("/antrian A-025"))[1] == ["q:A-025", "m"]


async def test_a_ticket_before_anything_is_called_counts_from_zero_and_may_be_reminded(
    resident: Chat, content: Content, clock: FixedClock
) -> None:
    waiting = content.t("queue.ticket_waiting_start", "id", ticket="A-005", letter="A", ahead=4)
    assert one(await resident.say("/antrian A-005")) == (
        f"{line(content, 'belum ada nomor yang dipanggil')}\n{waiting}",
        ["r:A-005", "q:A-005", "m"],
    )
    clock.now = dt.datetime(2026, 11, 30, 0, 15, tzinfo=dt.UTC)  # Monday 07.15 WIB
    early = content.t("queue.before_hours", "id", start="08.00")
    assert one(await resident.say("/antrian A-005"))[0].endswith(f"{waiting}\n{early}")


async def test_after_hours_the_board_says_service_has_ended(
    resident: Chat, content: Content, clock: FixedClock
) -> None:
    clock.now = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)  # Monday 14.00 WIB: just closed
    assert content.t("queue.after_hours", "id") in all_text(await resident.say("/antrian"))
    clock.now -= dt.timedelta(seconds=1)  # 13.59.59: still open, no notice
    text, options = one(await resident.say("/antrian"))
    last_line = line(content, "belum ada nomor yang dipanggil", "C", "Informasi & pengaduan")
    assert text.endswith(f"{last_line}\n{content.t('queue.note', 'id')}")
    assert options == ["q", "m"]
    clock.now = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # 08.00 sharp: open, no notice
    assert content.t("queue.before_hours", "id", start="08.00") not in all_text(
        await resident.say("/antrian")
    )


async def test_a_closed_or_paused_service_is_shown_with_its_reason(
    officer: Chat, resident: Chat, content: Content
) -> None:
    await officer.say("/set A 7")
    await officer.say("/jeda A")
    paused = "dijeda (tanpa keterangan) · terakhir dilayani A-007"
    assert one(await resident.say("/antrian A-025"))[0].startswith(line(content, paused) + "\n")
    await officer.say("/tutup A gangguan listrik")
    assert one(await resident.say("/antrian A-025")) == (
        line(content, "tutup (gangguan listrik)"),
        ["q", "m"],
    )


async def test_remind_me_explains_usage_and_a_ticket_already_called(
    officer: Chat, resident: Chat, content: Content
) -> None:
    assert one(await resident.say("/ingatkan")) == (
        content.t("queue.remind_usage", "id"),
        ["q", "m"],
    )
    assert one(await resident.say("/ingatkan Z-001")) == (
        content.t("queue.unknown_service", "id", letter="Z", letters="A, B, C"),
        ["q", "m"],
    )
    await officer.say("/set A 10")
    assert one(await resident.say("/ingatkan A-010"))[0] == content.t(
        "queue.ticket_called", "id", ticket="A-010", serving="A-010"
    )
    assert one(await resident.say("/ingatkan A-013"))[0] == content.t(
        "queue.remind_near", "id", ticket="A-013", serving="A-010"
    )
    assert one(await resident.say("/ingatkan A-014")) == (
        content.t("queue.remind_set", "id", ticket="A-014", ahead=3),
        ["q", "m"],
    )
    assert all_text(await resident.say("/batal")) == content.t("queue.cancelled", "id", count=1)


async def test_a_reminder_before_the_service_starts_is_kept_however_near(
    resident: Chat, content: Content
) -> None:
    assert one(await resident.say("/ingatkan A-001"))[0] == content.t(
        "queue.remind_set", "id", ticket="A-001", ahead=3
    )
