"""The Telegram adapter through PTB's real dispatch (Application.process_update), offline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Update

from bot.app import App, build_app, build_http
from bot.channels import Connectors
from bot.channels.telegram import CHANNEL, SHORT_LABEL, TelegramChannel, keyboard
from bot.config import load_settings
from bot.content import Content
from bot.core import Lang, Location, Option, Reply
from bot.markup import to_plain, to_telegram_html
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock
from tests.fake_telegram import BOT_USER, FakeBotApi, callback_update, retry_after, text_update


def telegram_of(app: App) -> TelegramChannel:
    channel = app.channel(CHANNEL)
    assert isinstance(channel, TelegramChannel)
    return channel


class Harness:
    def __init__(
        self, app: App, channel: TelegramChannel, api: FakeBotApi, sleeps: list[float]
    ) -> None:
        self.app, self.channel, self.api, self.sleeps = app, channel, api, sleeps

    async def feed(self, data: dict[str, Any]) -> None:
        application = self.channel.application
        await application.process_update(Update.de_json(data, application.bot))


async def make_harness(
    db: Path, clock: FixedClock, api: FakeBotApi | None = None, **settings: object
) -> Harness:
    settings = load_settings(
        TELEGRAM_BOT_TOKEN="123:ABC",
        DATABASE_PATH=db,
        CONTENT_DIR=CONTENT_DIR,
        ADMIN_TELEGRAM_IDS="42",
        **settings,
    )
    api = api or FakeBotApi()
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    connectors = Connectors(telegram_request=api, sleep=record_sleep)
    app = await build_app(settings, clock=clock, understanding=ENGINE, connectors=connectors)
    channel = telegram_of(app)
    await channel.application.initialize()
    return Harness(app, channel, api, sleeps)


@pytest.fixture
async def tg(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path / "tg.sqlite3", clock)
    yield harness
    await harness.app.close()


def keyboard_data(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup")
    if markup is None:
        return []
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def test_start_command_replies_with_greeting_and_menu_keyboard(tg: Harness) -> None:
    await tg.feed(text_update(1, 7, "/start"))
    [message] = tg.api.sent()
    assert message["parse_mode"] == "HTML"
    assert "<b>UKK Kota Probolinggo</b>" in message["text"]
    assert keyboard_data(message) == ["c:paspor", "c:wna", "c:kantor", "q", "a", "lang", "h"]


async def test_deep_link_opens_topic(tg: Harness) -> None:
    await tg.feed(text_update(1, 7, "/start paspor-baru"))
    text = tg.api.sent()[-1]["text"]
    assert "Membuat paspor baru" in text


async def test_button_tap_answers_the_callback_and_fits_callback_limits(tg: Harness) -> None:
    await tg.feed(callback_update(2, 7, "c:wna"))
    assert [c.method for c in tg.api.calls if c.method == "answerCallbackQuery"] == [
        "answerCallbackQuery"
    ]
    data = keyboard_data(tg.api.sent()[-1])
    assert "t:itas" in data
    assert all(len(d.encode()) <= 64 for d in data)


async def test_every_callback_data_in_every_menu_fits_64_bytes(tg: Harness) -> None:
    for i, action in enumerate(["c:paspor", "c:wna", "c:kantor", "lang"]):
        await tg.feed(callback_update(10 + i, 7, action))
    for message in tg.api.sent():
        assert all(0 < len(d.encode()) <= 64 for d in keyboard_data(message))


async def test_language_choice_survives_a_new_application(
    tmp_path: Path, clock: FixedClock
) -> None:
    db = tmp_path / "persist.sqlite3"
    first = await make_harness(db, clock)
    await first.feed(callback_update(1, 7, "lang:en"))
    await first.app.close()
    second = await make_harness(db, clock)
    try:
        await second.feed(text_update(2, 7, "/menu", language="id"))
        assert second.api.sent()[-1]["text"] == "Main menu. Please choose:"
    finally:
        await second.app.close()


async def test_retry_after_is_waited_out_and_the_message_sent_again(
    tmp_path: Path, clock: FixedClock
) -> None:
    api = FakeBotApi(fail_next={"sendMessage": [retry_after(3)]})
    harness = await make_harness(tmp_path / "r.sqlite3", clock, api)
    try:
        await harness.feed(text_update(1, 7, "/menu"))
        attempts = harness.api.sent()
        assert len(attempts) == 2 and attempts[0] == attempts[1]
        assert harness.sleeps == [3.0]
    finally:
        await harness.app.close()


async def test_user_text_is_escaped_in_html(tg: Harness) -> None:
    await tg.feed(text_update(1, 7, "/x<b>&</b>"))
    text = tg.api.sent()[-1]["text"]
    assert "/x&lt;b&gt;&amp;&lt;/b&gt;" in text
    await tg.feed(text_update(2, 7, "<script>alert(1)</script> & paspor"))
    for message in tg.api.sent():
        assert "<script>" not in message["text"]


async def test_sticker_gets_text_only_notice(tg: Harness) -> None:
    update = text_update(1, 7, "x")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False,
        "is_video": False, "type": "regular",
    }  # fmt: skip
    await tg.feed(update)
    assert "hanya bisa membaca pesan teks" in tg.api.sent()[-1]["text"]


async def test_command_menu_is_published_in_both_languages(tg: Harness) -> None:
    await tg.channel.set_commands()
    calls = tg.api.sent("setMyCommands")
    languages = {c.get("language_code") for c in calls}
    assert languages == {"id", "en", None}
    english = next(c for c in calls if c.get("language_code") == "en")
    commands = english["commands"]
    if isinstance(commands, str):
        commands = json.loads(commands)
    assert {"command": "start", "description": "Start and main menu"} in commands


async def test_webhook_refuses_a_wrong_or_missing_secret_and_accepts_the_right_one(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = load_settings(
        TELEGRAM_BOT_TOKEN="123:ABC",
        TELEGRAM_WEBHOOK_URL="https://bot.example/webhooks/telegram",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
        DATABASE_PATH=tmp_path / "wh.sqlite3",
        CONTENT_DIR=CONTENT_DIR,
    )
    connectors = Connectors(telegram_request=FakeBotApi())
    app = await build_app(settings, clock=clock, understanding=ENGINE, connectors=connectors)
    transport = httpx.ASGITransport(app=build_http(app))
    update = text_update(1, 7, "/start")
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            missing = await client.post("/webhooks/telegram", json=update)
            wrong = await client.post(
                "/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
            )
            right = await client.post(
                "/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
            )
        assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
        queued = telegram_of(app).application.update_queue
        assert queued.qsize() == 1 and (await queued.get()).update_id == 1
    finally:
        await app.close()


async def test_a_queue_reminder_reaches_the_resident_through_telegram_once(tg: Harness) -> None:
    await tg.feed(text_update(1, 7, "/ingatkan A-005"))
    assert "r:A-005" not in keyboard_data(tg.api.sent()[-1])  # the reply to /ingatkan itself
    for update_id in (2, 3):
        await tg.feed(text_update(update_id, 42, "/panggil A"))  # 42 is an administrator
    assert "sekarang dilayani A-002" in tg.api.sent()[-1]["text"]
    worker = tg.app.outbox_worker()
    assert await worker.drain() == 1 and await worker.drain() == 0
    reminder = tg.api.sent()[-1]
    assert int(reminder["chat_id"]) == 7 and "A-005" in reminder["text"]
    assert keyboard_data(reminder) == ["q:A-005"]


def test_labels_up_to_the_short_length_go_two_to_a_row_and_longer_ones_alone() -> None:
    short, long = "s" * SHORT_LABEL, "l" * (SHORT_LABEL + 1)
    labels = [short, short, short, long, short, short, long, short]
    markup = keyboard(Reply("x", tuple(Option(str(i), label) for i, label in enumerate(labels))))
    assert markup is not None
    rows = [[button.callback_data for button in row] for row in markup.inline_keyboard]
    assert rows == [["0", "1"], ["2"], ["3"], ["4", "5"], ["6"], ["7"]]


async def test_only_a_configured_administrator_gets_staff_powers_on_telegram(
    tg: Harness, content: Content
) -> None:
    await tg.feed(text_update(1, 7, "/panggil A"))  # 7 is not in ADMIN_TELEGRAM_IDS
    assert tg.api.sent()[-1]["text"] == to_telegram_html(content.t("staff.only", "id"))
    rows = await tg.app.services.store.db.execute_fetchall("SELECT user_key, outcome FROM audit")
    assert [tuple(row) for row in rows] == [("7", "refused")]


async def test_a_long_reply_is_split_with_its_buttons_on_the_last_piece_and_no_previews(
    tg: Harness,
) -> None:
    await tg.channel.send(7, [Reply("kata " * 1200, (Option("m", "Menu"),))])
    sent = tg.api.sent()
    assert [("reply_markup" in m, m["chat_id"]) for m in sent] == [(False, 7), (True, 7)]
    assert all(m["link_preview_options"] == {"is_disabled": True} for m in sent)


async def test_a_reply_with_an_image_is_sent_as_a_photo_before_its_text(tg: Harness) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
    await tg.channel.send(7, [Reply("Figures", image=png)])
    assert [c.method for c in tg.api.calls if c.method != "getMe"] == ["sendPhoto", "sendMessage"]
    assert [int(m["chat_id"]) for m in tg.api.sent("sendPhoto")] == [7]


async def test_a_broadcast_waits_out_a_429_and_unsubscribes_who_blocked_the_bot(
    tg: Harness, content: Content
) -> None:
    for user in (7, 8, 9):
        await tg.feed(text_update(user, user, "/langganan"))
    tg.api.blocked.add(8)
    for i, text in enumerate(["/umumkan", "Kantor tutup besok"]):
        await tg.feed(text_update(20 + i, 42, text))
    for i, action in enumerate(["ad:skip", "ad:skip", "ad:ok"]):
        await tg.feed(callback_update(30 + i, 42, action))
    tg.api.calls.clear()
    tg.api.fail_next["sendMessage"] = [retry_after(2)]
    await tg.app.outbox_worker().drain()
    # The 429's wait first; after it only the rate limiter's spacing (1/25 s a message).
    assert tg.sleeps[0] == 2.0 and max(tg.sleeps[1:]) < 1
    delivered = [m["chat_id"] for m in tg.api.sent() if "Kantor tutup besok" in m["text"]]
    assert delivered == ["7", "7", "8", "9"]  # 7 again after the 429; 8 answered 403
    summary = content.t(
        "ann.summary", "id", id=1, sent=2, failed=1, skipped=0, expired=0, unconfirmed=0
    )
    assert tg.api.sent()[-1]["chat_id"] == "42" and tg.api.sent()[-1]["text"] == summary
    rows = await tg.app.services.store.db.execute_fetchall(
        "SELECT chat_key FROM subscriptions WHERE active = 1 ORDER BY chat_key"
    )
    assert [row[0] for row in rows] == ["7", "9"]


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def menu_names(call: dict[str, Any]) -> set[str]:
    return {command["command"] for command in as_json(call["commands"])}


async def test_staff_commands_show_only_in_staff_chats_and_follow_the_staff_list(
    tg: Harness,
) -> None:
    await tg.channel.set_commands()
    calls = tg.api.sent("setMyCommands")
    public = [c for c in calls if c.get("scope") is None]
    assert public and all("panggil" not in menu_names(c) for c in public)
    admin = [c for c in calls if c.get("scope") is not None]
    assert {as_json(c["scope"])["chat_id"] for c in admin} == {42}
    assert all({"panggil", "umumkan", "statistik"} <= menu_names(c) for c in admin)

    tg.api.calls.clear()
    await tg.feed(text_update(1, 42, "/staf tambah 77"))
    added = tg.api.sent("setMyCommands")
    assert len(added) == 3 and all(as_json(c["scope"])["chat_id"] == 77 for c in added)
    await tg.feed(text_update(2, 42, "/staf"))
    assert "77" in tg.api.sent()[-1]["text"]
    await tg.feed(text_update(3, 42, "/staf hapus 77"))
    removed = tg.api.sent("deleteMyCommands")
    assert all(as_json(c["scope"])["chat_id"] == 77 for c in removed)
    # Each language's menu and the default one
    assert [c.get("language_code") for c in removed] == ["id", "en", None]


STAFF_GROUP = -100500


def staff_reply(
    update_id: int, staff_id: int, text: str, replied: dict[str, Any]
) -> dict[str, Any]:
    """A staff member answers in the staff group by replying to the bot's forwarded message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": STAFF_GROUP, "type": "supergroup", "title": "Petugas UKK"},
            "from": {"id": staff_id, "is_bot": False, "first_name": "Petugas"},
            "text": text,
            "reply_to_message": {
                "message_id": replied["message_id"],
                "date": 1_790_000_000,
                "chat": {"id": STAFF_GROUP, "type": "supergroup", "title": "Petugas UKK"},
                "from": BOT_USER,
                "text": replied["text"],
            },
        },
    }


