"""The WhatsApp channel through the real Starlette app: recorded webhook bodies in, a fake Graph
API (httpx.MockTransport) out. Offline, no sleeps, the clock fixed."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import App, build_app, build_http
from bot.channels import Connectors
from bot.channels.whatsapp import OutsideWindow, RedactVerifyToken, WhatsAppChannel
from bot.config import SettingsError, load_settings
from bot.content import Content
from bot.context import Answer
from bot.core import Incoming, Lang, Reply
from bot.store import whatsapp
from bot.store.outbox import enqueue, replies_from_json
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock
from tests.fake_whatsapp import (
    FakeGraphApi,
    action_ids,
    check_limits,
    graph_error,
    payload,
    signature,
)
from tests.test_settings import base_env, run_cli

SECRET = "app-secret"
VERIFY = "verify-me"
PERSON = "6281234567890"
ADMIN = "6281100000001"
TEXT_WAMID = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDMEY1QkY2RTQ2QjQxRjAyAA=="
MENU = ["c:paspor", "c:wna", "c:kantor", "q", "a", "lang", "h"]
SENT_AT = dt.datetime(2026, 11, 30, 1, 59, tzinfo=dt.UTC)  # the recorded bodies' timestamp


def assert_topic(graph: FakeGraphApi, topic_id: str, lang: Lang = "id") -> None:
    """What the Graph API got is that topic's answer: its title first, its 👍/👎 buttons."""
    title = ENGINE.content.topics[topic_id].title.get(lang)
    assert graph.texts().startswith(f"*{title}*\n\n")
    ids = [i for m in graph.sent() for i in action_ids(m)]
    assert [i for i in ids if i.startswith("f:")] == [f"f:+:{topic_id}", f"f:-:{topic_id}"]


def with_message(body: bytes, **fields: Any) -> bytes:
    """A recorded body with its one message changed (kept as Meta would sign it)."""
    data = json.loads(body)
    data["entry"][0]["changes"][0]["value"]["messages"][0].update(fields)
    return json.dumps(data).encode()


class Harness:
    """The real app with a fake Graph API; `post` signs and delivers a recorded body."""

    def __init__(self, app: App, graph: FakeGraphApi, sleeps: list[float]) -> None:
        self.app, self.graph, self.sleeps = app, graph, sleeps
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=build_http(app)), base_url="http://bot.test"
        )

    @property
    def channel(self) -> WhatsAppChannel:
        channel = self.app.channel("whatsapp")
        assert isinstance(channel, WhatsAppChannel)
        return channel

    async def post(self, body: bytes, signed_with: str | None = SECRET) -> httpx.Response:
        """Deliver a body and wait until it has been handled."""
        response = await self.deliver(body, signed_with)
        await self.channel.drain()
        return response

    async def deliver(self, body: bytes, signed_with: str | None = SECRET) -> httpx.Response:
        """Deliver a body; its handling goes on in the background."""
        headers = {"Content-Type": "application/json"}
        if signed_with is not None:
            headers["X-Hub-Signature-256"] = signature(body, signed_with)
        return await self.http.post("/webhooks/whatsapp", content=body, headers=headers)

    async def close(self) -> None:
        await self.http.aclose()
        await self.app.close()


def whatsapp_settings(db: Path, **extra: str) -> Any:
    return load_settings(
        WHATSAPP_ACCESS_TOKEN="graph-token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_API_BASE_URL="https://graph.test/v23.0/",
        ADMIN_WHATSAPP_NUMBERS="+62 811-0000-0001",
        DATABASE_PATH=db,
        CONTENT_DIR=CONTENT_DIR,
        **extra,
    )


async def make_harness(
    db: Path, clock: FixedClock, graph: FakeGraphApi | None = None, **extra: str
) -> Harness:
    graph = graph or FakeGraphApi()
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    app = await build_app(
        whatsapp_settings(db, **extra),
        clock=clock,
        understanding=ENGINE,
        connectors=Connectors(
            http=httpx.AsyncClient(transport=graph.transport()), sleep=record_sleep
        ),
    )
    return Harness(app, graph, sleeps)


@pytest.fixture
async def wa(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path / "wa.sqlite3", clock)
    yield harness
    await harness.close()


# --- webhook: verification and signatures ------------------------------------------------


