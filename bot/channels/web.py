"""The web chat: a dependency-free page at `/` and its JSON API `POST /api/chat`."""

from __future__ import annotations

import base64
import re
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.assistant import Assistant
from bot.channels import Channel, Connectors
from bot.config import Settings
from bot.core import MAX_ACTION_BYTES, Incoming, Reply
from bot.markup import to_plain

CHANNEL = "web"
MAX_TEXT_CHARS = 1000
PNG_DATA_URL = "data:image/png;base64,"
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'"
)
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def reply_json(reply: Reply) -> dict[str, Any]:
    """A Reply as the web API shapes it (DESIGN.md)."""
    data: dict[str, Any] = {
        "text": to_plain(reply.text),
        "options": [{"id": o.id, "label": o.label} for o in reply.options],
    }
    if reply.image is not None:
        data["image"] = PNG_DATA_URL + base64.b64encode(reply.image).decode()
    if reply.location is not None:
        loc = reply.location
        data["location"] = {
            "name": loc.name,
            "address": loc.address,
            "lat": loc.lat,
            "lon": loc.lon,
        }
    return data


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=422)


def parse_chat(body: Any, lang_hint: str | None) -> Incoming | str:
    """The request body as an Incoming, or a one-line message saying what is wrong."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    session = body.get("session")
    if not isinstance(session, str) or not _SESSION.match(session):
        return "session must be 8-64 letters, digits, '-' or '_'"
    text, action = body.get("text"), body.get("action")
    if action is not None:
        if not isinstance(action, str) or not 0 < len(action.encode()) <= MAX_ACTION_BYTES:
            return f"action must be a string of 1-{MAX_ACTION_BYTES} bytes"
        return Incoming(CHANNEL, session, session, action=action, lang_hint=lang_hint)
    if not isinstance(text, str) or not text.strip():
        return "give either text or action"
    if len(text) > MAX_TEXT_CHARS:
        return f"text is longer than {MAX_TEXT_CHARS} characters"
    return Incoming(CHANNEL, session, session, text=text, lang_hint=lang_hint)


def web_routes(assistant: Assistant) -> list[Route]:
    """The chat page and its API."""
    page = (resources.files("bot.channels") / "static" / "chat.html").read_text(encoding="utf-8")

    async def chat_page(request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": _CSP})

    async def chat_api(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("body must be JSON")
        accept = request.headers.get("accept-language", "")
        incoming = parse_chat(body, accept.split(",")[0].strip() or None)
        if isinstance(incoming, str):
            return _bad(incoming)
        answer = await assistant.handle(incoming)
        return JSONResponse({"replies": [reply_json(r) for r in answer.replies]})

    return [Route("/", chat_page), Route("/api/chat", chat_api, methods=["POST"])]


class WebChannel(Channel):
    """The web chat: answers on its page only, so it offers no sender."""

    name = CHANNEL

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def routes(self) -> list[BaseRoute]:
        return list(web_routes(self.assistant))


def from_settings(settings: Settings, assistant: Assistant, connectors: Connectors) -> WebChannel:
    """Always on: the page needs no settings."""
    return WebChannel(assistant)