async def test_a_hand_over_goes_to_the_staff_group_and_the_reply_comes_back(
    tmp_path: Path, clock: FixedClock, content: Content
) -> None:
    tg = await make_harness(tmp_path / "h.sqlite3", clock, STAFF_CHAT_ID=STAFF_GROUP)
    try:
        await tg.feed(callback_update(1, 7, "h"))
        assert tg.api.sent()[-1]["text"] == to_telegram_html(content.t("handover.ask", "id"))
        await tg.feed(text_update(2, 7, "Apakah paspor saya bisa diambil <Sabtu>?"))
        assert "#H-0001" in tg.api.sent()[-1]["text"]
        worker = tg.app.outbox_worker()
        await worker.drain()
        forwarded = tg.api.sent()[-1]
        assert str(forwarded["chat_id"]) == str(STAFF_GROUP)
        assert "#H-0001" in forwarded["text"] and "telegram" in forwarded["text"]
        assert "&lt;Sabtu&gt;" in forwarded["text"] and "Warga" not in forwarded["text"]
        replied = {"message_id": 77, "text": to_plain(forwarded["text"])}

        await tg.feed(text_update(3, 5, "obrolan biasa di grup"))  # not a reply: left alone
        await tg.feed(staff_reply(4, 42, "Bisa, datang Senin pukul 08.00", replied))  # an admin
        ack = tg.api.sent()[-1]
        assert str(ack["chat_id"]) == str(STAFF_GROUP) and "#H-0001" in ack["text"]
        await worker.drain()
        answer, invitation = tg.api.sent()[-2:]
        assert str(answer["chat_id"]) == "7" and "Bisa, datang Senin pukul 08.00" in answer["text"]
        # The answered hand-over brings the survey invitation, rating the information service.
        assert str(invitation["chat_id"]) == "7"
        assert keyboard_data(invitation) == ["sv:2", "svd"]
        assert len([m for m in tg.api.sent() if str(m["chat_id"]) == str(STAFF_GROUP)]) == 2
    finally:
        await tg.app.close()


