"""The public-satisfaction index (Indeks/Survei Kepuasan Masyarakat) as PermenPANRB 14/2017
computes it, the report per month and service (chat, CLI, CSV), and the invitation sent after
a service event.

The arithmetic: the average answer of each of the nine elements (nilai rata-rata, NRR), each
weighted 1/9 (the regulation's "jumlah bobot / jumlah unsur", printed as 0.111), summed, and
multiplied by 25 to land on the 25-100 scale; the grade follows the regulation's intervals.
The exact 1/9 is used, not 0.111: with 0.111 a unit whose every answer is 4 would score 99.9.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO
from zoneinfo import ZoneInfo

from bot import actions
from bot.content import Content
from bot.content.books import ELEMENTS
from bot.core import Lang, Option, Reply
from bot.store import survey as survey_store
from bot.store.db import Connection
from bot.store.outbox import BULK, enqueue

WEIGHT = 1 / ELEMENTS
CONVERSION = 25
# Lowest converted index of each grade (mutu pelayanan); below the last one is D.
GRADES: tuple[tuple[Decimal, str], ...] = (
    (Decimal("88.31"), "A"),
    (Decimal("76.61"), "B"),
    (Decimal("65.00"), "C"),
)
LOWEST_GRADE = "D"
ALL_SERVICES = "all"
OFFER_KEY = "skm-offer"


@dataclass(frozen=True)
class Index:
    """The index of a set of responses."""

    respondents: int
    averages: tuple[float, ...]  # NRR per element, U1-U9
    value: Decimal  # 25.00-100.00, two decimals
    grade: str


def grade_of(value: Decimal) -> str:
    return next((grade for low, grade in GRADES if value >= low), LOWEST_GRADE)


def index_of(responses: Sequence[Sequence[int]]) -> Index | None:
    """The index of complete responses (nine answers on 1-4 each); None for none."""
    if not responses:
        return None
    averages = tuple(sum(r[i] for r in responses) / len(responses) for i in range(ELEMENTS))
    weighted = sum(average * WEIGHT for average in averages)
    value = Decimal(repr(weighted * CONVERSION)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Index(len(responses), averages, value, grade_of(value))


@dataclass(frozen=True)
class ReportRow:
    month: str  # YYYY-MM
    service: str  # a service id, or ALL_SERVICES
    index: Index


def report_rows(responses: Iterable[survey_store.Response]) -> list[ReportRow]:
    """Per month: every service that has responses, then all services together."""
    by_month: dict[str, dict[str, list[tuple[int, ...]]]] = {}
    for response in responses:
        services = by_month.setdefault(response.day[:7], {})
        services.setdefault(response.service, []).append(response.answers)
    rows: list[ReportRow] = []
    for month, services in sorted(by_month.items()):
        for service, answers in sorted(services.items()):
            rows.append(ReportRow(month, service, _index(answers)))
        every = [answer for answers in services.values() for answer in answers]
        rows.append(ReportRow(month, ALL_SERVICES, _index(every)))
    return rows


def _index(answers: list[tuple[int, ...]]) -> Index:
    index = index_of(answers)
    assert index is not None  # only services with answers are grouped
    return index


def write_csv(rows: Sequence[ReportRow], out: TextIO) -> None:
    """The report as CSV: one row per month and service, the nine NRR, the index and grade."""
    writer = csv.writer(out)
    elements = [f"nrr_u{i + 1}" for i in range(ELEMENTS)]
    writer.writerow(["month", "service", "respondents", *elements, "ikm", "grade"])
    for row in rows:
        index = row.index
        writer.writerow(
            [
                row.month,
                row.service,
                index.respondents,
                *(f"{average:.3f}" for average in index.averages),
                f"{index.value:.2f}",
                index.grade,
            ]
        )


def report_lines(rows: Sequence[ReportRow]) -> list[str]:
    """The report as an aligned table for the terminal (the CSV has the same columns)."""
    elements = " ".join(f"{f'U{i + 1}':>5}" for i in range(ELEMENTS))
    lines = [f"{'month':7}  {'service':14} {'n':>5}  {elements}  {'IKM':>6}  grade"]
    for row in rows:
        index = row.index
        averages = " ".join(f"{average:5.2f}" for average in index.averages)
        lines.append(
            f"{row.month:7}  {row.service:14} {index.respondents:5}  {averages}  "
            f"{index.value:6.2f}  {index.grade}"
        )
    if not rows:
        lines.append("(no responses in this period)")
    return lines


def format_value(value: Decimal | float, lang: Lang, places: int = 2) -> str:
    """83,33 in Indonesian, 83.33 in English."""
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if lang == "id" else text


def offer_reply(content: Content, lang: Lang, service: int) -> Reply:
    """The invitation: start (the service already known) or not now."""
    name = content.survey.services[service].name.get(lang)
    return Reply(
        content.t("skm.offer", lang, service=name),
        (
            Option(f"{actions.SURVEY}:{service}", content.t("skm.btn_start", lang)),
            Option(actions.SURVEY_DONE, content.t("skm.btn_not_now", lang)),
        ),
    )


async def offer_survey(
    db: Connection,
    content: Content,
    where: tuple[str, str],
    lang: Lang,
    service: int,
    now: dt.datetime,
    zone: ZoneInfo,
) -> bool:
    """After a service event, invite the person (channel, chat key) through the outbox in the
    caller's transaction, unless they were invited within the last 30 days; True if invited."""
    channel, chat_key = where
    today = now.astimezone(zone).date()
    if not await survey_store.invite(db, channel, chat_key, today):
        return False
    key = f"{OFFER_KEY}:{channel}:{chat_key}:{today.isoformat()}"
    return await enqueue(
        db, key, channel, chat_key, [offer_reply(content, lang, service)], now, priority=BULK
    )
