"""The web chat API and health endpoint through the real Starlette app (httpx ASGI transport)."""

from __future__ import annotations

import json
import re
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
    client, app = web
    await app.start()
    response = await client.get("/healthz")
    topics = len(list((CONTENT_DIR / "topics").glob("*.yaml")))
    body = response.json()
    assert response.status_code == 200 and body.pop("disk")["state"] == "ok"
    assert body == {
        "status": "ok",
        "content": {"topics": topics},
        "database": "ok",
        "channels": {"web": "up"},
    }


async def test_healthz_is_degraded_with_503_when_the_database_fails(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, app = web
    await app.services.store.close()  # every database call now fails
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded" and response.json()["database"] == "error"


async def test_chat_page_runs_under_a_csp_without_inline_code(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp
    page = response.text
    scripts = re.findall(r"<script([^>]*)>", page)
    # Only the external script and the JSON data block, which browsers never execute.
    assert sorted(scripts) == [
        ' src="/static/chat.js" defer',
        ' type="application/json" id="ukk-config"',
    ]
    assert "<style" not in page and " style=" not in page and " on" not in page.split("<body>")[1]
    assert "__" not in page and "$" not in page  # every placeholder filled


async def test_page_files_are_served_and_unknown_ones_are_not(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    for path, media in [
        ("/static/chat.js", "text/javascript"),
        ("/static/chat.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/favicon.ico", "image/svg+xml"),
        ("/embed.js", "text/javascript"),
    ]:
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert (await client.get("/static/chat.html")).status_code == 404
    script = (await client.get("/static/chat.js")).text
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script


async def test_page_chrome_follows_the_browser_language(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    english = await client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and ">Send</button>" in english.text
    indonesian = await client.get("/?lang=id", headers={"accept-language": "en"})
    assert '<html lang="id">' in indonesian.text and ">Kirim</button>" in indonesian.text
    config = re.search(r'id="ukk-config">(.*?)</script>', english.text)
    assert config is not None
    ui = json.loads(config.group(1))["ui"]
    assert ui["en"]["placeholder"] != ui["id"]["placeholder"]
    assert "{max}" in ui["en"]["too_long"]  # filled in by the page


async def test_embed_script_carries_both_languages(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    script = (await client.get("/embed.js")).text
    assert '"__UI__"' not in script
    assert "Tanya Imigrasi" in script and "Ask Immigration" in script


async def test_replies_carry_their_language(web: tuple[httpx.AsyncClient, App]) -> None:
    client, _ = web
    start = await client.post("/api/chat", json={"session": SESSION, "text": "/start"})
    assert start.json()["lang"] == "id"
    typed = await client.post(
        "/api/chat", json={"session": SESSION, "text": "how much does a new passport cost"}
    )
    assert typed.json()["lang"] == "en"
    chosen = await client.post("/api/chat", json={"session": SESSION, "action": "lang:en"})
    assert chosen.json()["lang"] == "en"
    hinted = await client.post(
        "/api/chat", json={"session": "other-session", "text": "/menu", "lang": "en"}
    )
    assert hinted.json()["lang"] == "en"
    assert hinted.json()["replies"][0]["text"] == "Main menu. Please choose:"


async def test_replies_come_as_blocks_and_labelled_option_groups(
    web: tuple[httpx.AsyncClient, App],
) -> None:
    client, _ = web
    response = await client.post("/api/chat", json={"session": SESSION, "action": "t:kontak"})
    [reply] = response.json()["replies"]
    assert reply["blocks"][0] == {
        "kind": "p",
        "items": [[{"text": "Kontak UKK dan Kantor Imigrasi Malang", "bold": True}]],
    }
    runs = [run for block in reply["blocks"] for item in block["items"] for run in item]
    assert any(run.get("href", "").startswith("tel:+62") for run in runs)
    groups = reply["groups"]
    assert [g["kind"] for g in groups] == ["choices", "feedback", "nav"]
    assert groups[1]["label"] == "Apakah jawaban ini membantu?"
    assert [o["id"] for o in groups[2]["options"]] == ["c:kantor", "m"]
    assert [o for g in groups for o in g["options"]] == reply["options"]


async def test_one_vote_per_answer_and_session(web: tuple[httpx.AsyncClient, App]) -> None:
    client, app = web
    for action in ("f:+:paspor-baru", "f:+:paspor-baru", "f:-:paspor-baru"):
        last = await client.post("/api/chat", json={"session": SESSION, "action": action})
    assert last.json()["replies"][0]["text"] == "Anda sudah menilai jawaban ini. Terima kasih!"
    await client.post("/api/chat", json={"session": "other-session", "action": "f:-:paspor-baru"})
    await client.post("/api/chat", json={"session": SESSION, "action": "f:+:paspor-anak"})
    await app.services.bookkeeping.flush()  # votes are written behind
    rows = await app.services.store.db.execute_fetchall("SELECT topic, up, down FROM topic_stats")
    votes = {row["topic"]: (row["up"], row["down"]) for row in rows}
    assert votes == {"paspor-baru": (1, 1), "paspor-anak": (1, 0)}


async def test_cors_only_for_allowed_origins(tmp_path: Path, clock: FixedClock) -> None:
    settings = load_settings(
        DATABASE_PATH=tmp_path / "w.sqlite3",
        CONTENT_DIR=CONTENT_DIR,
        ALLOWED_ORIGINS="https://mpp.example.go.id",
    )
    app = await build_app(settings, clock=clock, understanding=ENGINE)
    transport = httpx.ASGITransport(app=build_http(app))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            page = await client.get("/")
            assert page.headers["content-security-policy"].endswith(
                "frame-ancestors 'self' https://mpp.example.go.id"
            )
            body = {"session": SESSION, "text": "/start"}
            allowed = {"origin": "https://mpp.example.go.id"}
            other = {"origin": "https://evil.example"}
            ok = await client.post("/api/chat", json=body, headers=allowed)
            assert ok.headers["access-control-allow-origin"] == "https://mpp.example.go.id"
            refused = await client.post("/api/chat", json=body, headers=other)
            assert "access-control-allow-origin" not in refused.headers
            preflight = await client.options("/api/chat", headers=allowed)
            assert preflight.status_code == 204
            assert preflight.headers["access-control-allow-methods"] == "POST"
            assert (await client.options("/api/chat", headers=other)).status_code == 403
    finally:
        await app.close()
