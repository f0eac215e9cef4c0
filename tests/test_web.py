"""The web chat API and health endpoint through the real Starlette app (httpx ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import App, build_app, build_http
from bot.config import load_settings
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock

SESSION = "test-session-1"


@pytest.fixture
async def web(tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[httpx.AsyncClient, App]]:
    settings = load_settings(DATABASE_PATH=tmp_path / "w.sqlite3", CONTENT_DIR=CONTENT_DIR)
    app = await build_app(settings, clock=clock, understanding=ENGINE)
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, app
    await app.close()


async def test_chat_round_trip_returns_text_and_options(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    response = await client.post("/api/chat", json={"session": SESSION, "text": "/start"})
    assert response.status_code == 200
    [reply] = response.json()["replies"]
    assert "UKK Kota Probolinggo" in reply["text"] and "**" not in reply["text"]
    assert reply["options"][0] == {"id": "c:paspor", "label": "Paspor (WNI)"}


async def test_action_and_session_language(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    await client.post("/api/chat", json={"session": SESSION, "action": "lang:en"})
    response = await client.post("/api/chat", json={"session": SESSION, "text": "/menu"})
    assert response.json()["replies"][0]["text"] == "Main menu. Please choose:"
    other = await client.post("/api/chat", json={"session": "another-session", "text": "/menu"})
    assert other.json()["replies"][0]["text"] == "Menu utama. Silakan pilih:"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"session": "x", "text": "hi"}, "session must be"),
        ({"session": SESSION}, "give either text or action"),
        ({"session": SESSION, "text": "a" * 1001}, "longer than 1000"),
        ({"session": SESSION, "action": "x" * 65}, "action must be"),
        ([1, 2], "JSON object"),
    ],
)
async def test_bad_bodies_get_a_clear_422(
    web: tuple[httpx.AsyncClient, App], body: object, message: str
) -> None:
    client, _ = web
    response = await client.post("/api/chat", json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]


async def test_invalid_json_is_refused(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    response = await client.post(
        "/api/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_healthz_reports_content_and_database(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    response = await client.get("/healthz")
    topics = len(list((CONTENT_DIR / "topics").glob("*.yaml")))
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "content": {"topics": topics}, "database": "ok"},
    )


async def test_healthz_is_degraded_with_503_when_the_database_fails(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, app = web
    await app.services.store.close()  # every database call now fails
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded" and response.json()["database"] == "error"


async def test_chat_page_is_served(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    response = await client.get("/")
    assert response.status_code == 200 and "/api/chat" in response.text
    assert ".innerHTML" not in response.text  # replies are inserted as text nodes only
