"""Load the content folder into models, check it whole, and render texts with placeholders.

Placeholders: `{fee:KEY}` (fees.yaml), `{office:KEY}` (office.yaml facts), `{office:hours}`
(the weekly table), `{office:hours_caveat}` (the caveat while the hours are unconfirmed) and,
in UI strings, `{name}` filled by the caller. `[[claim]]` marks an unconfirmed claim in a text.
Every unconfirmed fact is rendered with the `unverified_mark` caveat right after it: the
renderer adds it, so no text can show such a fact without it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.content.books import ReminderBook, SurveyBook
from bot.content.models import (
    WEEKDAYS,
    Fee,
    FeeBook,
    LanguageRules,
    Lexicon,
    Neighbour,
    NeighbourBook,
    Office,
    QueueBook,
    RoutePhrases,
    Text,
    Topic,
)
from bot.core import LANGS, Lang
from bot.limits import CHANNEL_TEXT_LIMITS
from bot.markup import split_text

REQUIRED_TOPIC_IDS: tuple[str, ...] = (
    "paspor-baru", "paspor-perpanjang", "paspor-anak", "paspor-hilang", "paspor-rusak",
    "paspor-elektronik", "paspor-biaya", "paspor-percepatan", "paspor-pengambilan", "m-paspor",
    "paspor-pmi", "paspor-ubah-data", "paspor-haji-umrah",
    "itas", "itas-perpanjang", "itap", "alih-status", "izin-masuk-kembali",
    "visa-kunjungan-perpanjang", "overstay", "affidavit", "pelaporan-orang-asing",
    "izin-tinggal-biaya",
    "jam-layanan", "lokasi", "kontak", "pengaduan", "calo", "layanan-tersedia", "antrian-info",
    "pembayaran", "pakaian-foto", "visa-negara-lain",
    "ktp-belum-terbit", "data-berbeda", "permohonan-ditolak", "m-paspor-kendala", "fotokopi",
    "layanan-kolektif", "layanan-prioritas", "studi-kerja-luar-negeri", "status-permohonan",
)  # fmt: skip
CATEGORIES = ("paspor", "wna", "kantor")
_TOPIC_TEXTS = ("title", "summary", "body")
STALE_AFTER_DAYS = 180

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([a-z0-9_]+))?\}")
_BRACE = re.compile(r"[{}]")
_CLAIM = re.compile(r"\[\[([^\[\]]+)\]\]")  # [[an unconfirmed claim]]
_CLAIM_BRACKET = re.compile(r"\[\[|\]\]")
# Left out of the English check: links, commands (/buka A) and "quoted" local terms, which are
# Indonesian on purpose (what to ask for at the counter).
_NOT_PROSE = re.compile(r"https?://\S+|/\w+|\"[^\"\n]*\"")
_WORD = re.compile(r"[^\W\d_]+")
# `{office:KEY}` keys computed from the hours rather than read from `facts:`.
_OFFICE_COMPUTED = ("hours", "hours_caveat")
M = TypeVar("M", bound=BaseModel)
# libyaml's safe loader when PyYAML was built with it (the wheels are): ~10x faster at start.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Fault:
    """One problem in the content, printed as `file: field: problem`."""

    file: str
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.problem}"


class ContentError(Exception):
    """The content has faults; `faults` lists every one."""

    def __init__(self, faults: list[Fault]) -> None:
        super().__init__(f"{len(faults)} content fault(s)")
        self.faults = faults


@dataclass(frozen=True)
class Content:
    """Everything the bot says, loaded and checked."""

    root: Path
    topics: dict[str, Topic]
    fees: dict[str, Fee]
    office: Office
    neighbours: tuple[Neighbour, ...]
    ui: dict[str, Text]
    lexicon: Lexicon
    routes: RoutePhrases
    queue: QueueBook
    survey: SurveyBook
    reminders: ReminderBook
    language: LanguageRules

    def t(self, key: str, lang: Lang, **values: object) -> str:
        """A UI string in `lang`, placeholders and `{name}` values filled in."""
        return self.fill(self.ui[key].get(lang), lang, **values)

    def fill(self, text: str, lang: Lang, **values: object) -> str:
        """Replace every placeholder in `text`; unknown ones raise KeyError (check catches it)."""

        def one(match: re.Match[str]) -> str:
            name, key = match.group(1), match.group(2)
            if key is None:
                return str(values[name])
            if name == "fee":
                return self._fee_text(key, lang)
            if name == "office":
                return self._office_text(key, lang)
            raise KeyError(f"{name}:{key}")

        # Claims are marked in the template before values are filled in, so text a caller
        # passes (an announcement, a question) is never taken for a claim.
        marked = _CLAIM.sub(lambda m: m.group(1) + self._mark(True, lang), text)
        return _PLACEHOLDER.sub(one, marked)

    def topics_in(self, category: str) -> list[Topic]:
        return [topic for topic in self.topics.values() if topic.category == category]

    def topic_text(self, topic: Topic, lang: Lang) -> str:
        """A topic as a person reads it: title, short answer, details."""
        parts = [f"**{topic.title.get(lang)}**", topic.summary.get(lang), topic.body.get(lang)]
        return self.fill("\n\n".join(part.strip() for part in parts), lang)

    def _mark(self, unverified: bool, lang: Lang) -> str:
        return f" {self.ui['unverified_mark'].get(lang)}" if unverified else ""

    def _fee_text(self, key: str, lang: Lang) -> str:
        fee = self.fees[key]
        return format_rupiah(fee.amount, lang) + self._mark(fee.unverified, lang)

    def _office_text(self, key: str, lang: Lang) -> str:
        if key == "hours":
            return self.hours_text(lang)
        if key == "hours_caveat":
            return self._mark(self.office.hours.unverified, lang)
        fact = self.office.facts[key]
        return fact.get(lang) + self._mark(fact.unverified, lang)

    def hours_text(self, lang: Lang) -> str:
        """The weekly hours as bullet lines, consecutive days with equal hours grouped; while
        they are unconfirmed every line carries the caveat, so no day reads as confirmed."""
        hours = self.office.hours
        lines: list[str] = []
        day_names = self.ui["weekdays"].get(lang).split(",")
        i = 0
        while i < len(WEEKDAYS):
            j = i
            while j + 1 < len(WEEKDAYS) and hours.days[WEEKDAYS[j + 1]] == hours.days[WEEKDAYS[i]]:
                j += 1
            span = hours.days[WEEKDAYS[i]] or self.ui["closed"].get(lang)
            days = (
                day_names[i].strip() if i == j else f"{day_names[i].strip()}–{day_names[j].strip()}"
            )
            lines.append(f"- {days}: {span}{self._mark(hours.unverified, lang)}")
            i = j + 1
        return "\n".join(lines)


def format_rupiah(amount: int, lang: Lang) -> str:
    """Rp650.000 in Indonesian, Rp650,000 in English; Rp0 shown as free."""
    grouped = f"{amount:,}"
    return "Rp" + (grouped.replace(",", ".") if lang == "id" else grouped)


def _read_yaml(path: Path, root: Path, faults: list[Fault]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except FileNotFoundError:
        faults.append(Fault(_rel(path, root), "-", "file is missing"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}" if where is not None else "-"
        faults.append(
            Fault(_rel(path, root), line, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        )
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _parse(model: type[M], data: Any, file: str, faults: list[Fault]) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "-"
            faults.append(Fault(file, field, error["msg"].removeprefix("Value error, ")))
    return None


def _load(root: Path) -> tuple[Content | None, list[Fault]]:
    faults: list[Fault] = []
    if not root.is_dir():
        return None, [Fault(str(root), "-", "content folder does not exist")]

    topics: dict[str, Topic] = {}
    topic_files: dict[str, str] = {}
    for path in sorted((root / "topics").glob("*.yaml")):
        file = _rel(path, root)
        topic = _parse(Topic, _read_yaml(path, root, faults), file, faults)
        if topic is None:
            continue
        if topic.id != path.stem:
            faults.append(Fault(file, "id", f"{topic.id!r} does not match the file name"))
        if topic.id in topics:
            faults.append(Fault(file, "id", f"duplicate id, also in {topic_files[topic.id]}"))
        topics[topic.id] = topic
        topic_files[topic.id] = file

    fee_book = _parse(
        FeeBook, _read_yaml(root / "fees.yaml", root, faults), "content/fees.yaml", faults
    )
    office = _parse(
        Office, _read_yaml(root / "office.yaml", root, faults), "content/office.yaml", faults
    )
    neighbour_book = _parse(
        NeighbourBook,
        _read_yaml(root / "neighbours.yaml", root, faults),
        "content/neighbours.yaml",
        faults,
    )
    lexicon = _parse(
        Lexicon, _read_yaml(root / "lexicon.yaml", root, faults), "content/lexicon.yaml", faults
    )
    routes = _parse(
        RoutePhrases, _read_yaml(root / "routes.yaml", root, faults), "content/routes.yaml", faults
    )
    queue = _parse(
        QueueBook, _read_yaml(root / "queue.yaml", root, faults), "content/queue.yaml", faults
    )
    survey = _parse(
        SurveyBook, _read_yaml(root / "survey.yaml", root, faults), "content/survey.yaml", faults
    )
    reminders = _parse(
        ReminderBook,
        _read_yaml(root / "reminders.yaml", root, faults),
        "content/reminders.yaml",
        faults,
    )
    language = _parse(
        LanguageRules,
        _read_yaml(root / "language.yaml", root, faults),
        "content/language.yaml",
        faults,
    )
    ui_data = _read_yaml(root / "ui.yaml", root, faults)
    ui: dict[str, Text] = {}
    if isinstance(ui_data, dict):
        for key, value in ui_data.items():
            text = _parse(Text, value, "content/ui.yaml", faults)
            if text is not None:
                ui[str(key)] = text
    elif ui_data is not None:
        faults.append(Fault("content/ui.yaml", "-", "must map each key to {id: ..., en: ...}"))

    if (
        fee_book is None
        or office is None
        or neighbour_book is None
        or lexicon is None
        or routes is None
        or queue is None
        or survey is None
        or reminders is None
        or language is None
    ):
        return None, faults
    if faults:
        return None, faults
    content = Content(
        root,
        topics,
        fee_book.fees,
        office,
        tuple(neighbour_book.neighbours),
        ui,
        lexicon,
        routes,
        queue,
        survey,
        reminders,
        language,
    )
    faults.extend(_cross_check(content, topic_files))
    return content, faults


def _cross_check(content: Content, topic_files: dict[str, str]) -> Iterator[Fault]:
    """Checks that need the whole content: ids, links, placeholders, channel limits."""
    for required in REQUIRED_TOPIC_IDS:
        if required not in content.topics:
            yield Fault("content/topics", "id", f"required topic {required!r} is missing")
    for key in ("unverified_mark", "weekdays", "closed"):
        if key not in content.ui:
            yield Fault("content/ui.yaml", key, "required UI string is missing")
    for kind in content.routes.smalltalk:
        if f"smalltalk.{kind}" not in content.ui:
            yield Fault("content/ui.yaml", f"smalltalk.{kind}", "reply for this small talk missing")
    letters = content.queue.letters
    for dup in sorted({letter for letter in letters if letters.count(letter) > 1}):
        yield Fault("content/queue.yaml", "services.letter", f"duplicate letter {dup!r}")
    for document in content.reminders.documents:
        if document.topic not in content.topics:
            yield Fault("content/reminders.yaml", document.id, f"unknown topic {document.topic!r}")
    neighbour_ids = [n.id for n in content.neighbours]
    for dup in {i for i in neighbour_ids if neighbour_ids.count(i) > 1}:
        yield Fault("content/neighbours.yaml", "id", f"duplicate id {dup!r}")
    if any(key not in content.ui for key in ("unverified_mark", "weekdays", "closed")):
        return

    for topic_id, topic in content.topics.items():
        file = topic_files[topic_id]
        for related in topic.related:
            if related not in content.topics:
                yield Fault(file, "related", f"unknown topic id {related!r}")
        for lang in LANGS:
            for field in _TOPIC_TEXTS:
                text: Text = getattr(topic, field)
                yield from _placeholder_faults(
                    content, text.get(lang), lang, file, f"{field}.{lang}"
                )
            yield from _limit_faults(content, topic, lang, file)
        yield from _claim_faults(topic, file)
    for key, text in content.ui.items():
        for lang in LANGS:
            yield from _placeholder_faults(
                content, text.get(lang), lang, "content/ui.yaml", f"{key}.{lang}", ui=True
            )
    for neighbour in content.neighbours:
        for lang in LANGS:
            yield from _placeholder_faults(
                content,
                neighbour.redirect.get(lang),
                lang,
                "content/neighbours.yaml",
                f"{neighbour.id}.redirect.{lang}",
            )
    yield from _indonesian_faults(content, topic_files)


def _placeholder_faults(
    content: Content, text: str, lang: Lang, file: str, field: str, ui: bool = False
) -> Iterable[Fault]:
    for match in _PLACEHOLDER.finditer(text):
        name, key = match.group(1), match.group(2)
        if key is None:
            if not ui:
                yield Fault(file, field, f"unknown placeholder {match.group(0)}")
            continue
        known = (name == "fee" and key in content.fees) or (
            name == "office" and (key in _OFFICE_COMPUTED or key in content.office.facts)
        )
        if not known:
            yield Fault(file, field, f"unknown placeholder {match.group(0)}")
    if _BRACE.search(_PLACEHOLDER.sub("", text)):
        yield Fault(file, field, "stray { or } (placeholders look like {fee:KEY} or {office:KEY})")
    if _CLAIM_BRACKET.search(_CLAIM.sub("", text)):
        yield Fault(file, field, "unclosed or nested [[ ]] (an unconfirmed claim is [[text]])")


def _claim_faults(topic: Topic, file: str) -> Iterable[Fault]:
    """Both languages caveat the same number of claims, and each is listed for staff."""
    counts = {
        lang: sum(len(_CLAIM.findall(getattr(topic, f).get(lang))) for f in _TOPIC_TEXTS)
        for lang in LANGS
    }
    if counts["id"] != counts["en"]:
        yield Fault(
            file,
            "body",
            f"[[unconfirmed]] claims differ between languages: id {counts['id']}, "
            f"en {counts['en']}",
        )
    if max(counts.values()) > 0 and not topic.unverified:
        yield Fault(file, "unverified", "the text marks [[claims]]: list what is unconfirmed")


def _english_texts(content: Content, topic_files: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(file, field, text) for every English text a person can be shown."""
    for topic_id, topic in content.topics.items():
        for field in _TOPIC_TEXTS:
            yield topic_files[topic_id], f"{field}.en", getattr(topic, field).en
    for key, text in content.ui.items():
        yield "content/ui.yaml", f"{key}.en", text.en
    for key, fact in content.office.facts.items():
        yield "content/office.yaml", f"facts.{key}.value.en", fact.get("en")
    for i, service in enumerate(content.office.services):
        yield "content/office.yaml", f"services.{i}.name.en", service.name.en
        if service.alternative is not None:
            yield "content/office.yaml", f"services.{i}.alternative.en", service.alternative.en
    for key, fee in content.fees.items():
        yield "content/fees.yaml", f"fees.{key}.label.en", fee.label.en
    for neighbour in content.neighbours:
        for field in ("title", "agency", "redirect"):
            text = getattr(neighbour, field).en
            yield "content/neighbours.yaml", f"{neighbour.id}.{field}.en", text


