"""WhatsApp through the Cloud API: webhook payloads → Incoming, Replies → Graph API messages.

Meta posts to /webhooks/whatsapp; we check the signature, answer 200 at once and handle the
messages in tracked tasks (`drain()` awaits them). Replies are rendered within WhatsApp's limits
(bot.limits) and posted with httpx; pywa is not used because its Graph URL is fixed and it skips
the signature check when no app secret is given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.assistant import Assistant
from bot.config import Settings, SettingsError, check_whatsapp
from bot.content import Content
from bot.core import Incoming, Lang, Location, Option, Reply, Role, lang_from_hint
from bot.guard import parse_json
from bot.limits import (
    WHATSAPP_BUTTON_TITLE,
    WHATSAPP_BUTTONS,
    WHATSAPP_INTERACTIVE_BODY,
    WHATSAPP_LIST_BUTTON,
    WHATSAPP_LIST_ROW_DESCRIPTION,
    WHATSAPP_LIST_ROW_TITLE,
    WHATSAPP_LIST_ROWS,
    WHATSAPP_TEMPLATE_BODY,
    WHATSAPP_TEXT,
)
from bot.markup import split_text, to_whatsapp
from bot.outbox import Undeliverable, enqueue
from bot.store import Store

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WEBHOOK_PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW = dt.timedelta(hours=24)
MAX_SEND_ATTEMPTS = 5
FIRST_BACKOFF = 1.0  # seconds before the first resend; doubles each time
ERROR_OUTSIDE_WINDOW = 131047
# 130429: the number's throughput; 131056: too many messages to one user. Both pass with time.
RETRY_ERRORS = frozenset({130429, 131056})
# An answer that met a Graph server error or a network failure is resent through the outbox
# under this key for this long; after that the question is stale.
RETRY_OUTBOX_KEY = "whatsapp-answer"
RETRY_ANSWER_FOR = dt.timedelta(hours=1)
# The alert text is one body parameter; leave room for the template's own words.
ALERT_PARAMETER = WHATSAPP_TEMPLATE_BODY - 200
ELLIPSIS = "…"
INDONESIA = "62"  # country calling code
IGNORED_TYPES = frozenset({"reaction"})  # a 👍 on an answer needs no "I can only read text"

Payload = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]
_VERIFY_TOKEN = re.compile(r"(hub\.verify_token=)[^&\s]*")


class RedactVerifyToken(logging.Filter):
    """Meta's handshake carries the verify token in the query string, which uvicorn's access
    log prints: hide it there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _VERIFY_TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


class GraphError(Exception):
    """The Graph API refused a message for good."""

    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"graph api: HTTP {status}, error code {code}")
        self.status = status
        self.code = code


class OutsideWindow(Undeliverable):
    """Nothing was sent: the person's 24-hour window is closed and no template can be used.

    The outbox counts these as skipped, not failed: resending will not help.
    """


# --- inbound -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundMessage:
    """One message from a webhook body, reduced to what the assistant needs."""

    wamid: str
    sender: str
    sent_at: dt.datetime | None
    text: str | None = None
    action: str | None = None
    name: str | None = None


def valid_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """`X-Hub-Signature-256` is "sha256=" + hex HMAC-SHA256 of the raw body (constant time)."""
    if not header or not secret:
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), expected.encode())


