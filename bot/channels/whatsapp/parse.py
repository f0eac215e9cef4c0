"""WhatsApp webhook bodies → the messages to answer and the windows Meta says closed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ERROR_OUTSIDE_WINDOW = 131047
IGNORED_TYPES = frozenset({"reaction"})  # a 👍 on an answer needs no "I can only read text"


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
