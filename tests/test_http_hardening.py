"""Every HTTP endpoint, with every channel configured and valid credentials, answers bad input
with a 4xx and never a 500: known bad bodies, body limits, security headers, and a fuzz test
(hypothesis, fixed budget) of JSON and bytes, random or grown from valid bodies."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import guard
from bot.app import App, build_app, build_http
from bot.channels import Connectors
from bot.channels.telegram import SECRET_HEADER
from bot.channels.web import WebChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import load_settings
from bot.ratelimit import ChatLimiter
from tests.conftest import CONTENT_DIR, ENGINE, FixedClock
from tests.fake_telegram import FakeBotApi, text_update
from tests.fake_whatsapp import FakeGraphApi, payload, signature

TELEGRAM_SECRET = "tg-secret"
WHATSAPP_SECRET = "wa-secret"
QUEUE_TOKEN = "queue-token"
SESSION = "fuzz-session-1"


@dataclass(repr=False)  # hypothesis prints its arguments: keep the app's repr out of it
class Server:
    app: App
    client: httpx.AsyncClient

    async def chat(self, body: bytes) -> httpx.Response:
        return await self.client.post("/api/chat", content=body)

    async def telegram(self, body: bytes) -> httpx.Response:
        return await self.client.post(
            "/webhooks/telegram", content=body, headers={SECRET_HEADER: TELEGRAM_SECRET}
        )

    async def whatsapp(self, body: bytes) -> httpx.Response:
        headers = {"X-Hub-Signature-256": signature(body, WHATSAPP_SECRET)}
        response = await self.client.post("/webhooks/whatsapp", content=body, headers=headers)
        whatsapp = self.app.channel("whatsapp")
        assert isinstance(whatsapp, WhatsAppChannel)
        await whatsapp.drain()  # its processing must not fail either
        return response

    async def queue(self, body: bytes, service: str = "A") -> httpx.Response:
        headers = {"Authorization": f"Bearer {QUEUE_TOKEN}"}
        path = quote(service.encode("utf-8", "surrogatepass"), safe="")
        return await self.client.post(f"/api/queue/{path}", content=body, headers=headers)


@pytest.fixture
async def server(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Server]:
    settings = load_settings(
        DATABASE_PATH=tmp_path / "h.sqlite3",
        CONTENT_DIR=CONTENT_DIR,
        TELEGRAM_BOT_TOKEN="123:ABC",
        TELEGRAM_WEBHOOK_URL="https://bot.example/webhooks/telegram",
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        WHATSAPP_ACCESS_TOKEN="graph-token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_APP_SECRET=WHATSAPP_SECRET,
        WHATSAPP_VERIFY_TOKEN="verify",
        WHATSAPP_API_BASE_URL="https://graph.test/v23.0/",
        QUEUE_API_TOKEN=QUEUE_TOKEN,
        ALLOWED_ORIGINS="https://mpp.probolinggokota.go.id, http://localhost:3000",
    )
    connectors = Connectors(
        telegram_request=FakeBotApi(),
        http=httpx.AsyncClient(transport=FakeGraphApi().transport()),
    )
    app = await build_app(settings, clock=clock, understanding=ENGINE, connectors=connectors)
    web = app.channel("web")
    assert isinstance(web, WebChannel)
    web.chat.limiter = ChatLimiter(itertools.count(step=60).__next__)  # never in the way here
    transport = httpx.ASGITransport(app=build_http(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield Server(app, client)
    await app.close()


def as_body(value: Any) -> bytes:
    # ensure_ascii writes a lone surrogate as the escape "\ud800", as a hostile client would.
    return json.dumps(value).encode()


# --- inputs that gave a 500 before -------------------------------------------------------

DEEP = b"[" * 100_000


async def test_deeply_nested_json_is_a_clear_4xx_on_every_json_endpoint(server: Server) -> None:
    for send in (server.chat, server.queue, server.telegram, server.whatsapp):
        response = await send(DEEP[: guard.QUEUE_BODY - 1])
        assert response.status_code in (400, 422), send
    chat = await server.chat(DEEP[: guard.WEB_CHAT_BODY])
    assert "nested deeper than 32 levels" in chat.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"session": SESSION, "action": "\ud800"},
        {"session": SESSION, "text": "/start \udfff"},
        {"session": SESSION, "text": "hai", "\ud83d": 1},
    ],
)
async def test_text_that_cannot_be_encoded_is_refused_on_the_chat(
    server: Server, body: dict[str, Any]
) -> None:
    response = await server.chat(as_body(body))
    assert response.status_code == 422
    assert "valid Unicode" in response.json()["error"]


async def test_a_surrogate_field_name_on_the_queue_api_is_refused_not_echoed(
    server: Server,
) -> None:
    response = await server.queue(as_body({"now_serving": 3, "\udc80": 1}))
    assert response.status_code == 422 and "\\udc80" not in response.text


@pytest.mark.parametrize("body", [[], {}, {"message": "x"}, {"update_id": 1, "message": "x"}])
async def test_a_telegram_body_of_the_wrong_shape_with_the_right_secret_is_a_400(
    server: Server, body: Any
) -> None:
    assert (await server.telegram(as_body(body))).status_code == 400


async def test_nan_is_not_accepted_as_a_number(server: Server) -> None:
    response = await server.queue(b'{"now_serving": NaN}')
    assert response.status_code == 422 and "NaN" in response.json()["error"]


async def test_an_unknown_field_on_the_chat_is_named(server: Server) -> None:
    response = await server.chat(as_body({"session": SESSION, "text": "hai", "colour": "red"}))
    assert response.status_code == 422 and "colour" in response.json()["error"]


# --- body limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/chat", guard.WEB_CHAT_BODY),
        ("/api/queue", guard.DEFAULT_BODY),
        ("/api/queue/A", guard.QUEUE_BODY),
        ("/webhooks/telegram", guard.TELEGRAM_BODY),
        ("/webhooks/whatsapp", guard.WHATSAPP_BODY),
        ("/healthz", guard.DEFAULT_BODY),
    ],
)
async def test_a_body_over_its_endpoints_limit_is_refused_with_413(
    server: Server, path: str, limit: int
) -> None:
    over = await server.client.post(path, content=b" " * (limit + 1))
    assert over.status_code == 413
    assert f"larger than {limit} bytes" in over.json()["error"]


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(server: Server) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 10 * guard.WEB_CHAT_BODY:
            sent += 1024
            yield b" " * 1024

    response = await server.client.post("/api/chat", content=endless())
    assert response.status_code == 413
    assert sent <= guard.WEB_CHAT_BODY + 2 * 1024  # it stopped reading


async def test_a_body_within_its_limit_still_reaches_the_endpoint(server: Server) -> None:
    text = "paspor " * 140  # 980 characters, as \uXXXX escapes not needed
    body = as_body({"session": SESSION, "text": text.strip()})
    assert len(body) < guard.WEB_CHAT_BODY
    assert (await server.chat(body)).status_code == 200


# --- headers -----------------------------------------------------------------------------


def csp_of(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/queue"])
async def test_every_response_carries_the_security_headers(server: Server, path: str) -> None:
    response = await server.client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = csp_of(response)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert csp["frame-ancestors"] == [
        "'self'",
        "https://mpp.probolinggokota.go.id",
        "http://localhost:3000",
    ]
    assert csp["object-src"] == ["'none'"] and csp["script-src"] == ["'self'"]


def test_a_bad_allowed_origin_is_named_at_start() -> None:
    from bot.config import SettingsError

    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
        load_settings(CONTENT_DIR=CONTENT_DIR, ALLOWED_ORIGINS="mpp.example.go.id")


# --- fuzz --------------------------------------------------------------------------------

KEYS = [
    *("session", "text", "action", "now_serving", "last_issued", "status", "update_id"),
    *("message", "callback_query", "from", "chat", "id", "date", "entry", "changes", "value"),
    *("field", "messages", "statuses", "contacts", "type", "interactive", "button_reply"),
]
any_text = st.text(st.characters(exclude_categories=()), max_size=12)  # with lone surrogates
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
    | st.sampled_from(["/start", "/bahasa en", "/panggil A", "t:paspor-baru", "fb:up:x"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | any_text, inner, max_size=5)
    ),
    max_leaves=25,
)


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from _slots(child, (*path, key))


def replaced(value: Any, slot: int, new: Any) -> Any:
    """`value` with the `slot`-th node (in walk order, modulo their number) replaced."""
    paths = list(_slots(value))
    path = paths[slot % len(paths)]
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return copy


VALID = {
    "chat": {"session": SESSION, "text": "berapa biaya paspor"},
    "queue": {"now_serving": 12, "last_issued": 30, "status": "open"},
    "telegram": text_update(1, 7, "/start"),
    "whatsapp": json.loads(payload("text")),
}
bodies = st.one_of(
    json_values.map(as_body),
    st.builds(
        replaced, st.sampled_from(list(VALID.values())), st.integers(0, 200), json_values
    ).map(as_body),
    st.binary(max_size=64),
    st.integers(1, 2000).map(lambda depth: b"[" * depth + b"]" * depth),
)


@settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(["chat", "queue", "telegram", "whatsapp"]),
    body=bodies,
    service=st.sampled_from(["A", "b", "Z", "AA"]) | any_text,
)
async def test_no_body_on_any_endpoint_gets_a_500(
    server: Server, target: str, body: bytes, service: str
) -> None:
    if target == "queue":
        response = await server.queue(body, service or "A")
    else:
        response = await getattr(server, target)(body)
    assert response.status_code < 500, (target, body[:200], response.text[:200])
