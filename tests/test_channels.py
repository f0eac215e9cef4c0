"""A new channel is its own class plus one line of wiring (docs/architecture.md): a made-up
pager platform, added the documented way, gets its routes served, is started and stopped, and
receives reminders through the outbox like Telegram and WhatsApp do."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import CHANNELS, build_app, build_http
from bot.assistant import Assistant
from bot.channels import Channel, Connectors
from bot.config import Settings, load_settings
from bot.core import Incoming, Reply
from bot.markup import to_plain
from bot.queue.state import CallNext
from bot.queue_desk import Actor
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock


class PagerChannel(Channel):
    """POST /pager/<user> with a line of text, answered in plain text; it can page people."""

    name = "pager"

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.events: list[str] = []
        self.paged: list[tuple[str, list[Reply]]] = []

    def routes(self) -> list[BaseRoute]:
        async def receive(request: Request) -> Response:
            user = request.path_params["user"]
            text = (await request.body()).decode()
            answer = await self.assistant.handle(Incoming(self.name, user, user, text=text))
            return PlainTextResponse("\n\n".join(to_plain(r.text) for r in answer.replies))

        return [Route("/pager/{user}", receive, methods=["POST"])]

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    @property
    def sender(self) -> PagerChannel:
        return self

    async def send(self, chat_key: str, replies: list[Reply]) -> None:
        self.paged.append((chat_key, replies))


def pager(settings: Settings, assistant: Assistant, connectors: Connectors) -> PagerChannel:
    return PagerChannel(assistant)


async def test_a_channel_added_with_one_line_is_served_started_and_sent_reminders(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = load_settings(DATABASE_PATH=tmp_path / "p.sqlite3", CONTENT_DIR=CONTENT_DIR)
    app = await build_app(settings, clock=clock, understanding=ENGINE, channels=(*CHANNELS, pager))
    channel = app.channel("pager")
    assert isinstance(channel, PagerChannel)
    await app.start()
    transport = httpx.ASGITransport(app=build_http(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/pager/7", content="/ingatkan A-004")
        web = await client.post("/api/chat", json={"session": "web-session", "text": "/menu"})
    # Reminders are offered because the pager has a sender; the other channels still serve.
    assert answer.status_code == 200 and "A-004" in answer.text and "/batal" in answer.text
    assert web.status_code == 200
    await app.services.queue_desk().change("A", CallNext(), Actor("api", "machine"), "call")
    assert await app.outbox_worker().drain() == 1
    [(chat_key, [reminder])] = channel.paged
    assert chat_key == "7" and "A-004" in reminder.text and "A-001" in reminder.text
    await app.close()
    assert channel.events == ["start", "stop"]