def _indonesian_faults(content: Content, topic_files: dict[str, str]) -> Iterator[Fault]:
    banned = {word.casefold() for word in content.language.indonesian_only}
    for file, field, text in _english_texts(content, topic_files):
        prose = _NOT_PROSE.sub(" ", _PLACEHOLDER.sub(" ", text))
        found = sorted({w for w in _WORD.findall(prose.casefold()) if w in banned})
        if found:
            yield Fault(file, field, f"Indonesian word(s) in the English text: {', '.join(found)}")


def _limit_faults(content: Content, topic: Topic, lang: Lang, file: str) -> Iterable[Fault]:
    try:
        text = content.topic_text(topic, lang)
    except KeyError:
        return  # already reported as an unknown placeholder
    for channel, limit in CHANNEL_TEXT_LIMITS.items():
        for piece in split_text(text, limit):
            if len(piece) > limit:
                yield Fault(
                    file,
                    f"body.{lang}",
                    f"a piece is {len(piece)} characters, over {channel}'s {limit}",
                )


def check_content(root: Path) -> list[Fault]:
    """Every fault in the content folder (empty when all is well)."""
    return _load(root)[1]


def load_content(root: Path) -> Content:
    """Load and check the content; raise ContentError listing every fault."""
    content, faults = _load(root)
    if faults or content is None:
        raise ContentError(faults)
    return content


