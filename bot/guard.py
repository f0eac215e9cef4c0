"""What every HTTP endpoint shares: a request-body limit per path, strict JSON (bounded depth,
text that can be encoded) and the security headers, all set here and nowhere else."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Deeper JSON than any of our bodies needs is refused before it reaches code that recurses.
MAX_JSON_DEPTH = 32
# Request-body limits in bytes, per endpoint (README lists them); others get DEFAULT_BODY.
DEFAULT_BODY = 16 * 1024
QUEUE_BODY = 1024
WEB_CHAT_BODY = 16 * 1024  # 1000 characters of text even if every one is sent as \uXXXX
TELEGRAM_BODY = 256 * 1024  # an update: a 4096-character message and the one it replies to
WHATSAPP_BODY = 1024 * 1024  # Meta may batch several messages and statuses in one body
CHANNEL_BODY = {"web": WEB_CHAT_BODY, "telegram": TELEGRAM_BODY, "whatsapp": WHATSAPP_BODY}


class BadJson(ValueError):
    """A body that is not JSON we accept; the message says why, in one line."""


def _check(value: Any) -> None:
    """Raise BadJson for nesting past MAX_JSON_DEPTH or a string UTF-8 cannot encode (a lone
    surrogate such as "\\ud800" is valid JSON but breaks every later `.encode()`)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                raise BadJson("text must be valid Unicode (no lone surrogates)") from None
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadJson(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and a response echoing one could not be encoded.
    raise BadJson(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """The body as JSON, or BadJson: not UTF-8 JSON, too deep, or text that cannot be encoded."""
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise BadJson(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except BadJson:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadJson("body must be JSON") from exc
    _check(value)
    return value


async def read_json(request: Request) -> Any:
    """The request's body through parse_json (BodyLimit has already bounded its size)."""
    return parse_json(await request.body())


def _refuse(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


class BodyLimit:
    """Refuse a request whose body is over its path's limit with 413, before any of it is
    parsed: the body is read here (at most limit + one chunk) and handed on whole."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int], default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    def limit_for(self, path: str) -> int:
        """`path`'s own limit, else that of the longest listed folder ("/api/queue/") holding
        it, else the default."""
        if path in self.limits:
            return self.limits[path]
        folders = [p for p in self.limits if p.endswith("/") and path.startswith(p)]
        return self.limits[max(folders, key=len)] if folders else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        too_large = _refuse(f"the request body is larger than {limit} bytes", 413)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdecimal() or int(declared) > limit):
            await too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        whole: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal whole
            if whole is None:
                return await receive()  # after the body, only the disconnect is left
            message, whole = whole, None
            return message

        await self.app(scope, replay, send)


def content_security_policy(frame_ancestors: Iterable[str]) -> str:
    """Our own files only (no 'unsafe-inline': the page's script and style are files), and
    framing only by this site and the origins in ALLOWED_ORIGINS."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            " ".join(["frame-ancestors 'self'", *frame_ancestors]),
        ]
    )


class SecurityHeaders:
    """The one place response security headers are set, on every response."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
