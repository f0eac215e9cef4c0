"""The satisfaction survey (SKM) in chat: `/survei` or the invitation's button, one tap per
element, the profile (each question skippable), an optional suggestion; and the index for staff.

The answers travel in the buttons' action ids (`sv:<service><U1..U9><profile>`, one character
each), so nothing is stored until the last tap, and then without the person's key.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from bot import actions
from bot.chart import skm_chart
from bot.content.books import ELEMENTS, SCALE, SKIPPED, SurveyBook
from bot.context import Context
from bot.core import Option, Reply
from bot.markup import escape_markup
from bot.skm import format_value, report_rows
from bot.store import survey as survey_store

ANSWERS = "".join(str(value) for value in range(1, SCALE + 1))
COMMENTS_SHOWN = 5


def valid_state(book: SurveyBook, state: str) -> bool:
    """Whether `state` is a prefix of a complete survey: service, answers, profile codes."""
    if not state:
        return True
    if not state[0].isdecimal() or int(state[0]) >= len(book.services):
        return False
    answers, profile = state[1 : 1 + ELEMENTS], state[1 + ELEMENTS :]
    if any(answer not in ANSWERS for answer in answers):
        return False
    if len(profile) > len(book.profile):
        return False
    return all(
        code == SKIPPED or code in question.codes()
        for code, question in zip(profile, book.profile, strict=False)
    )


def survey_length(book: SurveyBook) -> int:
    return 1 + ELEMENTS + len(book.profile)


async def take_survey(ctx: Context, arg: str) -> list[Reply]:
    """`/survei` (`/survey`): start the survey."""
    return await answer_survey(ctx, "")


async def answer_survey(ctx: Context, state: str) -> list[Reply]:
    """A tap in the survey (`sv:<state>`): ask the next question, or store the finished one."""
    book = ctx.content.survey
    if not valid_state(book, state):
        return ctx.unknown_action()
    if len(state) <= 1:
        async with ctx.store.transaction() as db:
            again = await survey_store.begin(
                db, ctx.incoming.channel, ctx.incoming.chat_key, ctx.today()
            )
        if again is not None:
            text = ctx.t("skm.already", date=again.strftime("%d-%m-%Y"))
            return [ctx.reply(text, ctx.menu_button())]
    if not state:
        options = [
            Option(f"{actions.SURVEY}:{i}", s.name.get(ctx.lang))
            for i, s in enumerate(book.services)
        ]
        return [ctx.reply(ctx.t("skm.intro"), *options)]
    answered = len(state) - 1
    if answered < ELEMENTS:
        element = book.elements[answered]
        text = ctx.t(
            "skm.element",
            number=answered + 1,
            total=ELEMENTS,
            question=element.question.get(ctx.lang),
        )
        options = [
            Option(f"{actions.SURVEY}:{state}{value}", label.get(ctx.lang))
            for value, label in zip(ANSWERS, element.scale, strict=True)
        ]
        return [ctx.reply(text, *options)]
    if len(state) < survey_length(book):
        return [profile_question(ctx, book, state)]
    return await submit_survey(ctx, book, state)


def profile_question(ctx: Context, book: SurveyBook, state: str) -> Reply:
    """A profile question with its options, "skip" and "skip the rest and send"."""
    question = book.profile[len(state) - 1 - ELEMENTS]
    rest = survey_length(book) - len(state)
    options = [
        Option(f"{actions.SURVEY}:{state}{o.code}", o.label.get(ctx.lang)) for o in question.options
    ]
    options.append(ctx.option(f"{actions.SURVEY}:{state}{SKIPPED}", "skm.btn_skip"))
    if rest > 1:
        options.append(ctx.option(f"{actions.SURVEY}:{state}{SKIPPED * rest}", "skm.btn_skip_rest"))
    return ctx.reply(question.question.get(ctx.lang), *options)


async def submit_survey(ctx: Context, book: SurveyBook, state: str) -> list[Reply]:
    """Store the finished survey once; invite a suggestion."""
    profile = tuple(None if c == SKIPPED else c for c in state[1 + ELEMENTS :])
    response = survey_store.Response(
        ctx.today().isoformat(),
        book.services[int(state[0])].id,
        tuple(int(answer) for answer in state[1 : 1 + ELEMENTS]),
        profile,
    )
    async with ctx.store.transaction() as db:
        stored = await survey_store.submit(
            db, ctx.incoming.channel, ctx.incoming.chat_key, ctx.store.clock(), response
        )
    if not stored:
        return [ctx.reply(ctx.t("skm.not_open"), ctx.menu_button())]
    return [ctx.reply(ctx.t("skm.thanks"), ctx.option(actions.SURVEY_DONE, "skm.btn_done"))]


async def take_comment(ctx: Context, text: str) -> list[Reply] | None:
    """The suggestion typed right after the survey; None when none is awaited."""
    channel, chat_key = ctx.incoming.channel, ctx.incoming.chat_key
    now = ctx.store.clock()
    if not await survey_store.awaiting_comment(ctx.store.db, channel, chat_key, now):
        return None
    async with ctx.store.transaction() as db:
        await survey_store.end_comment(db, channel, chat_key)
        await survey_store.add_comment(db, ctx.today(), text.strip())
    return [ctx.reply(ctx.t("skm.comment_thanks"), ctx.menu_button())]


async def close_survey(ctx: Context, arg: str) -> list[Reply]:
    """ "Done" after the survey, or "not now" under an invitation."""
    async with ctx.store.transaction() as db:
        await survey_store.end_comment(db, ctx.incoming.channel, ctx.incoming.chat_key)
    return [ctx.reply(ctx.t("skm.closed"), ctx.menu_button())]


def month_bounds(month: str) -> tuple[dt.date, dt.date] | None:
    """ "2026-11" → its first and last day; None when it is not a month."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


async def skm_statistics(ctx: Context, month: str) -> list[Reply]:
    """The month's index for staff: per service and together, the nine element averages and
    the latest suggestions, with a chart of the averages."""
    bounds = month_bounds(month)
    if bounds is None:
        return [ctx.reply(ctx.t("skm.bad_month"))]
    book = ctx.content.survey
    answers = await survey_store.responses(ctx.store.db, *bounds)
    rows = report_rows(answers)
    lines = [ctx.t("skm.stats_title", month=month)]
    if not rows:
        return [Reply("\n".join([*lines, ctx.t("skm.stats_none")]))]
    names = {s.id: s.name.get(ctx.lang) for s in book.services}
    for row in rows:
        index = row.index
        lines.append(
            ctx.t(
                "skm.stats_line",
                service=names.get(row.service, ctx.t("skm.all_services")),
                count=index.respondents,
                value=format_value(index.value, ctx.lang),
                grade=index.grade,
            )
        )
    together = rows[-1].index
    lines.append(ctx.t("skm.stats_elements"))
    for number, (element, average) in enumerate(
        zip(book.elements, together.averages, strict=True), start=1
    ):
        name = element.name.get(ctx.lang)
        lines.append(f"- U{number} {name}: {format_value(average, ctx.lang)}")
    suggestions = (await survey_store.comments(ctx.store.db, *bounds))[-COMMENTS_SHOWN:]
    if suggestions:
        lines.append(ctx.t("skm.stats_comments"))
        lines += [f"- {escape_markup(text)}" for text in suggestions]
    title = ctx.t(
        "skm.chart_title",
        month=month,
        value=format_value(together.value, ctx.lang),
        grade=together.grade,
    )
    png = await asyncio.to_thread(skm_chart, together.averages, title)
    return [Reply("\n".join(lines), image=png)]
