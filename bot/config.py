"""Settings from the environment and `.env`, validated once at start (names fixed by DESIGN.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line naming it."""


class StartupError(Exception):
    """What the settings point at cannot be used (a database that cannot be opened or written,
    a port in use): `ukkbot run` stops with this one line."""


# scheme://host[:port] and nothing else: a path or "*" would not match what browsers send.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting the bot reads. Secrets are SecretStr so they never reach a log."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_BASE_URL: str | None = None
    TELEGRAM_WEBHOOK_URL: str | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None
    DATABASE_PATH: Path = Path("data/ukkbot.sqlite3")
    CONTENT_DIR: Path = Path("content")
    HTTP_HOST: str = "127.0.0.1"
    HTTP_PORT: int = Field(default=8080, ge=1, le=65535)
    ADMIN_TELEGRAM_IDS: Annotated[list[int], NoDecode] = []
    ADMIN_WHATSAPP_NUMBERS: Annotated[list[str], NoDecode] = []
    WHATSAPP_ACCESS_TOKEN: SecretStr | None = None
    WHATSAPP_PHONE_NUMBER_ID: str | None = None
    WHATSAPP_APP_SECRET: SecretStr | None = None
    WHATSAPP_VERIFY_TOKEN: SecretStr | None = None
    WHATSAPP_API_BASE_URL: str = "https://graph.facebook.com/v23.0"
    WHATSAPP_ALERT_TEMPLATE: str | None = None
    STAFF_CHAT_ID: int | None = None
    QUEUE_API_TOKEN: SecretStr | None = None
    TIMEZONE: str = "Asia/Jakarta"
    BROADCAST_RATE: float = Field(default=25.0, gt=0)  # outbox messages a second per channel
    # Sites that may embed the web chat (frame-ancestors) and call its API (CORS).
    ALLOWED_ORIGINS: Annotated[list[str], NoDecode] = []

    LOG_FORMAT: Literal["text", "json"] = "text"

    _split_admins = field_validator(
        "ADMIN_TELEGRAM_IDS", "ADMIN_WHATSAPP_NUMBERS", "ALLOWED_ORIGINS", mode="before"
    )(_split_list)

    @field_validator("ALLOWED_ORIGINS")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin like https://example.go.id")
        return value

    @field_validator("CONTENT_DIR")
    @classmethod
    def _content_dir_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"folder {value} does not exist")
        return value

    @field_validator("TIMEZONE")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_BASE_URL", "WHATSAPP_API_BASE_URL")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def data_dir(self) -> Path:
        """The bot's writable folder: the database's (caches go there too)."""
        return self.DATABASE_PATH.parent

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.TIMEZONE)


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise SettingsError with a one-line message naming the first bad one."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
    if settings.TELEGRAM_WEBHOOK_URL and not settings.TELEGRAM_WEBHOOK_SECRET:
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set")
    check_whatsapp(settings)
    return settings


def check_whatsapp(settings: Settings) -> None:
    """With an access token WhatsApp starts, and then it needs the rest of its settings: without
    the app secret webhook signatures could not be checked."""
    if settings.WHATSAPP_ACCESS_TOKEN is None:
        return
    required = {
        "WHATSAPP_APP_SECRET": settings.WHATSAPP_APP_SECRET,
        "WHATSAPP_PHONE_NUMBER_ID": settings.WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_VERIFY_TOKEN": settings.WHATSAPP_VERIFY_TOKEN,
    }
    for name, value in required.items():
        if value is None:
            raise SettingsError(f"{name}: required when WHATSAPP_ACCESS_TOKEN is set")
