"""The queue HTTP API through the real Starlette app: token, bodies, idempotence, the board."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import App, build_app, build_http
from bot.config import load_settings
from bot.content import Content
from bot.queue.state import MAX_NUMBER, QueueState, Report
from bot.queue_api import parse_report, view_json
from bot.queue_desk import ServiceView
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock

TOKEN = "machine-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def client_for(
    tmp_path: Path, clock: FixedClock, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, App]]:
    config = load_settings(
        DATABASE_PATH=tmp_path / "q.sqlite3", CONTENT_DIR=CONTENT_DIR, **settings
    )
    app = await build_app(config, clock=clock, understanding=ENGINE)
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, app
    await app.close()


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async for client, _ in client_for(tmp_path, clock, QUEUE_API_TOKEN=TOKEN):
        yield client


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]
)
async def test_ingest_needs_the_right_bearer_token(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await api.post("/api/queue/A", json={"now_serving": 3}, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert (await api.get("/api/queue")).json()["services"][0]["now_serving"] == 0


async def test_without_a_token_configured_ingest_is_off(tmp_path: Path, clock: FixedClock) -> None:
    async for client, _ in client_for(tmp_path, clock):
        response = await client.post("/api/queue/A", json={"now_serving": 3}, headers=AUTH)
        assert response.status_code == 404 and "disabled" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/queue/Z", {"now_serving": 1}, "unknown service 'Z'"),
        ("/api/queue/A", [1], "JSON object"),
        ("/api/queue/A", {}, "now_serving is required"),
        ("/api/queue/A", {"now_serving": -1}, "now_serving must be a whole number"),
        ("/api/queue/A", {"now_serving": "5"}, "now_serving must be a whole number"),
        ("/api/queue/A", {"now_serving": True}, "now_serving must be a whole number"),
        ("/api/queue/A", {"now_serving": 5, "last_issued": 2.5}, "last_issued must be"),
        ("/api/queue/A", {"now_serving": 5, "status": "busy"}, "status must be one of"),
        ("/api/queue/A", {"now_serving": 5, "colour": "red"}, "unknown field(s): colour"),
    ],
)
async def test_bad_bodies_and_unknown_services_get_a_clear_422(
    api: httpx.AsyncClient, path: str, body: object, message: str
) -> None:
    response = await api.post(path, json=body, headers=AUTH)
    assert response.status_code == 422
    assert message in response.json()["error"]


async def test_a_report_updates_the_board_and_repeating_it_changes_nothing(
    api: httpx.AsyncClient,
) -> None:
    body = {"now_serving": 12, "last_issued": 30, "status": "open"}
    first = await api.post("/api/queue/a", json=body, headers=AUTH)
    assert first.status_code == 200
    assert first.json() == {
        "service": "A",
        "name": {"id": "Paspor (WNI)", "en": "Passports (citizens)"},
        "started": True,
        "status": "open",
        "reason": None,
        "now_serving": 12,
        "last_issued": 30,
        "waiting": 18,
        "minutes_per_number": 6.0,  # the configured pace: nothing measured yet
    }
    again = await api.post("/api/queue/A", json=body, headers=AUTH)
    assert again.json() == first.json()
    board = (await api.get("/api/queue")).json()
    assert board["day"] == "2026-11-30"
    [service_a] = [s for s in board["services"] if s["service"] == "A"]
    assert service_a == first.json()


async def test_a_report_cannot_move_the_number_backwards(api: httpx.AsyncClient) -> None:
    await api.post("/api/queue/A", json={"now_serving": 12}, headers=AUTH)
    response = await api.post("/api/queue/A", json={"now_serving": 11}, headers=AUTH)
    assert response.status_code == 409 and "cannot go backwards" in response.json()["error"]


async def test_repeated_posts_record_one_call_and_one_audit_row(
    tmp_path: Path, clock: FixedClock
) -> None:
    async for client, app in client_for(tmp_path, clock, QUEUE_API_TOKEN=TOKEN):
        for _ in range(3):
            await client.post("/api/queue/B", json={"now_serving": 4}, headers=AUTH)
        db = app.services.store.db
        for table in ("queue_calls", "audit"):
            async with db.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
                assert (await cursor.fetchone())[0] == 1


def test_the_pace_is_given_to_a_tenth_of_a_minute(content: Content) -> None:
    service = content.queue.services[0]
    view = ServiceView(service, QueueState(service.letter), False, 4.26)
    assert view_json(view)["minutes_per_number"] == 4.3


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        ({"now_serving": 0}, Report(0)),
        (
            {"now_serving": 12, "last_issued": MAX_NUMBER, "status": "paused"},
            Report(12, MAX_NUMBER, "paused"),
        ),
        ([], "body must be a JSON object"),
        (
            {"now_serving": 1, "b": 1, "a": 2},
            "unknown field(s): a, b; allowed: now_serving, last_issued, status",
        ),
        ({"last_issued": 3}, "now_serving is required"),
        ({"now_serving": -1}, f"now_serving must be a whole number from 0 to {MAX_NUMBER}"),
        ({"now_serving": 1, "status": "gone"}, "status must be one of open, paused, closed"),
    ],
)
def test_a_report_body_is_read_or_refused_with_one_exact_line(body: Any, parsed: object) -> None:
    assert parse_report(body) == parsed