def _timestamp(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(str(value)), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _message(raw: dict[str, Any], names: dict[str, str]) -> InboundMessage | None:
    """Text as text; button and list picks as their ids (never the titles); other kinds empty."""
    wamid, sender, kind = raw.get("id"), raw.get("from"), raw.get("type")
    if not isinstance(wamid, str) or not isinstance(sender, str) or kind in IGNORED_TYPES:
        return None
    text = action = None
    if kind == "text":
        text = raw.get("text", {}).get("body")
    elif kind == "interactive":
        interactive = raw.get("interactive", {})
        picked = interactive.get("button_reply") or interactive.get("list_reply") or {}
        action = picked.get("id")
    elif kind == "button":
        action = raw.get("button", {}).get("payload")
    return InboundMessage(
        wamid,
        sender,
        _timestamp(raw.get("timestamp")),
        text=text if isinstance(text, str) else None,
        action=action if isinstance(action, str) and action else None,
        name=names.get(sender),
    )


@dataclass(frozen=True)
class Notification:
    """What one webhook body tells: messages to answer, and the people a message of ours could
    not reach because their 24-hour window had closed (131047 arrives as a failed status)."""

    messages: list[InboundMessage]
    window_closed: list[str]


def _window_closed(status: dict[str, Any]) -> bool:
    errors = status.get("errors", []) if status.get("status") == "failed" else []
    return any(error.get("code") == ERROR_OUTSIDE_WINDOW for error in errors)


def parse_webhook(body: Any) -> Notification:
    """The messages and failed deliveries in a webhook body; other statuses are only logged."""
    found = Notification([], [])
    entries = body.get("entry", []) if isinstance(body, dict) else []
    for entry in entries:
        for change in entry.get("changes", []):
            if change.get("field") != "messages":
                continue
            value = change.get("value", {})
            for status in value.get("statuses", []):
                log.debug("whatsapp status %s for %s", status.get("status"), status.get("id"))
                recipient = status.get("recipient_id")
                if _window_closed(status) and isinstance(recipient, str):
                    found.window_closed.append(recipient)
            names = {
                c.get("wa_id"): c.get("profile", {}).get("name") for c in value.get("contacts", [])
            }
            for raw in value.get("messages", []):
                message = _message(raw, names)
                if message is not None:
                    found.messages.append(message)
    return found


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """UI strings in the person's language that rendering may need."""

    list_button: str
    choose: str
    more_options: str

    @classmethod
    def of(cls, content: Content, lang: Lang) -> Labels:
        return cls(
            content.t("whatsapp.list_button", lang),
            content.t("whatsapp.choose", lang),
            content.t("whatsapp.more_options", lang),
        )


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with "…" when longer."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _unique_titles(labels: list[str], limit: int) -> list[str]:
    """Titles that fit `limit` and differ from each other (WhatsApp rejects duplicates)."""
    titles: list[str] = []
    for n, label in enumerate(labels, 1):
        base = " ".join(label.split()) or str(n)
        title = clip(base, limit)
        k = n
        while title in titles:
            suffix = f" ({k})"
            title = clip(base, limit - len(suffix)) + suffix
            k += 1
        titles.append(title)
    return titles


def _text(body: str) -> Payload:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _location(loc: Location) -> Payload:
    return {
        "type": "location",
        "location": {
            "latitude": loc.lat,
            "longitude": loc.lon,
            "name": loc.name,
            "address": loc.address,
        },
    }


def _buttons(options: list[Option], body: str) -> Payload:
    titles = _unique_titles([o.label for o in options], WHATSAPP_BUTTON_TITLE)
    buttons = [
        {"type": "reply", "reply": {"id": o.id, "title": title}}
        for o, title in zip(options, titles, strict=True)
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def _list(options: list[Option], body: str, button: str) -> Payload:
    titles = _unique_titles([o.label for o in options], WHATSAPP_LIST_ROW_TITLE)
    rows: list[Payload] = []
    for option, title in zip(options, titles, strict=True):
        row = {"id": option.id, "title": title}
        full = clip(option.label, WHATSAPP_LIST_ROW_DESCRIPTION)
        if full and full != title:  # the title had to be cut: the whole label goes below it
            row["description"] = full
        rows.append(row)
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"rows": rows}]},
        },
    }


def _interactive(options: list[Option], body: str, labels: Labels) -> list[Payload]:
    """≤3 options → reply buttons; more → list messages of ≤10 rows each."""
    if len(options) <= WHATSAPP_BUTTONS:
        return [_buttons(options, body)]
    button = clip(labels.list_button, WHATSAPP_LIST_BUTTON)
    more = clip(labels.more_options, WHATSAPP_INTERACTIVE_BODY)
    return [
        _list(options[i : i + WHATSAPP_LIST_ROWS], body if i == 0 else more, button)
        for i in range(0, len(options), WHATSAPP_LIST_ROWS)
    ]


def _distinct(options: tuple[Option, ...]) -> list[Option]:
    """Each action once: WhatsApp rejects a message whose buttons or rows share an id."""
    by_id: dict[str, Option] = {}
    for option in options:
        by_id.setdefault(option.id, option)
    return list(by_id.values())


def render(reply: Reply, labels: Labels) -> list[Payload]:
    """The WhatsApp messages (without recipient) that carry one Reply, every one within limits.

    Long text is split at paragraphs; the options go with the last piece when it fits an
    interactive body, otherwise after the text under a short "please choose". An image (a staff
    chart) is left out: uploading media first is not worth it here, the text says the figures.
    """
    messages = [_location(reply.location)] if reply.location is not None else []
    pieces = [p for p in split_text(to_whatsapp(reply.text), WHATSAPP_TEXT) if p.strip()]
    options = _distinct(reply.options)
    if not options:
        return messages + [_text(p) for p in pieces]
    if pieces and len(pieces[-1]) <= WHATSAPP_INTERACTIVE_BODY:
        body = pieces.pop()
    else:
        body = clip(labels.choose, WHATSAPP_INTERACTIVE_BODY)
    return messages + [_text(p) for p in pieces] + _interactive(options, body, labels)


