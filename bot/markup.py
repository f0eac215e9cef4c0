"""The neutral markup of replies and its renderers for each channel.

Markup: `**bold**`, `[label](https://url)`, lines starting with `- ` (bullets) or `1. ` (steps),
blank lines between paragraphs. Everything else is literal text: renderers escape it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

_TOKEN = re.compile(r"\*\*(?P<bold>.+?)\*\*|\[(?P<label>[^\]]+)\]\((?P<url>https?://[^)\s]+)\)")
_BULLET = re.compile(r"^- ", re.MULTILINE)
ELLIPSIS = "…"


def inline_tokens(text: str) -> Iterator[tuple[str, str, str]]:
    """The pieces of `text` in order as (kind, text, url): kind is "plain", "bold" or "link"
    (url is set for links only)."""
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            yield "plain", text[pos : m.start()], ""
        if m.group("bold") is not None:
            yield "bold", m.group("bold"), ""
        else:
            yield "link", m.group("label"), m.group("url")
        pos = m.end()
    if pos < len(text):
        yield "plain", text[pos:], ""


def _render(
    text: str,
    plain: Callable[[str], str],
    bold: Callable[[str], str],
    link: Callable[[str, str], str],
    bullet: str,
) -> str:
    out: list[str] = []
    for kind, piece, url in inline_tokens(_BULLET.sub(bullet, text)):
        if kind == "bold":
            out.append(bold(piece))
        elif kind == "link":
            out.append(link(piece, url))
        else:
            out.append(plain(piece))
    return "".join(out)


def to_telegram_html(text: str) -> str:
    """Telegram HTML parse mode; every piece of text is escaped."""
    return _render(
        text,
        plain=html.escape,
        bold=lambda s: f"<b>{html.escape(s)}</b>",
        link=lambda label, url: (
            f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'
        ),
        bullet="• ",
    )


def to_whatsapp(text: str) -> str:
    """WhatsApp formatting: *bold*, links written out (WhatsApp makes them clickable)."""
    return _render(
        text,
        plain=lambda s: s,
        bold=lambda s: f"*{s}*",
        link=lambda label, url: f"{label}: {url}",
        bullet="• ",
    )


def to_plain(text: str) -> str:
    """Plain text for the terminal and the web page (which escapes it when inserting)."""
    return _render(
        text,
        plain=lambda s: s,
        bold=lambda s: s,
        link=lambda label, url: f"{label} ({url})",
        bullet="• ",
    )


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph boundaries, then lines, then words, so every piece fits `limit`."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for sep in ("\n\n", "\n", " "):
        parts = text.split(sep)
        if len(parts) > 1:
            current = ""
            for part in parts:
                candidate = f"{current}{sep}{part}" if current else part
                if len(candidate) <= limit:
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                current = part
            pieces.append(current)
            return [p for piece in pieces for p in split_text(piece, limit) if p.strip()]
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def escape_markup(text: str) -> str:
    """Neutralise markup in text a person typed before it is echoed inside a reply."""
    return text.replace("**", "* *").replace("](", "] (")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with "…" when longer."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
