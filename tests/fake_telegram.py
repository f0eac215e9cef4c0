"""An offline Bot API: a BaseRequest that records every call and answers like Telegram."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 999, "is_bot": True, "first_name": "UKK Bot", "username": "ukk_test_bot"}


FORBIDDEN = {
    "ok": False,
    "error_code": 403,
    "description": "Forbidden: bot was blocked by the user",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeBotApi(BaseRequest):
    """Records calls; `fail_next[method]` holds error answers to give before succeeding;
    `raise_next[method]` network failures to raise instead (see `timed_out`); sending to a
    chat in `blocked` answers 403 like Telegram does once a user blocked the bot."""

    calls: list[Call] = field(default_factory=list)
    fail_next: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    raise_next: dict[str, list[TelegramError]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    _message_id: int = 0

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        self.calls.append(Call(name, params))
        raising = self.raise_next.get(name)
        if raising:
            raise raising.pop(0)
        if name.startswith("send") and int(params.get("chat_id", 0)) in self.blocked:
            return 403, json.dumps(FORBIDDEN).encode()
        failures = self.fail_next.get(name)
        if failures:
            status, body = failures.pop(0)
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendVenue", "sendPhoto", "editMessageText"):
            self._message_id += 1
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": self._message_id,
                "date": 1_790_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            return message
        if name == "getUpdates":
            return []
        return True


def timed_out(sent: bool = True) -> TelegramError:
    """What PTB's HTTPXRequest raises when a call fails on the network: TimedOut from httpx's
    ReadTimeout when the request went out and no answer came (`sent`), NetworkError from a
    ConnectError when it never left."""
    if sent:
        error: TelegramError = TimedOut()
        error.__cause__ = httpx.ReadTimeout("no answer")
    else:
        error = NetworkError("httpx.ConnectError: unreachable")
        error.__cause__ = httpx.ConnectError("unreachable")
    return error


def retry_after(seconds: int) -> tuple[int, dict[str, Any]]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds},
    }


def text_update(
    update_id: int, user_id: int, text: str, language: str | None = "id"
) -> dict[str, Any]:
    """A message update as Telegram sends it, with the bot_command entity for /commands."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Warga"}
    if language:
        user["language_code"] = language
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_790_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": "Warga"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Warga", "language_code": "id"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user,
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": user_id, "type": "private"},
                "from": BOT_USER,
                "text": "menu",
            },
        },
    }
