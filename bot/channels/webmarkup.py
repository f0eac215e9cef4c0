"""The neutral markup as blocks the web page builds with the DOM: no HTML crosses the wire.

Besides the markup's own links, bare URLs and Indonesian phone numbers become links here (the
page cannot tell a sentence's full stop from a URL's last character, so this side does it).
"""

from __future__ import annotations

import re
from typing import Literal, NotRequired, TypedDict

from bot.markup import inline_tokens


class Inline(TypedDict):
    """A run of text: plain, bold, or a link (http(s), tel: or WhatsApp)."""

    text: str
    bold: NotRequired[bool]
    href: NotRequired[str]


class Block(TypedDict):
    """A paragraph (its lines), a bulleted list or numbered steps (their items)."""

    kind: Literal["p", "ul", "ol"]
    items: list[list[Inline]]


_BULLET = re.compile(r"^- ")
_STEP = re.compile(r"^\d+\. ")
_BARE_URL = re.compile(r"https?://[^\s<>()\[\]{}\"']+")
# Punctuation that ends a sentence rather than a URL: "see https://lapor.go.id." links without ".".
_URL_TAIL = ".,;:!?"
# +62 or a leading 0, then 8-13 digits optionally grouped by single spaces or dashes.
_PHONE = re.compile(r"(?<![\w+])(?:\+62|0)(?:[ -]?\d){8,13}(?!\d)")
_WHATSAPP = re.compile(r"\bWhatsApp\b", re.IGNORECASE)


def _kind(line: str) -> Literal["p", "ul", "ol"]:
    if _BULLET.match(line):
        return "ul"
    return "ol" if _STEP.match(line) else "p"


def to_blocks(text: str) -> list[Block]:
    """Paragraphs split at blank lines; runs of `- ` or `1. ` lines become lists."""
    blocks: list[Block] = []
    previous_blank = True
    for line in text.splitlines():
        if not line.strip():
            previous_blank = True
            continue
        kind = _kind(line)
        body = line[line.index(" ") + 1 :] if kind != "p" else line
        if blocks and not previous_blank and blocks[-1]["kind"] == kind:
            blocks[-1]["items"].append(inline(body))
        else:
            blocks.append({"kind": kind, "items": [inline(body)]})
        previous_blank = False
    return blocks


def inline(line: str) -> list[Inline]:
    """One line's runs; when it holds one mobile number and says WhatsApp, that word links to
    a WhatsApp chat with the number."""
    runs: list[Inline] = []
    for kind, piece, url in inline_tokens(line):
        if kind == "bold":
            runs.append({"text": piece, "bold": True})
        elif kind == "link":
            runs.append({"text": piece, "href": url})
        else:
            runs.extend(_autolink(piece))
    phones = [r["href"] for r in runs if r.get("href", "").startswith("tel:")]
    if len(phones) == 1 and phones[0].startswith("tel:+628"):
        return _link_whatsapp(runs, "https://wa.me/" + phones[0].removeprefix("tel:+"))
    return runs


def _autolink(text: str) -> list[Inline]:
    runs: list[Inline] = []
    pos = 0
    for start, end, href in sorted(_links_in(text)):
        if start < pos:
            continue
        if start > pos:
            runs.append({"text": text[pos:start]})
        runs.append({"text": text[start:end], "href": href})
        pos = end
    if pos < len(text):
        runs.append({"text": text[pos:]})
    return runs


def _links_in(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for m in _BARE_URL.finditer(text):
        url = m.group().rstrip(_URL_TAIL)
        found.append((m.start(), m.start() + len(url), url))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        national = digits[2:] if m.group().startswith("+") else digits[1:]
        found.append((m.start(), m.end(), f"tel:+62{national}"))
    return found


def _link_whatsapp(runs: list[Inline], href: str) -> list[Inline]:
    for i, run in enumerate(runs):
        m = _WHATSAPP.search(run["text"]) if set(run) == {"text"} else None
        if m is not None:
            text = run["text"]
            pieces: list[Inline] = [
                {"text": text[: m.start()]},
                {"text": m.group(), "href": href},
                {"text": text[m.end() :]},
            ]
            return [*runs[:i], *(p for p in pieces if p["text"]), *runs[i + 1 :]]
    return runs