async def test_verification_handshake_echoes_the_challenge(wa: Harness) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await wa.http.get("/webhooks/whatsapp", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
async def test_verification_with_a_wrong_token_is_refused(
    wa: Harness, params: dict[str, str]
) -> None:
    response = await wa.http.get("/webhooks/whatsapp", params=params)
    assert response.status_code == 403
    assert "1" not in response.text


def test_verify_token_is_hidden_in_the_access_log() -> None:
    path = "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=7"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s" %d', ("ip", "GET", path, 200), None
    )
    assert RedactVerifyToken().filter(record)
    assert "verify-me" not in record.getMessage()
    assert "hub.verify_token=***&hub.challenge=7" in record.getMessage()


async def test_the_access_log_hides_the_verify_token_while_the_channel_runs(
    tmp_path: Path, clock: FixedClock
) -> None:
    def logged(path: str) -> str:
        record = logging.LogRecord(
            "uvicorn.access", logging.INFO, "", 0, '"%s %s"', ("GET", path), None
        )
        logging.getLogger("uvicorn.access").filter(record)
        return record.getMessage()

    path = "/webhooks/whatsapp?hub.verify_token=verify-me"
    harness = await make_harness(tmp_path / "wa.sqlite3", clock)
    await harness.channel.start()
    assert logged(path) == '"GET /webhooks/whatsapp?hub.verify_token=***"'
    await harness.close()
    assert logged(path) == f'"GET {path}"'  # the filter goes with the channel


@pytest.mark.parametrize("signed_with", [None, "another-secret"])
async def test_unsigned_or_wrongly_signed_body_is_refused_and_not_processed(
    wa: Harness, signed_with: str | None
) -> None:
    response = await wa.post(payload("text"), signed_with=signed_with)
    assert response.status_code == 403
    assert wa.graph.requests == []
    # Not even the message id was recorded: the genuine delivery is still answered.
    assert (await wa.post(payload("text"))).status_code == 200
    assert wa.graph.requests


async def test_signature_of_a_different_body_is_refused(wa: Harness) -> None:
    headers = {"X-Hub-Signature-256": signature(payload("image"), SECRET)}
    response = await wa.http.post("/webhooks/whatsapp", content=payload("text"), headers=headers)
    assert response.status_code == 403


async def test_signed_garbage_is_a_bad_request(wa: Harness) -> None:
    assert (await wa.post(b"not json")).status_code == 400


async def test_access_token_without_app_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^WHATSAPP_APP_SECRET:"):
        load_settings(
            WHATSAPP_ACCESS_TOKEN="t",
            WHATSAPP_PHONE_NUMBER_ID="1",
            WHATSAPP_VERIFY_TOKEN="v",
            CONTENT_DIR=CONTENT_DIR,
        )


@pytest.mark.subprocess
def test_cli_run_without_app_secret_exits_2_naming_it(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_VERIFY_TOKEN": "v",
    }
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("ukkbot: setting WHATSAPP_APP_SECRET:")
    assert "Traceback" not in result.stderr


async def test_no_whatsapp_route_without_settings(tmp_path: Path, clock: FixedClock) -> None:
    app = await build_app(
        load_settings(DATABASE_PATH=tmp_path / "n.sqlite3", CONTENT_DIR=CONTENT_DIR),
        clock=clock,
        understanding=ENGINE,
    )
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        assert (await http.post("/webhooks/whatsapp", content=b"{}")).status_code == 404
    await app.close()


# --- inbound -----------------------------------------------------------------------------


async def test_text_is_answered_through_the_graph_api(wa: Harness) -> None:
    response = await wa.post(payload("text"))
    assert response.status_code == 200
    request = wa.graph.requests[0]
    assert str(request.url) == "https://graph.test/v23.0/106540352242922/messages"
    assert request.headers["Authorization"] == "Bearer graph-token"
    sent = wa.graph.sent()
    assert all(
        (m["to"], m["messaging_product"], m["recipient_type"]) == (PERSON, "whatsapp", "individual")
        for m in sent
    )
    assert_topic(wa.graph, "paspor-baru")
    for message in sent:
        check_limits(message)


