"""The web chat: the page at `/` with its script, style and icon under `/static/`, the embed
snippet `/embed.js`, and the JSON API `POST /api/chat`.

The page runs under a CSP without 'unsafe-inline'. The conversation's history lives in the
browser's sessionStorage (the tab's lifetime); the server keeps only what every channel keeps
(the language choice) and, in memory, which answers a session has rated.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import actions
from bot.assistant import Assistant
from bot.channels import Channel, Connectors
from bot.channels.webmarkup import Block, to_blocks
from bot.config import Settings
from bot.content import Content
from bot.core import LANGS, MAX_ACTION_BYTES, Incoming, Lang, Option, Reply, lang_from_hint
from bot.guard import BadJson, read_json
from bot.markup import to_plain
from bot.ratelimit import ChatLimiter, Kind

CHANNEL = "web"
MAX_TEXT_CHARS = 1000
PNG_DATA_URL = "data:image/png;base64,"
# Sessions whose votes are remembered; the oldest is forgotten first. ~100 bytes each.
MAX_VOTING_SESSIONS = 10_000
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_FIELDS = frozenset({"session", "text", "action", "lang"})
# The page's chrome strings (content/ui.yaml), handed to the page and to the embed script.
_PAGE_KEYS = (
    "title", "log_label", "input_label", "placeholder", "send", "typing", "failed", "retry",
    "too_long", "you", "assistant", "chart", "close",
)  # fmt: skip
_EMBED_KEYS = ("open", "close", "title")
JAVASCRIPT = "text/javascript; charset=utf-8"
_STATIC = {
    "chat.js": JAVASCRIPT,
    "chat.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _static(name: str) -> str:
    return (resources.files("bot.channels") / "static" / name).read_text(encoding="utf-8")


def option_groups(options: Sequence[Option]) -> list[tuple[str, list[Option]]]:
    """Options as the page groups them: choices (topics, categories, languages), then 👍/👎,
    then navigation (Menu, and whatever follows the feedback buttons, such as Back)."""
    groups: list[tuple[str, list[Option]]] = []
    after_feedback = False
    for option in options:
        prefix = option.id.partition(":")[0]
        if prefix == actions.FEEDBACK:
            kind, after_feedback = "feedback", True
        elif prefix == actions.MENU or after_feedback:
            kind = "nav"
        else:
            kind = "choices"
        if groups and groups[-1][0] == kind:
            groups[-1][1].append(option)
        else:
            groups.append((kind, [option]))
    return groups


@functools.lru_cache(maxsize=512)
def _rendered(text: str) -> tuple[str, list[Block]]:
    """A reply text as plain text and as blocks. Topic answers come back all day and their
    markup costs more than the rest of a web reply; the blocks are only ever serialised."""
    return to_plain(text), to_blocks(text)


def reply_json(reply: Reply, content: Content, lang: Lang) -> dict[str, Any]:
    """A Reply as the web API shapes it: DESIGN.md's text and options, plus the markup as
    blocks and the options in labelled groups for the page."""
    plain, blocks = _rendered(reply.text)
    data: dict[str, Any] = {
        "text": plain,
        "blocks": blocks,
        "options": [{"id": o.id, "label": o.label} for o in reply.options],
        "groups": [
            {
                "kind": kind,
                "label": content.t(f"web.group.{kind}", lang),
                "options": [{"id": o.id, "label": o.label} for o in options],
            }
            for kind, options in option_groups(reply.options)
        ],
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
    """The request body as an Incoming, or a one-line message saying what is wrong. The page
    sends its interface language as `lang`; it wins over the browser's Accept-Language."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}"
    session = body.get("session")
    if not isinstance(session, str) or not _SESSION.match(session):
        return "session must be 8-64 letters, digits, '-' or '_'"
    if body.get("lang") in LANGS:
        lang_hint = body["lang"]
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


def kind_of(incoming: Incoming) -> Kind:
    """Which rate limit an act counts against."""
    if incoming.action is not None:
        return "vote" if incoming.action.startswith(f"{actions.FEEDBACK}:") else "message"
    return "command" if (incoming.text or "").lstrip().startswith("/") else "message"