BAD_REQUEST = (
    400,
    {"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities"},
)


@pytest.mark.parametrize(("language", "lang"), [("id", "id"), ("en", "en")])
async def test_a_failed_update_gets_an_apology_in_the_persons_language(
    tmp_path: Path, clock: FixedClock, content: Content, language: str, lang: Lang
) -> None:
    api = FakeBotApi(fail_next={"sendMessage": [BAD_REQUEST]})
    tg = await make_harness(tmp_path / "e.sqlite3", clock, api)
    try:
        await tg.feed(text_update(1, 7, "/menu", language=language))
        failed, apology = tg.api.sent()
        assert failed["text"] == to_telegram_html(content.t("menu_prompt", lang))
        assert (int(apology["chat_id"]), apology["text"]) == (
            7,
            to_telegram_html(content.t("error", lang)),
        )
    finally:
        await tg.app.close()


async def test_a_retry_after_is_waited_out_five_times_at_most_then_apologised_for(
    tmp_path: Path, clock: FixedClock, content: Content
) -> None:
    api = FakeBotApi(fail_next={"sendMessage": [retry_after(3)] * 5})
    tg = await make_harness(tmp_path / "r5.sqlite3", clock, api)
    try:
        await tg.feed(text_update(1, 7, "/menu"))
        *attempts, apology = tg.api.sent()
        assert len(attempts) == 5 and all(a == attempts[0] for a in attempts)
        assert tg.sleeps == [3.0, 3.0, 3.0, 3.0]
        assert apology["text"] == to_telegram_html(content.t("error", "id"))
    finally:
        await tg.app.close()


