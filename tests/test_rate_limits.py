"""Web-chat rate limits: per session and per address, for messages, votes and commands, with a
polite reply in the person's language; the clock is a counter the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import App, build_app, build_http
from bot.channels.web import WebChannel
from bot.config import load_settings
from bot.ratelimit import RATES, Buckets, ChatLimiter, Rate
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def web(
    tmp_path: Path, clock: FixedClock
) -> AsyncIterator[tuple[httpx.AsyncClient, App, Seconds]]:
    settings = load_settings(DATABASE_PATH=tmp_path / "r.sqlite3", CONTENT_DIR=CONTENT_DIR)
    app = await build_app(settings, clock=clock, understanding=ENGINE)
    seconds = Seconds()
    web = app.channel("web")
    assert isinstance(web, WebChannel)
    web.chat.limiter = ChatLimiter(seconds)
    transport = httpx.ASGITransport(app=build_http(app), client=("203.0.113.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, app, seconds
    await app.close()


async def post(client: httpx.AsyncClient, session: str, **body: str) -> httpx.Response:
    return await client.post("/api/chat", json={"session": session, **body})


async def test_a_session_voting_too_fast_is_told_to_slow_down_and_not_counted(
    web: tuple[httpx.AsyncClient, App, Seconds],
) -> None:
    client, app, _ = web
    burst = RATES["vote"][0].burst
    answers = [await post(client, "voter-session", action="f:-:paspor-baru") for _ in range(30)]
    assert [a.status_code for a in answers] == [200] * burst + [429] * (30 - burst)
    refused = answers[-1]
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["replies"][0]["text"].startswith("Pesan Anda datang terlalu cepat")
    await app.services.bookkeeping.flush()  # votes are written behind
    rows = await app.services.store.db.execute_fetchall("SELECT sum(down) FROM topic_stats")
    assert next(iter(rows))[0] <= burst


async def test_the_slow_down_reply_follows_the_sessions_language(
    web: tuple[httpx.AsyncClient, App, Seconds],
) -> None:
    client, _, _ = web
    await post(client, "english-session", action="lang:en")
    for _ in range(RATES["command"][0].burst):
        await post(client, "english-session", text="/menu")
    refused = await post(client, "english-session", text="/menu")
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Your messages are coming in too fast")


async def test_waiting_lets_the_session_in_again(
    web: tuple[httpx.AsyncClient, App, Seconds],
) -> None:
    client, _, seconds = web
    for _ in range(RATES["message"][0].burst):
        await post(client, "patient-session", text="halo")
    assert (await post(client, "patient-session", text="halo")).status_code == 429
    seconds.now += 1 / RATES["message"][0].per_second
    assert (await post(client, "patient-session", text="halo")).status_code == 200


async def test_kinds_are_counted_apart(web: tuple[httpx.AsyncClient, App, Seconds]) -> None:
    client, _, _ = web
    for _ in range(RATES["command"][0].burst):
        await post(client, "busy-session", text="/menu")
    assert (await post(client, "busy-session", text="/menu")).status_code == 429
    assert (await post(client, "busy-session", text="jam buka")).status_code == 200


async def test_new_sessions_from_one_address_are_bounded_too(
    web: tuple[httpx.AsyncClient, App, Seconds],
) -> None:
    client, _, _ = web
    per_address = RATES["vote"][1].burst
    codes = [
        (await post(client, f"fresh-session-{i:04}", action="f:+:paspor-baru")).status_code
        for i in range(per_address + 1)
    ]
    assert codes == [200] * per_address + [429]


def test_buckets_forget_the_least_recently_used_key_past_their_bound() -> None:
    seconds = Seconds()
    buckets = Buckets(Rate(1, 0.001), seconds, max_keys=2)
    for key in ("a", "b", "c"):
        buckets.take(key)
    assert buckets.wait("b") > 0 and buckets.wait("c") > 0
    assert buckets.wait("a") == 0  # forgotten: it starts with a full bucket again