async def test_button_reply_routes_on_the_id_not_the_title(wa: Harness) -> None:
    await wa.post(payload("button_reply"))  # id c:wna, title "Paspor (WNI)"
    ids = [i for m in wa.graph.sent() for i in action_ids(m)]
    assert "t:itas" in ids and "t:paspor-baru" not in ids


async def test_list_reply_routes_on_the_row_id(wa: Harness) -> None:
    await wa.post(payload("list_reply"))  # id t:itas, title "Jam layanan"
    assert "ITAS" in wa.graph.texts()
    ids = [i for m in wa.graph.sent() for i in action_ids(m)]
    assert "c:wna" in ids  # the Back button of a stay-permit topic


async def test_template_quick_reply_payload_is_an_action(wa: Harness) -> None:
    await wa.post(payload("template_button"))  # payload "m": the main menu
    ids = [i for m in wa.graph.sent() for i in action_ids(m)]
    assert ids == MENU
    [menu] = wa.graph.sent()
    assert menu["interactive"]["type"] == "list"
    assert menu["interactive"]["action"]["button"] == "Pilih"


async def test_image_gets_the_text_only_notice(wa: Harness) -> None:
    await wa.post(payload("image"))
    assert "hanya bisa membaca pesan teks" in wa.graph.texts()


async def test_a_reaction_is_not_answered(wa: Harness) -> None:
    assert (await wa.post(payload("reaction"))).status_code == 200
    assert wa.graph.requests == []


async def test_status_callback_is_acknowledged_and_nothing_sent(wa: Harness) -> None:
    response = await wa.post(payload("status"))
    assert response.status_code == 200
    assert wa.graph.requests == []


async def test_redelivery_is_answered_once(wa: Harness) -> None:
    await wa.post(payload("text"))
    answered = len(wa.graph.requests)
    await wa.post(payload("duplicate"))
    assert len(wa.graph.requests) == answered


async def test_redelivery_after_a_restart_is_answered_once(
    tmp_path: Path, clock: FixedClock
) -> None:
    db = tmp_path / "restart.sqlite3"
    first = await make_harness(db, clock)
    await first.post(payload("text"))
    assert first.graph.requests
    await first.close()
    second = await make_harness(db, clock)
    try:
        await second.post(payload("duplicate"))
        assert second.graph.requests == []
    finally:
        await second.close()


async def test_inbound_message_opens_the_24_hour_window(wa: Harness) -> None:
    store = wa.app.services.store
    assert await whatsapp.last_inbound(store.db, PERSON) is None
    await wa.post(payload("status"))
    assert await whatsapp.last_inbound(store.db, PERSON) is None
    await wa.post(payload("image"))
    assert await whatsapp.last_inbound(store.db, PERSON) == SENT_AT


async def test_admin_number_gets_the_admin_role(wa: Harness) -> None:
    seen: list[Incoming] = []
    handle = wa.app.assistant.handle

    async def spy(incoming: Incoming) -> Answer:
        seen.append(incoming)
        return await handle(incoming)

    wa.app.assistant.handle = spy  # type: ignore[method-assign]
    await wa.post(payload("text"))
    admin_body = payload("image").decode().replace(PERSON, ADMIN).encode()
    await wa.post(admin_body)
    assert [(i.user_key, i.role) for i in seen] == [(PERSON, "resident"), (ADMIN, "admin")]
    assert seen[0].text == "gmn cara bikin paspor baru" and seen[1].text is None


async def test_one_persons_messages_are_answered_in_order(wa: Harness) -> None:
    await wa.deliver(payload("text"))
    await wa.deliver(payload("template_button"))
    await wa.channel.drain()
    sent = wa.graph.sent()
    menus = [i for i, m in enumerate(sent) if action_ids(m) == MENU]
    assert len(sent) > 1 and menus == [len(sent) - 1]


async def test_number_from_abroad_without_other_clue_gets_english(wa: Harness) -> None:
    await wa.post(payload("image").decode().replace(PERSON, "447700900123").encode())
    assert "I can only read text messages" in wa.graph.texts()


