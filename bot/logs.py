"""Logging for `ukkbot run`: one line per event, as text or JSON (LOG_FORMAT), with every
configured secret and anything shaped like a phone number masked, also inside tracebacks and
the lines of libraries (uvicorn, PTB, httpx)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from typing import TextIO

from pydantic import SecretStr

from bot.config import Settings

# Eight or more digits, maybe with a leading + and single spaces or dashes between them: phone
# numbers and WhatsApp ids (also Telegram ids, which identify a person as well). Not inside a
# word or a longer token (a base64 message id, a version string).
PHONE = re.compile(r"(?<![\w.+])\+?\d(?:[ -]?\d){7,}(?![\w.])")
MASK = "***"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"  # after the time, which is not masked


class Redactor:
    """Masks the given secrets and phone-like numbers in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return PHONE.sub(MASK, text)


def secrets_of(settings: Settings) -> list[str]:
    """Every SecretStr setting's value."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


class OneLineFormatter(logging.Formatter):
    """`time LEVEL logger: message | traceback lines…`, masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        # The time stays out of the masking: "2026-12-01 07" is shaped like a phone number.
        masked = self.redact(" | ".join(super().format(record).splitlines()))
        return f"{self.formatTime(record)} {masked}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message and any exception, masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            event["exception"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(event, ensure_ascii=False)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Route every logger (uvicorn's too: run it with log_config=None) through one handler."""
    redact = Redactor(secrets_of(settings))
    handler = logging.StreamHandler(stream)
    formatter = JsonFormatter if settings.LOG_FORMAT == "json" else OneLineFormatter
    handler.setFormatter(formatter(redact))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
