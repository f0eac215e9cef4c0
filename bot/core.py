"""Channel-neutral messages: what a channel hands the assistant and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["resident", "staff", "admin"]
STAFF_ROLES: frozenset[Role] = frozenset({"staff", "admin"})
Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")

# Telegram's callback_data limit is the tightest of all channels; every action id must fit it.
MAX_ACTION_BYTES = 64


@dataclass(frozen=True)
class Option:
    """A button: the action id the router receives when it is chosen, and its label."""

    id: str
    label: str

    def __post_init__(self) -> None:
        if not self.id or len(self.id.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"action id must be 1-{MAX_ACTION_BYTES} bytes: {self.id!r}")


@dataclass(frozen=True)
class Location:
    """A place to show on a map."""

    name: str
    address: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Reply:
    """One message to the person: text in the neutral markup (see bot.markup), options, a pin,
    and an optional PNG image (a chart) shown before the text."""

    text: str
    options: tuple[Option, ...] = ()
    location: Location | None = None
    image: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text or chose an action, on some channel."""

    channel: str
    user_key: str
    chat_key: str
    text: str | None = None
    action: str | None = None
    lang_hint: str | None = None
    role: Role = "resident"
    display_name: str | None = field(default=None, compare=False)
    # The text of the bot's message this one replies to (a staff reply to a hand-over).
    reply_to: str | None = None


def lang_from_hint(hint: str | None) -> Lang:
    """Map a platform language code (Telegram's `language_code`) to our two languages."""
    return "en" if hint and hint.lower().startswith("en") else "id"
