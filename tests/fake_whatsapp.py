"""An offline Graph API (httpx.MockTransport) and the WhatsApp limits every message must keep."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.limits import (
    WHATSAPP_BUTTON_ID,
    WHATSAPP_BUTTON_TITLE,
    WHATSAPP_BUTTONS,
    WHATSAPP_INTERACTIVE_BODY,
    WHATSAPP_LIST_BUTTON,
    WHATSAPP_LIST_ROW_DESCRIPTION,
    WHATSAPP_LIST_ROW_ID,
    WHATSAPP_LIST_ROW_TITLE,
    WHATSAPP_LIST_ROWS,
    WHATSAPP_TEMPLATE_BODY,
    WHATSAPP_TEXT,
)
from tests.conftest import DATA

PAYLOADS = DATA / "whatsapp"


def payload(name: str) -> bytes:
    """A recorded webhook body, byte for byte as Meta would post it."""
    return (PAYLOADS / f"{name}.json").read_bytes()


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def graph_error(code: int, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": {
            "message": f"error {code}",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEf",
        }
    }


@dataclass
class FakeGraphApi:
    """Records every request; `fail_next` holds error answers to give before succeeding,
    `fail_at` an error answer for the request with that number (1 is the first), and
    `raise_next` network failures (httpx.ReadTimeout: the request went out, no answer came;
    httpx.ConnectError: it never left) to raise before answering."""

    requests: list[httpx.Request] = field(default_factory=list)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    fail_at: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    raise_next: list[type[httpx.TransportError]] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.raise_next:
            raise self.raise_next.pop(0)("graph.test: no answer", request=request)
        failure = self.fail_at.pop(len(self.requests), None)
        if failure is None and self.fail_next:
            failure = self.fail_next.pop(0)
        if failure is not None:
            status, body = failure
            return httpx.Response(status, json=body)
        to = json.loads(request.content)["to"]
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.out{len(self.requests)}"}],
            },
        )

    def sent(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def texts(self) -> str:
        """Every text a person would read: message bodies and interactive bodies."""
        out = []
        for message in self.sent():
            if message["type"] == "text":
                out.append(message["text"]["body"])
            elif message["type"] == "interactive":
                out.append(message["interactive"]["body"]["text"])
        return "\n".join(out)


def action_ids(message: dict[str, Any]) -> list[str]:
    """The ids of an interactive message's buttons or list rows."""
    interactive = message.get("interactive", {})
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        return [b["reply"]["id"] for b in action["buttons"]]
    return [row["id"] for s in action.get("sections", []) for row in s["rows"]]


def _one_line(text: str, limit: int) -> None:
    assert text and text == " ".join(text.split()), repr(text)
    assert len(text) <= limit, (len(text), limit, text)


def check_limits(message: dict[str, Any]) -> None:
    """Fail unless a message (without recipient) is within every WhatsApp limit."""
    kind = message["type"]
    if kind == "text":
        body = message["text"]["body"]
        assert body.strip() and len(body) <= WHATSAPP_TEXT
    elif kind == "interactive":
        interactive = message["interactive"]
        body = interactive["body"]["text"]
        assert body.strip() and len(body) <= WHATSAPP_INTERACTIVE_BODY
        action = interactive["action"]
        if interactive["type"] == "button":
            buttons = action["buttons"]
            assert 1 <= len(buttons) <= WHATSAPP_BUTTONS
            titles = [b["reply"]["title"] for b in buttons]
            for title in titles:
                _one_line(title, WHATSAPP_BUTTON_TITLE)
            assert len(set(titles)) == len(titles)
            assert all(0 < len(i) <= WHATSAPP_BUTTON_ID for i in action_ids(message))
        else:
            assert interactive["type"] == "list"
            _one_line(action["button"], WHATSAPP_LIST_BUTTON)
            rows = [row for section in action["sections"] for row in section["rows"]]
            assert 1 <= len(rows) <= WHATSAPP_LIST_ROWS
            for row in rows:
                _one_line(row["title"], WHATSAPP_LIST_ROW_TITLE)
                if "description" in row:
                    _one_line(row["description"], WHATSAPP_LIST_ROW_DESCRIPTION)
                assert 0 < len(row["id"]) <= WHATSAPP_LIST_ROW_ID
            assert len({row["title"] for row in rows}) == len(rows)
        ids = action_ids(message)
        assert len(set(ids)) == len(ids)
    elif kind == "location":
        location = message["location"]
        assert isinstance(location["latitude"], float) and isinstance(location["longitude"], float)
    else:
        assert kind == "template"
        [component] = message["template"]["components"]
        [parameter] = component["parameters"]
        _one_line(parameter["text"], WHATSAPP_TEMPLATE_BODY)
