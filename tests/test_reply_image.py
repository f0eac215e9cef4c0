"""A Reply may carry a PNG: every renderer shows it its own way and none breaks."""

from __future__ import annotations

import base64

from bot.channels import console
from bot.channels.web import reply_json
from bot.channels.whatsapp import Labels, render
from bot.content import Content
from bot.core import Option, Reply
from bot.store.outbox import replies_from_json, replies_to_json

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
CHART = Reply("Figures", (Option("m", "Menu"),), image=PNG)


def test_console_names_the_chart_and_its_size() -> None:
    text, _ = console.render([CHART])
    assert text.startswith(f"[chart: {len(PNG)} bytes]\nFigures")


def test_web_chat_gets_a_png_data_url(content: Content) -> None:
    data = reply_json(CHART, content, "id")
    assert data["image"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert "image" not in reply_json(Reply("plain"), content, "id")


def test_whatsapp_sends_the_text_only(content: Content) -> None:
    [message] = render(CHART, Labels.of(content, "id"))
    assert message["type"] == "interactive" and "image" not in message


def test_an_image_survives_the_outbox() -> None:
    assert replies_from_json(replies_to_json([CHART])) == [CHART]