async def test_a_location_is_sent_as_a_venue_before_its_caption(tg: Harness) -> None:
    place = Location("MPP Kota Probolinggo", "Jl. Suroyo", -7.75, 113.21)
    await tg.channel.send(7, [Reply("Lokasi kami", location=place)])
    [venue] = tg.api.sent("sendVenue")
    assert {k: venue[k] for k in ("chat_id", "latitude", "longitude", "title", "address")} == {
        "chat_id": 7,
        "latitude": -7.75,
        "longitude": 113.21,
        "title": "MPP Kota Probolinggo",
        "address": "Jl. Suroyo",
    }
    sent = [c.method for c in tg.api.calls if c.method.startswith("send")]
    assert sent == ["sendVenue", "sendMessage"]


WEBHOOK = {
    "TELEGRAM_WEBHOOK_URL": "https://bot.example/hooks/tg",
    "TELEGRAM_WEBHOOK_SECRET": "s3cret-token",
}


async def test_webhook_mode_registers_the_webhook_with_its_secret_and_does_not_poll(
    tmp_path: Path, clock: FixedClock
) -> None:
    tg = await make_harness(tmp_path / "wm.sqlite3", clock, **WEBHOOK)
    try:
        await tg.channel.start()
        [webhook] = tg.api.sent("setWebhook")
        assert webhook["url"] == "https://bot.example/hooks/tg"
        assert webhook["secret_token"] == "s3cret-token"
        assert set(as_json(webhook["allowed_updates"])) == set(Update.ALL_TYPES)
        assert "getUpdates" not in [c.method for c in tg.api.calls]
    finally:
        await tg.app.close()


async def test_a_webhook_body_that_is_not_json_is_a_bad_request(
    tmp_path: Path, clock: FixedClock
) -> None:
    tg = await make_harness(tmp_path / "wj.sqlite3", clock, **WEBHOOK)
    transport = httpx.ASGITransport(app=build_http(tg.app))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/hooks/tg",
                content=b"{not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
            )
        assert response.status_code == 400
        assert tg.channel.application.update_queue.qsize() == 0
    finally:
        await tg.app.close()
