"""The shape of every content file, as pydantic models (validation is the content check)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core import Lang

Slug = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\d{2}\.\d{2}-\d{2}\.\d{2}$")

MIN_TOPIC_QUESTIONS = 8
MIN_NEIGHBOUR_QUESTIONS = 4
MAX_TITLE_CHARS = 60


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in both languages."""

    id: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.id


class Phrases(Strict):
    """Phrases per language (sample questions, keywords)."""

    id: list[str] = []
    en: list[str] = []

    def get(self, lang: Lang) -> list[str]:
        return self.en if lang == "en" else self.id


class Source(Strict):
    title: str = Field(min_length=3)
    url: str = Field(pattern=r"^https?://\S+$")
    date: dt.date | None
    checked: dt.date | None = None  # when a person last re-read it; the topic's `reviewed` if unset


class Topic(Strict):
    id: str = Slug
    category: Literal["paspor", "wna", "kantor"]
    title: Text
    summary: Text
    body: Text
    questions: Phrases
    keywords: Phrases = Phrases()
    related: list[str] = []
    unverified: list[str] = []
    sources: list[Source] = Field(min_length=1)
    reviewed: dt.date

    @field_validator("title")
    @classmethod
    def _short_title(cls, value: Text) -> Text:
        for text in (value.id, value.en):
            if len(text) > MAX_TITLE_CHARS:
                raise ValueError(f"longer than {MAX_TITLE_CHARS} characters: {text!r}")
        return value

    @field_validator("questions")
    @classmethod
    def _enough_questions(cls, value: Phrases) -> Phrases:
        for lang in ("id", "en"):
            if len(value.get(lang)) < MIN_TOPIC_QUESTIONS:
                raise ValueError(f"{lang}: at least {MIN_TOPIC_QUESTIONS} sample questions needed")
        return value


class Fee(Strict):
    label: Text
    amount: int = Field(ge=0)
    basis: str = Field(min_length=2)
    effective: dt.date | None = None
    unverified: bool = False
    note: str | None = None
    sources: list[str] = []


# A value with no words (a link, a phone number, an SMS code) reads the same in both languages.
_NEUTRAL = re.compile(r"^(https?://\S+|[+\d][\d\s()+-]*)$")


class Fact(Strict):
    value: str | Text
    unverified: bool = False
    note: str | None = None
    sources: list[str] = []

    @field_validator("value")
    @classmethod
    def _both_languages(cls, value: str | Text) -> str | Text:
        if isinstance(value, str) and not _NEUTRAL.match(value):
            raise ValueError("English value missing: write it as {id: ..., en: ...}")
        return value

    def get(self, lang: Lang) -> str:
        return self.value if isinstance(self.value, str) else self.value.get(lang)


class Hours(Strict):
    unverified: bool = False
    sources: list[str] = []
    days: dict[Weekday, str | None]

    @field_validator("days")
    @classmethod
    def _all_days(cls, value: dict[Weekday, str | None]) -> dict[Weekday, str | None]:
        missing = [day for day in WEEKDAYS if day not in value]
        if missing:
            raise ValueError(f"missing weekdays: {', '.join(missing)}")
        for day, span in value.items():
            if span is not None and not _HOURS.match(span):
                raise ValueError(f"{day}: write hours as 08.00-14.00, or null when closed")
        return value

    def span(self, weekday: int) -> tuple[dt.time, dt.time] | None:
        """Opening and closing time on a weekday (Monday = 0), or None when closed."""
        text = self.days[WEEKDAYS[weekday]]
        if text is None:
            return None
        start, end = text.split("-")
        return _time(start), _time(end)


def _time(text: str) -> dt.time:
    hour, minute = text.split(".")
    return dt.time(int(hour), int(minute))


class Place(Strict):
    name: str
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    map_url: str = Field(pattern=r"^https?://\S+$")


class ServiceEntry(Strict):
    name: Text
    where: str
    confirmed: bool
    alternative: Text | None = None
    sources: list[str] = []


class Office(Strict):
    hours: Hours
    location: Place
    facts: dict[str, Fact]
    services: list[ServiceEntry] = []


class FeeBook(Strict):
    fees: dict[str, Fee]


class Neighbour(Strict):
    id: str = Slug
    title: Text
    agency: Text
    redirect: Text
    questions: Phrases

    @field_validator("questions")
    @classmethod
    def _enough_questions(cls, value: Phrases) -> Phrases:
        if len(value.id) + len(value.en) < MIN_NEIGHBOUR_QUESTIONS:
            raise ValueError(f"at least {MIN_NEIGHBOUR_QUESTIONS} sample questions needed")
        return value


class NeighbourBook(Strict):
    neighbours: list[Neighbour]


class LanguageRules(Strict):
    """content/language.yaml: words that mark Indonesian left in an English text."""

    indonesian_only: list[str] = Field(min_length=1)


class Lexicon(Strict):
    """content/lexicon.yaml: how the matcher reads informal Indonesian and English."""

    phrases: dict[str, str]
    slang: dict[str, str]
    english: dict[str, str]
    stopwords: list[str]
    english_markers: list[str]
    doc_types: dict[str, list[str]]
    vague: list[str] = []  # words that ask about a topic without naming it ("biaya", "syarat")
    anchors: list[str] = []  # words that say a message is for this office ("kantor", "min")
    # The anchors that name a place or a person (kantor, loket, petugas, min…), not a document:
    # followed by one of `someone_elses` ("kantor polisi", "kantor gue", "loket bank") they are
    # someone else's and do not anchor.
    place_anchors: list[str] = []
    someone_elses: list[str] = []
    # A message of words from these two lists only, one at least from `office` ("buka jam 8?",
    # "lantai brp"), names no other place: it asks about this office.
    office: list[str] = []
    office_context: list[str] = []
    question_words: list[str] = []  # a part of a message with one of these asks something
    neutral_words: list[str] = []  # names read the same in both languages: no language clue


class QueueService(Strict):
    """One counter of the queue: its ticket letter, name and fallback pace."""

    letter: str = Field(pattern=r"^[A-Z]$")
    name: Text
    minutes_per_call: float = Field(gt=0, le=240)


class QueueBook(Strict):
    """content/queue.yaml: the services with a letter each and when alerts go out."""

    alert_ahead: int = Field(ge=1, le=50)
    services: list[QueueService] = Field(min_length=1)

    def service(self, letter: str) -> QueueService | None:
        return next((s for s in self.services if s.letter == letter.upper()), None)

    @property
    def letters(self) -> str:
        return "".join(s.letter for s in self.services)


class RoutePhrases(Strict):
    """content/routes.yaml: phrases for the queue, announcements, an officer, questions
    nobody here handles (`elsewhere`: declined with the menu), small talk."""

    queue: Phrases
    announcements: Phrases
    human: Phrases
    elsewhere: Phrases = Phrases()
    smalltalk: dict[str, Phrases]
