"""`GET /metrics`: the Prometheus text format, read back with the client library's own parser;
each figure moves when the thing it counts happens."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, build_app, build_http
from bot.config import load_settings
from bot.outbox import OutboxWorker
from bot.store import announcements
from bot.store.announcements import Draft
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock
from tests.test_broadcast import RecordingSender

TOKEN = "queue-token"


@pytest.fixture
async def web(tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[httpx.AsyncClient, App]]:
    settings = load_settings(
        DATABASE_PATH=tmp_path / "m.sqlite3", CONTENT_DIR=CONTENT_DIR, QUEUE_API_TOKEN=TOKEN
    )
    app = await build_app(settings, clock=clock, understanding=ENGINE)
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, app
    await app.close()


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_broadcast_shows_as_outbox_depth_then_as_sends_and_progress(
    web: tuple[httpx.AsyncClient, App], clock: FixedClock
) -> None:
    client, app = web
    store = app.services.store
    async with store.transaction() as db:
        for chat in ("1", "2", "3"):
            await announcements.subscribe(db, "telegram", chat, "id", clock())
        draft = Draft("confirm", "Libur")
        number = await announcements.add_announcement(db, draft, "telegram", "9", "9", clock())
        announcement = await announcements.get_announcement(db, number)
        assert announcement is not None
        await announcements.enqueue_broadcast(
            db, announcement, {"id": "[]", "en": "[]"}, frozenset({"telegram"}), clock()
        )
    before = await scrape(client)
    assert value(before, "ukkbot_outbox_pending", priority="bulk", family="ann") == 3
    progress = {"announcement": str(number), "outcome": "pending"}
    assert value(before, "ukkbot_broadcast_messages", **progress) == 3

    await OutboxWorker(store, {"telegram": RecordingSender()}).drain()
    after = await scrape(client)
    assert value(after, "ukkbot_outbox_pending", priority="bulk", family="ann") == 0
    assert value(after, "ukkbot_broadcast_messages", **{**progress, "outcome": "sent"}) == 3
    sent = {"channel": "telegram", "result": "sent"}
    assert (
        value(after, "ukkbot_outbox_sends_total", **sent)
        - value(before, "ukkbot_outbox_sends_total", **sent)
        == 3
    )


async def test_a_call_from_the_queue_machine_is_counted(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    before = await scrape(client)
    response = await client.post(
        "/api/queue/A", json={"now_serving": 5}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    after = await scrape(client)
    calls = [
        value(after, "ukkbot_queue_calls_total", service="A", kind=kind)
        - value(before, "ukkbot_queue_calls_total", service="A", kind=kind)
        for kind in ("call", "set")
    ]
    assert sum(calls) == 1


async def test_a_refused_write_is_counted_as_a_database_error(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, app = web
    before = value(await scrape(client), "ukkbot_db_write_errors_total")
    with pytest.raises(sqlite3.IntegrityError):
        async with app.services.store.transaction() as db:
            await db.execute(
                "INSERT INTO users (channel, user_key, language, first_seen, last_seen) "
                "VALUES ('web', 'x', 'fr', '', '')"
            )
    assert value(await scrape(client), "ukkbot_db_write_errors_total") == before + 1


async def test_a_message_is_counted_by_channel_and_route_and_timed(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    before = await scrape(client)
    for body in ({"text": "/menu"}, {"text": "berapa biaya paspor"}, {"action": "m"}):
        await client.post("/api/chat", json={"session": "metrics-session", **body})
    after = await scrape(client)
    for route in ("command", "free_text", "action"):
        name, labels = "ukkbot_messages_total", {"channel": "web", "route": route}
        assert value(after, name, **labels) - value(before, name, **labels) == 1
    timed = "ukkbot_answer_seconds_count"
    assert value(after, timed, channel="web") - value(before, timed, channel="web") == 3