class WebChat:
    """The page, its files and its API, for one assistant."""

    def __init__(self, assistant: Assistant, allowed_origins: Sequence[str] = ()) -> None:
        self.assistant = assistant
        self.content = assistant.services.content
        self.allowed_origins = frozenset(allowed_origins)
        self.limiter = ChatLimiter()  # tests put one with their own clock in its place
        self._pages = {lang: self._page(lang) for lang in LANGS}
        embed_ui = {lang: self._strings(lang, _EMBED_KEYS) for lang in LANGS}
        self._embed = _static("embed.js").replace('"__UI__"', json.dumps(embed_ui))
        self._files = {name: _static(name) for name in _STATIC}
        # session -> topics it voted on; an in-memory LRU so that a flood of sessions stays small.
        self._votes: OrderedDict[str, set[str]] = OrderedDict()

    def _strings(self, lang: Lang, keys: Sequence[str]) -> dict[str, str]:
        values = {"count": "{count}", "max": "{max}"}  # the page fills these
        return {key: self.content.t(f"web.{key}", lang, **values) for key in keys}

    def _page(self, lang: Lang) -> str:
        ui = {other: self._strings(other, _PAGE_KEYS) for other in LANGS}
        config = {"lang": lang, "maxChars": MAX_TEXT_CHARS, "ui": ui}
        # A JSON data block is never executed; "<" escaped so no text can close the element.
        data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
        return Template(_static("chat.html")).substitute(
            {key: html.escape(value) for key, value in ui[lang].items()}, lang=lang, config=data
        )

    def routes(self) -> list[Route]:
        return [
            Route("/", self.chat_page),
            Route("/static/{name}", self.static_file),
            Route("/favicon.ico", self.static_file),
            Route("/embed.js", self.embed_script),
            Route("/api/chat", self.chat_api, methods=["POST", "OPTIONS"]),
        ]

    async def chat_page(self, request: Request) -> Response:
        """The page in the browser's language (the page switches when the chat does)."""
        hint = request.query_params.get("lang") or request.headers.get("accept-language")
        # Its Content-Security-Policy (and frame-ancestors) comes from bot.guard, like every header.
        return HTMLResponse(self._pages[lang_from_hint(hint)])

    async def static_file(self, request: Request) -> Response:
        name = request.path_params.get("name", "favicon.svg")
        if name not in _STATIC:
            return Response(status_code=404)
        return Response(
            self._files[name], media_type=_STATIC[name], headers={"Cache-Control": "no-cache"}
        )

    async def embed_script(self, request: Request) -> Response:
        """The snippet other sites load: a launcher button that opens the page in a frame."""
        return Response(self._embed, media_type=JAVASCRIPT, headers={"Cache-Control": "no-cache"})

    def _cors(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin", "")
        if origin not in self.allowed_origins:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def chat_api(self, request: Request) -> Response:
        cors = self._cors(request)
        if request.method == "OPTIONS":
            if cors:
                cors |= {
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                }
            return Response(status_code=204 if cors else 403, headers=cors)
        try:
            body = await read_json(request)
        except BadJson as error:
            return _bad(str(error))
        accept = request.headers.get("accept-language", "")
        incoming = parse_chat(body, accept.split(",")[0].strip() or None)
        if isinstance(incoming, str):
            return _bad(incoming)
        address = request.client.host if request.client else ""
        wait = self.limiter.check(kind_of(incoming), incoming.user_key, address)
        if wait:
            return await self._slow_down(incoming, wait, cors)
        if self._voted_before(incoming):
            lang = await self.assistant.language(incoming)
            replies = [Reply(self.content.t("web.voted", lang))]
        else:
            answer = await self.assistant.handle(incoming)
            lang, replies = answer.lang, answer.replies
        body = {"lang": lang, "replies": [reply_json(r, self.content, lang) for r in replies]}
        return JSONResponse(body, headers=cors)

    async def _slow_down(self, incoming: Incoming, wait: float, cors: dict[str, str]) -> Response:
        """429 with a polite reply in the session's language, shown like any other."""
        lang = await self.assistant.language(incoming)
        text = self.content.t("slow_down", lang)
        body = {
            "lang": lang,
            "error": text,
            "replies": [reply_json(Reply(text), self.content, lang)],
        }
        headers = {**cors, "Retry-After": str(math.ceil(wait))}
        return JSONResponse(body, status_code=429, headers=headers)

    def _voted_before(self, incoming: Incoming) -> bool:
        """One 👍/👎 per answer and session. Noted before the vote is counted, so two clicks
        racing each other count once."""
        prefix, _, arg = (incoming.action or "").partition(":")
        if prefix != actions.FEEDBACK:
            return False
        topic = arg.partition(":")[2]
        voted = self._votes.setdefault(incoming.user_key, set())
        self._votes.move_to_end(incoming.user_key)
        if len(self._votes) > MAX_VOTING_SESSIONS:
            self._votes.popitem(last=False)
        if topic in voted:
            return True
        voted.add(topic)
        return False


class WebChannel(Channel):
    """The web chat: answers on its page only, so it offers no sender."""

    name = CHANNEL

    def __init__(self, assistant: Assistant, allowed_origins: Sequence[str] = ()) -> None:
        self.chat = WebChat(assistant, allowed_origins)

    def routes(self) -> list[BaseRoute]:
        return list(self.chat.routes())


def from_settings(settings: Settings, assistant: Assistant, connectors: Connectors) -> WebChannel:
    """Always on; ALLOWED_ORIGINS lets other sites embed the page and call its API."""
    return WebChannel(assistant, settings.ALLOWED_ORIGINS)
