"""The shape of the survey (content/survey.yaml) and the expiry reminders
(content/reminders.yaml), as pydantic models."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from bot.content.models import Slug, Source, Strict, Text

ELEMENTS = 9  # PermenPANRB 14/2017 counts nine elements (U1-U9)
SCALE = 4  # each on a four-point scale
SKIPPED = "-"  # a profile question the respondent skipped


class SurveyService(Strict):
    """A service a respondent rates; its index is reported separately."""

    id: str = Slug
    name: Text
    queue_letters: list[str] = Field(default_factory=list)
    handover: bool = False


class SurveyElement(Strict):
    id: str = Slug
    name: Text
    question: Text
    scale: list[Text] = Field(min_length=SCALE, max_length=SCALE)


class ProfileOption(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9]$")
    label: Text


class ProfileQuestion(Strict):
    id: str = Slug
    question: Text
    options: list[ProfileOption] = Field(min_length=2, max_length=8)

    def codes(self) -> list[str]:
        return [option.code for option in self.options]


class SurveyBook(Strict):
    regulation: str
    unverified: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    reviewed: dt.date
    services: list[SurveyService] = Field(min_length=1, max_length=10)
    elements: list[SurveyElement] = Field(min_length=ELEMENTS, max_length=ELEMENTS)
    profile: list[ProfileQuestion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_handover_service(self) -> SurveyBook:
        if sum(service.handover for service in self.services) != 1:
            raise ValueError("exactly one service must have handover: true")
        return self

    def service_for_letter(self, letter: str) -> int | None:
        """The index of the service a queue counter's tickets are rated as."""
        return next((i for i, s in enumerate(self.services) if letter in s.queue_letters), None)

    @property
    def handover_service(self) -> int:
        return next(i for i, s in enumerate(self.services) if s.handover)


class ReminderDocument(Strict):
    """A document people can be reminded of before it expires."""

    id: str = Slug
    name: Text
    lead_months: list[int] = Field(default_factory=list)
    lead_days: list[int] = Field(default_factory=list)
    topic: str
    max_years: int = Field(ge=1, le=10)

    @model_validator(mode="after")
    def _one_kind_of_lead(self) -> ReminderDocument:
        if bool(self.lead_months) == bool(self.lead_days):
            raise ValueError("give either lead_months or lead_days")
        if any(lead <= 0 for lead in self.lead_months + self.lead_days):
            raise ValueError("lead times must be positive")
        return self


class ReminderBook(Strict):
    documents: list[ReminderDocument] = Field(min_length=1)

    def document(self, document_id: str) -> ReminderDocument | None:
        return next((d for d in self.documents if d.id == document_id), None)