def alert_template(name: str, lang: Lang, replies: list[Reply]) -> Payload | None:
    """An approved template carrying the replies' text as its one body parameter.

    Template parameters may not hold line breaks or runs of spaces, so the text is one line.
    """
    text = clip(" ".join(to_whatsapp(r.text) for r in replies), ALERT_PARAMETER)
    if not text:
        return None
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": lang},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
        },
    }


# --- outbound ----------------------------------------------------------------------------


def _error_code(response: httpx.Response) -> int | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, int) else None


class WhatsAppSender:
    """Posts messages to the Graph API. `send` is the outbox's entry point: it knows the 24-hour
    window; `deliver` answers someone who just wrote."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        content: Content,
        store: Store,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        token, phone = settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID
        if token is None or phone is None:
            raise SettingsError("WHATSAPP_ACCESS_TOKEN: required for WhatsApp")
        self.http = http
        self.content = content
        self.store = store
        self.template = settings.WHATSAPP_ALERT_TEMPLATE
        self._url = f"{settings.WHATSAPP_API_BASE_URL.rstrip('/')}/{phone}/messages"
        self._headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        self._sleep = sleep

    async def post(self, to: str, message: Payload) -> None:
        """One message; throughput errors are waited out with backoff and the message resent.

        Raises OutsideWindow on 131047 (after recording it) and GraphError on other refusals.
        """
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body |= message
        delay = FIRST_BACKOFF
        for attempt in range(MAX_SEND_ATTEMPTS):
            response = await self.http.post(self._url, json=body, headers=self._headers)
            if response.is_success:
                return
            code = _error_code(response)
            if code == ERROR_OUTSIDE_WINDOW:
                await self.store.close_whatsapp_window(to)
                raise OutsideWindow("131047: the 24-hour window is closed")
            retryable = response.status_code == 429 or code in RETRY_ERRORS
            if not retryable or attempt == MAX_SEND_ATTEMPTS - 1:
                raise GraphError(response.status_code, code)
            await self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def deliver(self, to: str, replies: list[Reply], lang: Lang) -> None:
        """Every reply, in order, as free-form messages."""
        labels = Labels.of(self.content, lang)
        for reply in replies:
            for message in render(reply, labels):
                await self.post(to, message)

    async def send(self, chat_key: str, replies: list[Reply]) -> None:
        """A proactive message: free-form inside the 24-hour window, else the alert template.

        Raises OutsideWindow when the window is closed and no template is configured.
        """
        lang = await self.store.get_language(CHANNEL, chat_key) or "id"
        last = await self.store.whatsapp_last_inbound(chat_key)
        if last is not None and self.store.clock() - last < WINDOW:
            try:
                await self.deliver(chat_key, replies, lang)
                return
            except OutsideWindow:
                log.info("whatsapp: window closed earlier than recorded; trying the template")
        message = alert_template(self.template, lang, replies) if self.template else None
        if message is None:
            raise OutsideWindow("outside the 24-hour window and no WHATSAPP_ALERT_TEMPLATE")
        await self.post(chat_key, message)


# --- the channel -------------------------------------------------------------------------


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def lang_hint(number: str) -> str | None:
    """WhatsApp tells no language; a number from abroad suggests English. The message's own
    language and a stored /bahasa choice still win."""
    return None if number.startswith(INDONESIA) else "en"


class WhatsAppChannel:
    """The webhook and its processing: verified bodies → Incoming → Assistant → sender."""

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings,
        http: httpx.AsyncClient,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        check_whatsapp(settings)
        secret, verify = settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_VERIFY_TOKEN
        if secret is None or verify is None:
            raise SettingsError("WHATSAPP_APP_SECRET: required for WhatsApp")
        self.assistant = assistant
        services = assistant.services
        self.sender = WhatsAppSender(http, settings, services.content, services.store, sleep)
        self._secret = secret.get_secret_value().encode()
        self._verify = verify.get_secret_value().encode()
        self._admins = frozenset(_digits(n) for n in settings.ADMIN_WHATSAPP_NUMBERS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[str, asyncio.Task[None]] = {}  # per sender, the task to wait for

    @property
    def store(self) -> Store:
        return self.assistant.services.store

    def webhook_routes(self) -> list[Route]:
        """GET answers Meta's verification handshake; POST receives signed notifications."""

        async def verify(request: Request) -> Response:
            params = request.query_params
            token = params.get("hub.verify_token", "").encode()
            if params.get("hub.mode") == "subscribe" and hmac.compare_digest(token, self._verify):
                return PlainTextResponse(params.get("hub.challenge", ""))
            return Response(status_code=403)

        async def receive(request: Request) -> Response:
            body = await request.body()
            if not valid_signature(body, request.headers.get(SIGNATURE_HEADER), self._secret):
                return Response(status_code=403)
            try:
                notification = parse_webhook(parse_json(body))
            except (ValueError, AttributeError, TypeError):
                return Response(status_code=400)
            for recipient in notification.window_closed:
                log.info("whatsapp: a message was refused, 24-hour window closed (131047)")
                self._spawn(recipient, self.store.close_whatsapp_window(recipient))
            by_sender: dict[str, list[InboundMessage]] = {}
            for message in notification.messages:
                by_sender.setdefault(message.sender, []).append(message)
            for sender, theirs in by_sender.items():
                self._spawn(sender, self.process(theirs))
            return Response(status_code=200)

        return [
            Route(WEBHOOK_PATH, verify, methods=["GET"]),
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
        ]

    def _spawn(self, sender: str, work: Coroutine[Any, Any, None]) -> None:
        """Run after the 200 is sent, after the same person's earlier messages (so answers
        never interleave); kept so shutdown (and tests) can await it."""
        previous = self._latest.get(sender)

        async def in_turn() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await work

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        self._latest[sender] = task

        def forget(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            if self._latest.get(sender) is done:
                del self._latest[sender]

        task.add_done_callback(forget)

    async def drain(self) -> None:
        """Wait until every received message has been handled."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        await self.drain()
        await self.sender.http.aclose()

    async def process(self, messages: list[InboundMessage]) -> None:
        """Handle messages in order; a failure is logged and the next one still handled."""
        for message in messages:
            try:
                await self.handle(message)
            except OutsideWindow:
                log.warning("whatsapp: reply refused, 24-hour window closed (131047)")
            except Exception:
                log.exception("whatsapp: message %s failed", message.wamid)

    async def handle(self, message: InboundMessage) -> None:
        """Answer one message unless its id was handled before (Meta redelivers)."""
        if not await self.store.claim_whatsapp_message(message.wamid):
            log.debug("whatsapp: %s delivered again, ignored", message.wamid)
            return
        now = self.store.clock()
        sent_at = min(message.sent_at, now) if message.sent_at is not None else now
        await self.store.record_whatsapp_inbound(message.sender, sent_at)
        role: Role = "admin" if _digits(message.sender) in self._admins else "resident"
        incoming = Incoming(
            CHANNEL,
            message.sender,
            message.sender,
            text=message.text,
            action=message.action,
            lang_hint=lang_hint(message.sender),
            role=role,
            display_name=message.name,
        )
        replies = await self.assistant.handle(incoming)
        lang = await self._lang(incoming)
        for i, reply in enumerate(replies):
            try:
                await self.sender.deliver(message.sender, [reply], lang)
            except (GraphError, httpx.TransportError) as exc:
                if isinstance(exc, GraphError) and exc.status < 500:
                    raise  # refused for good: resending will not help
                await self._retry_later(message, replies[i:], exc)
                return

    async def _retry_later(
        self, message: InboundMessage, replies: list[Reply], error: Exception
    ) -> None:
        """Graph had a server error or could not be reached: the answer (from the reply that
        failed on) goes to the outbox, which resends it with backoff for RETRY_ANSWER_FOR. A
        reply whose first part did arrive may then be seen twice; without this it was lost."""
        log.warning("whatsapp: answer to %s queued for resending: %s", message.wamid, error)
        now = self.store.clock()
        async with self.store.transaction() as db:
            await enqueue(
                db,
                f"{RETRY_OUTBOX_KEY}:{message.wamid}",
                CHANNEL,
                message.sender,
                replies,
                now,
                expires_at=now + RETRY_ANSWER_FOR,
            )

    async def _lang(self, incoming: Incoming) -> Lang:
        """The language the assistant answered in, decided as it does: the stored choice, else
        the message's own language, else the hint."""
        stored = await self.store.get_language(CHANNEL, incoming.user_key)
        detected = self.assistant.services.understanding.detect_language(incoming.text or "")
        return stored or detected or lang_from_hint(incoming.lang_hint)