def unconfirmed_in(content: Content, topic: Topic) -> list[str]:
    """What a topic shows that is not confirmed: its own `unverified` points, then the
    unconfirmed fees and office facts it quotes (as `fees.KEY` / `office.KEY`)."""
    shared: list[str] = []
    text = "".join(getattr(topic, f).id + getattr(topic, f).en for f in _TOPIC_TEXTS)
    for match in _PLACEHOLDER.finditer(text):
        name, key = match.group(1), match.group(2)
        if name == "fee" and key in content.fees:
            unverified = content.fees[key].unverified
        elif name == "office" and key in _OFFICE_COMPUTED:
            key, unverified = "hours", content.office.hours.unverified
        elif name == "office" and key in content.office.facts:
            unverified = content.office.facts[key].unverified
        else:
            continue
        label = f"fees.{key}" if name == "fee" else f"office.{key}"
        if unverified and label not in shared:
            shared.append(label)
    return [*topic.unverified, *shared]


def report_content(content: Content, today: dt.date) -> list[str]:
    """Unverified facts, topics not reviewed for STALE_AFTER_DAYS, and per topic (most
    unconfirmed first) the count of unconfirmed facts and when each source was last checked."""
    lines: list[str] = []
    for key, fee in content.fees.items():
        if fee.unverified:
            lines.append(f"fees.yaml: {key}: unverified: {fee.note or fee.label.en}")
    if content.office.hours.unverified:
        lines.append(
            "office.yaml: hours: unverified: the UKK counter's own hours are not confirmed"
        )
    for key, fact in content.office.facts.items():
        if fact.unverified:
            lines.append(f"office.yaml: facts.{key}: unverified: {fact.note or fact.get('en')}")
    if content.office.location.lat is None:
        lines.append("office.yaml: location: unverified: map coordinates not set")
    for service in content.office.services:
        if not service.confirmed:
            lines.append(f"office.yaml: services: unconfirmed at the UKK: {service.name.en}")
    ranked = sorted(content.topics.values(), key=lambda t: -len(unconfirmed_in(content, t)))
    for topic in ranked:
        file = f"topics/{topic.id}.yaml"
        points = unconfirmed_in(content, topic)
        lines.append(f"{file}: {len(points)} unconfirmed, reviewed {topic.reviewed}")
        lines.extend(f"{file}: unverified: {point}" for point in points)
        age = (today - topic.reviewed).days
        if age > STALE_AFTER_DAYS:
            lines.append(f"{file}: reviewed: {age} days ago ({topic.reviewed})")
        for source in topic.sources:
            checked = source.checked or topic.reviewed
            lines.append(f"{file}: source checked {checked}: {source.title}")
    return lines