async def test_english_speaker_gets_english_interface_strings(wa: Harness) -> None:
    body = json.loads(payload("text"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = "how do I extend my kitas"
    await wa.post(json.dumps(body).encode())
    lists = [m for m in wa.graph.sent() if m.get("interactive", {}).get("type") == "list"]
    assert all(m["interactive"]["action"]["button"] == "Choose" for m in lists)


# --- outbound errors ---------------------------------------------------------------------


async def test_rate_limit_is_waited_out_and_the_same_message_resent(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(fail_next=[(429, {}), graph_error(130429)])
    harness = await make_harness(tmp_path / "r.sqlite3", clock, graph)
    try:
        await harness.post(payload("template_button"))
        first, second, third = graph.sent()
        assert first == second == third
        assert harness.sleeps == [1.0, 2.0]
    finally:
        await harness.close()


async def test_outside_window_error_is_recorded_not_retried(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(fail_next=[graph_error(131047)])
    harness = await make_harness(tmp_path / "w.sqlite3", clock, graph)
    try:
        await harness.post(payload("template_button"))
        assert len(graph.requests) == 1 and harness.sleeps == []
        assert await whatsapp.last_inbound(harness.app.services.store.db, PERSON) is None
    finally:
        await harness.close()


async def test_failed_status_for_a_closed_window_is_recorded(
    wa: Harness, clock: FixedClock
) -> None:
    await wa.post(payload("image"))
    clock.now = SENT_AT + dt.timedelta(hours=20)
    assert (await wa.post(payload("status_failed"))).status_code == 200
    wa.graph.requests.clear()
    with pytest.raises(OutsideWindow):  # inside the 24 hours, but WhatsApp said it closed
        await wa.channel.sender.send(PERSON, ALERT)
    assert wa.graph.requests == []
    clock.now += dt.timedelta(hours=1)
    again = with_message(payload("image"), id="wamid.again", timestamp=str(clock.now.timestamp()))
    await wa.post(again)  # they write again: the window opens once more
    wa.graph.requests.clear()
    await wa.channel.sender.send(PERSON, ALERT)
    assert [m["type"] for m in wa.graph.sent()] == ["text"]


async def test_a_window_closed_at_the_moment_of_the_last_message_counts_as_closed(
    wa: Harness, clock: FixedClock
) -> None:
    clock.now = SENT_AT  # the refusal is recorded at the same second the message was sent
    await wa.post(payload("image"))
    await wa.post(payload("status_failed"))
    with pytest.raises(OutsideWindow):
        await wa.channel.sender.send(PERSON, ALERT)


async def test_message_ids_are_kept_30_days_then_forgotten(wa: Harness, clock: FixedClock) -> None:
    store = wa.app.services.store

    async def claim(wamid: str) -> bool:
        async with store.transaction() as db:
            return await whatsapp.claim_message(db, wamid, clock.now)

    assert await claim("wamid.a") is True
    assert await claim("wamid.a") is False
    clock.now += dt.timedelta(days=31)
    assert await claim("wamid.b") is True
    assert await claim("wamid.a") is True


async def test_other_graph_errors_are_not_retried(tmp_path: Path, clock: FixedClock) -> None:
    graph = FakeGraphApi(fail_next=[graph_error(131009)])
    harness = await make_harness(tmp_path / "e.sqlite3", clock, graph)
    try:
        await harness.post(payload("text"))
        assert len(graph.requests) == 1 and harness.sleeps == []
    finally:
        await harness.close()


@pytest.mark.parametrize("failure", ["server error", "network"])
async def test_an_answer_that_meets_a_graph_outage_is_resent_from_the_outbox(
    tmp_path: Path, clock: FixedClock, failure: str
) -> None:
    graph = FakeGraphApi(fail_next=[(500, {})] if failure == "server error" else [])  # the edge
    if failure == "network":
        answer = graph.answer

        def unreachable_once(request: httpx.Request) -> httpx.Response:
            if not graph.requests:
                graph.requests.append(request)
                raise httpx.ConnectError("graph.test unreachable", request=request)
            return answer(request)

        graph.answer = unreachable_once  # type: ignore[method-assign]
    harness = await make_harness(tmp_path / "o.sqlite3", clock, graph)
    try:
        await harness.post(payload("text"))
        store = harness.app.services.store
        [row] = await store.db.execute_fetchall("SELECT key, chat_key FROM outbox")
        assert tuple(row) == (f"whatsapp-answer:{TEXT_WAMID}", PERSON)
        [first_try] = graph.sent()
        assert await harness.app.outbox_worker().drain() == 1
        resent = graph.sent()[1:]
        assert resent[0] == first_try and all(m["to"] == PERSON for m in resent)
        assert_topic(graph, "paspor-baru")
    finally:
        await harness.close()


# --- proactive messages ------------------------------------------------------------------

ALERT = [Reply("Nomor antrian **A-025** dipanggil.\n\nSilakan ke loket 2.")]


async def test_proactive_message_inside_the_window_is_free_form(
    wa: Harness, clock: FixedClock
) -> None:
    await wa.post(payload("image"))
    wa.graph.requests.clear()
    clock.now = SENT_AT + dt.timedelta(hours=23)
    await wa.channel.sender.send(PERSON, ALERT)
    [message] = wa.graph.sent()
    assert message["type"] == "text" and "*A-025*" in message["text"]["body"]


async def test_proactive_message_outside_the_window_without_template_is_skipped(
    wa: Harness, clock: FixedClock
) -> None:
    await wa.post(payload("image"))
    wa.graph.requests.clear()
    clock.now = SENT_AT + dt.timedelta(hours=24)  # shut at exactly 24 hours
    with pytest.raises(OutsideWindow):
        await wa.channel.sender.send(PERSON, ALERT)
    with pytest.raises(OutsideWindow):
        await wa.channel.sender.send("6289999999999", ALERT)  # never wrote
    assert wa.graph.requests == []


async def test_proactive_message_outside_the_window_uses_the_alert_template(
    tmp_path: Path, clock: FixedClock
) -> None:
    harness = await make_harness(
        tmp_path / "t.sqlite3", clock, WHATSAPP_ALERT_TEMPLATE="queue_alert"
    )
    try:
        await harness.channel.sender.send(PERSON, ALERT)
        [message] = harness.graph.sent()
        check_limits(message)
        template = message["template"]
        assert template["name"] == "queue_alert" and template["language"] == {"code": "id"}
        [parameter] = template["components"][0]["parameters"]
        assert parameter == {
            "type": "text",
            "text": "Nomor antrian *A-025* dipanggil. Silakan ke loket 2.",
        }
    finally:
        await harness.close()


async def test_window_closed_by_whatsapp_falls_back_to_the_template(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi()
    harness = await make_harness(
        tmp_path / "f.sqlite3", clock, graph, WHATSAPP_ALERT_TEMPLATE="queue_alert"
    )
    try:
        await harness.post(payload("image"))
        graph.requests.clear()
        graph.fail_next.append(graph_error(131047))
        await harness.channel.sender.send(PERSON, ALERT)
        assert [m["type"] for m in graph.sent()] == ["text", "template"]
    finally:
        await harness.close()


async def test_outbox_sends_on_whatsapp_and_records_a_closed_window_as_skipped(
    wa: Harness, clock: FixedClock
) -> None:
    await wa.post(payload("image"))  # PERSON wrote: their window opens
    wa.graph.requests.clear()
    store = wa.app.services.store
    async with store.transaction() as db:
        await enqueue(db, "t:inside", "whatsapp", PERSON, ALERT, clock.now)
        await enqueue(db, "t:never-wrote", "whatsapp", "6289999999999", ALERT, clock.now)
    assert await wa.app.outbox_worker().drain() == 1
    rows = await store.db.execute_fetchall("SELECT key, outcome FROM outbox ORDER BY key")
    assert [tuple(r) for r in rows] == [("t:inside", "sent"), ("t:never-wrote", "skipped")]
    [message] = wa.graph.sent()
    assert message["to"] == PERSON


# --- outbound failures -------------------------------------------------------------------


async def test_rate_limits_are_waited_out_five_times_at_most(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(fail_next=[(429, {})] * 5)
    harness = await make_harness(tmp_path / "x.sqlite3", clock, graph)
    try:
        await harness.post(payload("template_button"))
        assert len(graph.requests) == 5 and harness.sleeps == [1.0, 2.0, 4.0, 8.0]
        # A refusal, not an outage: nothing is queued to be resent.
        assert await harness.app.services.store.db.execute_fetchall("SELECT * FROM outbox") == []
    finally:
        await harness.close()


LOCATION = with_message(
    payload("template_button"), id="wamid.lokasi", button={"payload": "t:lokasi", "text": "Lokasi"}
)


async def test_after_a_partial_failure_only_the_replies_not_yet_sent_are_resent(
    tmp_path: Path, clock: FixedClock, content: Content
) -> None:
    graph = FakeGraphApi(fail_at={2: (503, {})})  # the map link arrives, the topic does not
    harness = await make_harness(tmp_path / "p.sqlite3", clock, graph)
    try:
        await harness.post(LOCATION)
        caption, failed = graph.sent()
        assert caption["text"]["body"].startswith("Lokasi: ")
        store = harness.app.services.store
        [row] = await store.db.execute_fetchall("SELECT replies FROM outbox")
        [rest] = replies_from_json(row[0])
        assert rest.text.startswith(f"**{content.topics['lokasi'].title.id}**\n\n")
        graph.requests.clear()
        assert await harness.app.outbox_worker().drain() == 1
        assert graph.sent()[0] == failed
        assert not any(m["type"] == "text" and m["text"]["body"] == caption["text"]["body"]
                       for m in graph.sent())  # fmt: skip
    finally:
        await harness.close()


async def test_an_answer_queued_after_an_outage_is_dropped_after_an_hour(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(fail_next=[(503, {})])
    harness = await make_harness(tmp_path / "e.sqlite3", clock, graph)
    try:
        await harness.post(payload("text"))
        graph.requests.clear()
        clock.now += dt.timedelta(hours=1)  # the question is stale now
        assert await harness.app.outbox_worker().drain() == 0
        rows = await harness.app.services.store.db.execute_fetchall("SELECT outcome FROM outbox")
        assert [row[0] for row in rows] == ["expired"] and graph.requests == []
    finally:
        await harness.close()


async def test_a_refused_template_is_retried_by_the_outbox_and_then_sent(
    tmp_path: Path, clock: FixedClock
) -> None:
    graph = FakeGraphApi(fail_next=[graph_error(132001)])  # template missing or paused
    harness = await make_harness(
        tmp_path / "r.sqlite3", clock, graph, WHATSAPP_ALERT_TEMPLATE="queue_alert"
    )
    store = harness.app.services.store
    try:
        async with store.transaction() as db:
            await enqueue(db, "t:alert", "whatsapp", PERSON, ALERT, clock.now)
        worker = harness.app.outbox_worker()
        assert await worker.drain() == 0
        rows = await store.db.execute_fetchall("SELECT attempts, last_error, outcome FROM outbox")
        assert [tuple(row) for row in rows] == [(1, "GraphError", None)]
        clock.now += dt.timedelta(seconds=2)  # the first backoff
        assert await worker.drain() == 1
        assert [m["type"] for m in graph.sent()] == ["template", "template"]
    finally:
        await harness.close()


async def test_the_template_speaks_the_persons_chosen_language(
    tmp_path: Path, clock: FixedClock
) -> None:
    harness = await make_harness(
        tmp_path / "l.sqlite3", clock, WHATSAPP_ALERT_TEMPLATE="queue_alert"
    )
    try:
        await harness.post(with_message(payload("text"), text={"body": "/bahasa en"}))
        harness.graph.requests.clear()
        clock.now = SENT_AT + dt.timedelta(hours=25)  # the window has closed
        await harness.channel.sender.send(PERSON, ALERT)
        [message] = harness.graph.sent()
        assert message["template"]["language"] == {"code": "en"}
    finally:
        await harness.close()


async def test_one_persons_messages_are_handled_in_turn_and_others_are_not_held(
    wa: Harness,
) -> None:
    order: list[str] = []
    gate = asyncio.Event()

    async def note(name: str, wait: bool = False, fail: bool = False) -> None:
        if wait:
            await gate.wait()
        order.append(name)
        if fail:
            raise RuntimeError("a handler failed")

    wa.channel._spawn(PERSON, note("first", wait=True, fail=True))
    wa.channel._spawn(PERSON, note("second"))
    wa.channel._spawn("6289999999999", note("other"))
    for _ in range(5):
        await asyncio.sleep(0)
    held = list(order)
    gate.set()
    await wa.channel.drain()  # a failed one does not stop the wait for the rest
    assert held == ["other"]
    assert order == ["other", "first", "second"]
    assert wa.channel._latest == {}  # nothing kept once handled
