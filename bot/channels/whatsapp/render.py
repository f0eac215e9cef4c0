"""Replies → WhatsApp Cloud API messages, every one within WhatsApp's limits (bot.limits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.content import Content
from bot.core import Lang, Location, Option, Reply
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
from bot.markup import clip, split_text, to_whatsapp

# The alert text is one body parameter; leave room for the template's own words.
ALERT_PARAMETER = WHATSAPP_TEMPLATE_BODY - 200

Payload = dict[str, Any]


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


def one_line(text: str, limit: int) -> str:
    """One line of at most `limit` characters (WhatsApp titles and template parameters)."""
    return clip(" ".join(text.split()), limit)


def _unique_titles(labels: list[str], limit: int) -> list[str]:
    """Titles that fit `limit` and differ from each other (WhatsApp rejects duplicates)."""
    titles: list[str] = []
    for n, label in enumerate(labels, 1):
        base = " ".join(label.split()) or str(n)
        title = one_line(base, limit)
        k = n
        while title in titles:
            suffix = f" ({k})"
            title = one_line(base, limit - len(suffix)) + suffix
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
        full = one_line(option.label, WHATSAPP_LIST_ROW_DESCRIPTION)
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
    button = one_line(labels.list_button, WHATSAPP_LIST_BUTTON)
    more = one_line(labels.more_options, WHATSAPP_INTERACTIVE_BODY)
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
        body = one_line(labels.choose, WHATSAPP_INTERACTIVE_BODY)
    return messages + [_text(p) for p in pieces] + _interactive(options, body, labels)


def alert_template(name: str, lang: Lang, replies: list[Reply]) -> Payload | None:
    """An approved template carrying the replies' text as its one body parameter.

    Template parameters may not hold line breaks or runs of spaces, so the text is one line.
    """
    text = one_line(" ".join(to_whatsapp(r.text) for r in replies), ALERT_PARAMETER)
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
